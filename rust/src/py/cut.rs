//! Bindings for the safe-cut rule (`crate::cut`) and the atomic write (`crate::fsutil`): the
//! shard planner's `next_safe_cut`, `encode_iterable`'s `SafeCuts.last_cut_chars`, and
//! `write_file_atomic` for Python writers.

use std::path::PathBuf;

use pyo3::prelude::*;

use crate::cut::{self, Cutter};
use crate::fsutil;
use crate::pretokenize::Pretokenizer;

use super::errors::IntoPy;
use super::shutdown::detach;

fn cutter(pattern: Option<&str>, special_tokens: &[String]) -> PyResult<Cutter> {
    let pretok = match pattern {
        None => Pretokenizer::gpt2(),
        Some(p) => Pretokenizer::from_pattern(p).py_err()?,
    };
    Cutter::for_pretokenizer(special_tokens, &pretok).py_err()
}

/// Where a byte stream may be cut for one pattern and one set of recognized special tokens.
/// Build once, ask many times (building compiles the pattern and probes it).
#[pyclass(frozen, module = "fastbpe._fastbpe")]
pub struct SafeCuts {
    cutter: Cutter,
}

#[pymethods]
impl SafeCuts {
    /// `special_only`: cut only before special tokens, whatever the pattern (for callers that
    /// do not know the pattern).
    #[new]
    #[pyo3(signature = (pattern=None, special_tokens=Vec::new(), *, special_only=false))]
    fn new(
        pattern: Option<&str>,
        special_tokens: Vec<String>,
        special_only: bool,
    ) -> PyResult<Self> {
        let cutter = if special_only {
            Cutter::new(&special_tokens, cut::CutRule::SpecialOnly).py_err()?
        } else {
            cutter(pattern, &special_tokens)?
        };
        Ok(SafeCuts { cutter })
    }

    /// Bytes of context on each side that deciding one position reads.
    #[getter]
    fn context(&self) -> usize {
        self.cutter.context()
    }

    /// See `next_safe_cut`.
    #[pyo3(signature = (data, start, *, stream_start=false, stream_end=false))]
    fn next_cut(
        &self,
        py: Python<'_>,
        data: &[u8],
        start: usize,
        stream_start: bool,
        stream_end: bool,
    ) -> Option<usize> {
        detach(py, || {
            cut::next_safe_cut(&self.cutter, data, start, stream_start, stream_end)
        })
    }

    /// The last safe cut of `data` (the start of a stream whose end is not yet known), as a
    /// count of code points before it (`data` is `text.encode("utf-8", "surrogatepass")`); 0
    /// when there is none.
    fn last_cut_chars(&self, py: Python<'_>, data: &[u8]) -> usize {
        detach(py, || match self.cutter.last_cut(data, 0, false) {
            // Every byte that is not a UTF-8 continuation byte starts one code point (a
            // surrogate written by "surrogatepass" is one 3-byte sequence).
            Some(p) => data[..p].iter().filter(|&&b| (b & 0xC0) != 0x80).count(),
            None => 0,
        })
    }
}

/// The smallest offset `p >= start` of `data` (a window of a longer stream) where the stream may
/// be cut: pre-tokens and ids on both sides, concatenated, equal those of the uncut stream.
/// Decided from `data` alone; `None` when undecided within it. See /work/coord/cut-api.md.
#[pyfunction]
#[pyo3(signature = (data, start, pattern=None, special_tokens=Vec::new(), *, stream_start=false, stream_end=false))]
fn next_safe_cut(
    py: Python<'_>,
    data: &[u8],
    start: usize,
    pattern: Option<&str>,
    special_tokens: Vec<String>,
    stream_start: bool,
    stream_end: bool,
) -> PyResult<Option<usize>> {
    let c = cutter(pattern, &special_tokens)?;
    Ok(detach(py, || {
        cut::next_safe_cut(&c, data, start, stream_start, stream_end)
    }))
}

/// Writes `data` to `path` atomically: a temporary file unique to this call beside it, synced,
/// then renamed over it (the last of several writers wins, whole).
#[pyfunction]
fn write_file_atomic(py: Python<'_>, path: PathBuf, data: &[u8]) -> PyResult<()> {
    detach(py, || fsutil::write_atomic(&path, data)).py_err()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SafeCuts>()?;
    m.add_function(wrap_pyfunction!(next_safe_cut, m)?)?;
    m.add_function(wrap_pyfunction!(write_file_atomic, m)?)?;
    Ok(())
}
