//! Bindings for file work: corpus -> token file (`encode_files`) and fastbpe's native tokenizer
//! file (`load_native`, `save_native`). The Python wrappers live in `fastbpe/io.py`.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::chunk::Utf8Mode;
use crate::encode_file::{self, Dtype, EncodeFileOptions, SpecialPolicy, TokenFormat};
use crate::formats::native;
use crate::monitor::Monitor;

use super::errors::IntoPy;
use super::interrupt::run_interruptible;
use super::shutdown::detach;
use super::tokenizer::CoreTokenizer;

/// Encodes `inputs` into the token file `output`; returns a dict of statistics.
/// `allowed`: None recognizes every special token, else exactly those listed (may be empty).
#[pyfunction]
#[pyo3(signature = (
    tokenizer, inputs, output, *, dtype=None, format=None, allowed=None, separator=None,
    errors="strict", threads=0, chunk_size=0, in_flight=0, progress=false
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
    separator: Option<u32>,
    errors: &str,
    threads: usize,
    chunk_size: usize,
    in_flight: usize,
    progress: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let tok = &tokenizer.get().inner;
    let defaults = EncodeFileOptions::default();
    let opts = EncodeFileOptions {
        format: format.map(TokenFormat::parse).transpose().py_err()?,
        dtype: dtype.map(Dtype::parse).transpose().py_err()?,
        special: match allowed {
            None => SpecialPolicy::All,
            Some(names) if names.is_empty() => SpecialPolicy::None,
            Some(names) => SpecialPolicy::Only(names),
        },
        separator,
        utf8: Utf8Mode::parse(errors).py_err()?,
        chunk_size: if chunk_size == 0 {
            defaults.chunk_size
        } else {
            chunk_size
        },
        threads,
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

/// Writes a native tokenizer file atomically.
#[pyfunction]
#[pyo3(signature = (tokenizer, path, name=None))]
fn save_native(
    py: Python<'_>,
    tokenizer: &Bound<'_, CoreTokenizer>,
    path: PathBuf,
    name: Option<String>,
) -> PyResult<()> {
    let tok = &tokenizer.get().inner;
    detach(py, || native::save(tok, name.as_deref(), &path)).py_err()
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
    m.add_function(wrap_pyfunction!(save_native, m)?)?;
    m.add_function(wrap_pyfunction!(native_to_string, m)?)?;
    m.add_function(wrap_pyfunction!(native_from_string, m)?)?;
    Ok(())
}
