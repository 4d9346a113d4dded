//! Bindings for file work: corpus -> token file (`encode_files`; the Python wrapper is
//! `fastbpe/token_files.py`) and fastbpe's native tokenizer file as text (`load_native`,
//! `native_to_string`, `native_from_string`: loading and pickling; saving goes through
//! `save_tokenizer` in `py/formats.rs`).

use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::chunk::Utf8Mode;
use crate::encode_file::{self, Dtype, EncodeFileOptions, TokenFormat};
use crate::formats::native;
use crate::monitor::Monitor;

use super::args;
use super::errors::IntoPy;
use super::interrupt::run_interruptible;
use super::shutdown::detach;
use super::tokenizer::CoreTokenizer;

/// More chunks in flight than this only costs memory (the default is `2 * threads + 2`).
const MAX_IN_FLIGHT: usize = 4096;

/// Encodes `inputs` into the token file `output`; returns a dict of statistics.
/// `allowed`: None recognizes every special token, else exactly those listed (may be empty).
/// `threads`: None for all cores; `chunk_size`/`in_flight`: None or 0 for the default.
#[pyfunction]
#[pyo3(signature = (
    tokenizer, inputs, output, *, dtype=None, format=None, allowed=None, separator=None,
    errors="strict", threads=None, chunk_size=None, in_flight=None, progress=false
))]
#[allow(clippy::too_many_arguments)]
fn encode_files<'py>(
    py: Python<'py>,
    tokenizer: &Bound<'py, CoreTokenizer>,
    inputs: Vec<PathBuf>,
    output: PathBuf,
    dtype: Option<&str>,
    format: Option<&str>,
    allowed: Option<Vec<String>>,
    separator: Option<&Bound<'py, PyAny>>,
    errors: &str,
    threads: Option<&Bound<'py, PyAny>>,
    chunk_size: Option<&Bound<'py, PyAny>>,
    in_flight: Option<&Bound<'py, PyAny>>,
    progress: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let tok = &tokenizer.get().inner;
    let separator = match separator.filter(|s| !s.is_none()) {
        None => None,
        Some(s) => Some(
            u32::try_from(args::non_negative(s, "separator")?).map_err(|_| {
                PyValueError::new_err(format!("separator is too large: {s} (ids are below 2**32)"))
            })?,
        ),
    };
    let count = |obj: Option<&Bound<'py, PyAny>>, name: &str| -> PyResult<usize> {
        match obj.filter(|o| !o.is_none()) {
            None => Ok(0),
            Some(o) => Ok(usize::try_from(args::non_negative(o, name)?).unwrap_or(usize::MAX)),
        }
    };
    // 0: the default; too large: refused by `chunk::check_chunk_size`, naming the limit.
    let chunk_size = count(chunk_size, "chunk_size")?;
    let in_flight = count(in_flight, "in_flight")?.min(MAX_IN_FLIGHT);
    let opts = EncodeFileOptions {
        format: format.map(TokenFormat::parse).transpose().py_err()?,
        dtype: dtype.map(Dtype::parse).transpose().py_err()?,
        special: args::special_policy(allowed),
        separator,
        utf8: Utf8Mode::parse(errors).py_err()?,
        chunk_size,
        threads: args::thread_count(threads, "threads")?,
        in_flight,
    };
    let monitor = Monitor::new(progress);
    let stats = run_interruptible(py, &monitor, || {
        encode_file::encode_files(tok, &inputs, &output, &opts, &monitor)
    })?;
    let d = PyDict::new(py);
    d.set_item("bytes", stats.bytes)?;
    d.set_item("tokens", stats.tokens)?;
    d.set_item("chunks", stats.chunks)?;
    d.set_item("files", stats.files)?;
    d.set_item("dtype", stats.dtype.name())?;
    d.set_item("format", stats.format.name())?;
    d.set_item("seconds", stats.seconds)?;
    Ok(d)
}

/// Reads a native tokenizer file: (CoreTokenizer, name or None).
#[pyfunction]
fn load_native(py: Python<'_>, path: PathBuf) -> PyResult<(CoreTokenizer, Option<String>)> {
    let loaded = detach(py, || native::load(&path)).py_err()?;
    Ok((CoreTokenizer::new(loaded.tokenizer), loaded.name))
}

/// The native file's text (for tests and for embedding in other files).
#[pyfunction]
#[pyo3(signature = (tokenizer, name=None))]
fn native_to_string(tokenizer: &Bound<'_, CoreTokenizer>, name: Option<String>) -> String {
    native::write(&tokenizer.get().inner, name.as_deref())
}

/// Parses a native tokenizer file's text (pickled tokenizers): (CoreTokenizer, name or None).
#[pyfunction]
fn native_from_string(py: Python<'_>, text: &str) -> PyResult<(CoreTokenizer, Option<String>)> {
    let loaded = detach(py, || {
        native::parse(text.as_bytes(), std::path::Path::new("<pickled tokenizer>"))
    })
    .py_err()?;
    Ok((CoreTokenizer::new(loaded.tokenizer), loaded.name))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(encode_files, m)?)?;
    m.add_function(wrap_pyfunction!(load_native, m)?)?;
    m.add_function(wrap_pyfunction!(native_to_string, m)?)?;
    m.add_function(wrap_pyfunction!(native_from_string, m)?)?;
    Ok(())
}
