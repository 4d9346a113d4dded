//! Bindings for tokenizer files: each format's `load` / `save` (`crate::formats`), format
//! detection and the merge list / ranks that exports need. Conversions only; the rules live in
//! `crate::formats`. The Python side is `fastbpe/io.py` and the `Tokenizer` constructors.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::formats::{
    self, byte_mapping, hf_json, merge_order, tiktoken, vocab_merges, Format, Found,
};

use super::errors::IntoPy;
use super::shutdown::detach;
use super::tokenizer::CoreTokenizer;

/// Reads a Hugging Face `tokenizer.json`.
#[pyfunction]
fn load_hf(py: Python<'_>, path: PathBuf) -> PyResult<CoreTokenizer> {
    let tok = detach(py, || hf_json::load(&path)).py_err()?;
    Ok(CoreTokenizer::new(tok))
}

/// Reads a `.tiktoken` file (ranks are ids) with these special tokens and pattern.
#[pyfunction]
fn load_tiktoken(
    py: Python<'_>,
    path: PathBuf,
    special_tokens: Vec<(String, u32)>,
    pattern: &str,
) -> PyResult<CoreTokenizer> {
    let tok = detach(py, || tiktoken::load(&path, special_tokens, pattern)).py_err()?;
    Ok(CoreTokenizer::new(tok))
}

/// Reads GPT-2/HF `vocab.json` + `merges.txt` (or `encoder.json` + `vocab.bpe`).
#[pyfunction]
fn load_vocab_merges(
    py: Python<'_>,
    vocab_path: PathBuf,
    merges_path: PathBuf,
    special_tokens: Vec<String>,
    pattern: &str,
) -> PyResult<CoreTokenizer> {
    let tok = detach(py, || {
        vocab_merges::load(&vocab_path, &merges_path, &special_tokens, pattern)
    })
    .py_err()?;
    Ok(CoreTokenizer::new(tok))
}

/// Saves in `format` (None: from the name); returns (format, paths written).
#[pyfunction]
#[pyo3(signature = (tokenizer, path, name=None, format=None))]
fn save_tokenizer(
    py: Python<'_>,
    tokenizer: &Bound<'_, CoreTokenizer>,
    path: PathBuf,
    name: Option<String>,
    format: Option<&str>,
) -> PyResult<(&'static str, Vec<PathBuf>)> {
    let format = format.map(Format::parse).transpose().py_err()?;
    let tok = &tokenizer.get().inner;
    let (format, files) =
        detach(py, || formats::save(tok, name.as_deref(), &path, format)).py_err()?;
    Ok((format.name(), files))
}

/// The format `save_tokenizer` picks for `path` when none is given.
#[pyfunction]
fn save_format_for(path: PathBuf) -> &'static str {
    Format::for_path(&path).name()
}

/// (kind, paths) of the tokenizer file or directory at `path`: kind is "fastbpe", "hf",
/// "tiktoken" (one path) or "vocab-merges" (vocab and merges paths).
#[pyfunction]
fn detect_format(py: Python<'_>, path: PathBuf) -> PyResult<(&'static str, Vec<PathBuf>)> {
    let found = detach(py, || formats::detect(&path)).py_err()?;
    Ok(match found {
        Found::Native(p) => ("fastbpe", vec![p]),
        Found::Hf(p) => ("hf", vec![p]),
        Found::Tiktoken(p) => ("tiktoken", vec![p]),
        Found::VocabMerges(v, m) => ("vocab-merges", vec![v, m]),
    })
}

/// The merge list that reproduces a rank-defined tokenizer (`merge_order::merges_from_ranks`).
#[pyfunction]
fn merges_from_ranks<'py>(
    py: Python<'py>,
    tokenizer: &Bound<'py, CoreTokenizer>,
) -> PyResult<Vec<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)>> {
    let tok = &tokenizer.get().inner;
    let merges = detach(py, || merge_order::merges_from_ranks(tok)).py_err()?;
    Ok(merges
        .iter()
        .map(|(l, r)| (PyBytes::new(py, l), PyBytes::new(py, r)))
        .collect())
}

/// tiktoken's `mergeable_ranks` as (bytes, rank) in rank order; ValueError when tiktoken's
/// format cannot express the tokenizer.
#[pyfunction]
fn tiktoken_ranks<'py>(
    py: Python<'py>,
    tokenizer: &Bound<'py, CoreTokenizer>,
) -> PyResult<Vec<(Bound<'py, PyBytes>, u32)>> {
    let ranks = tiktoken::ranks(&tokenizer.get().inner).py_err()?;
    Ok(ranks
        .into_iter()
        .map(|(b, r)| (PyBytes::new(py, b), r))
        .collect())
}

/// The `tokenizer.json` text `save_tokenizer(..., format="hf")` writes.
#[pyfunction]
fn hf_tokenizer_json(py: Python<'_>, tokenizer: &Bound<'_, CoreTokenizer>) -> String {
    let tok = &tokenizer.get().inner;
    detach(py, || hf_json::write(tok))
}

/// GPT-2's printable stand-in for each byte, as a 256-character string (index = byte).
#[pyfunction]
fn gpt2_byte_chars() -> String {
    byte_mapping::byte_to_char().iter().collect()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gpt2_byte_chars, m)?)?;
    m.add_function(wrap_pyfunction!(load_hf, m)?)?;
    m.add_function(wrap_pyfunction!(load_tiktoken, m)?)?;
    m.add_function(wrap_pyfunction!(load_vocab_merges, m)?)?;
    m.add_function(wrap_pyfunction!(save_tokenizer, m)?)?;
    m.add_function(wrap_pyfunction!(save_format_for, m)?)?;
    m.add_function(wrap_pyfunction!(detect_format, m)?)?;
    m.add_function(wrap_pyfunction!(merges_from_ranks, m)?)?;
    m.add_function(wrap_pyfunction!(tiktoken_ranks, m)?)?;
    m.add_function(wrap_pyfunction!(hf_tokenizer_json, m)?)?;
    Ok(())
}
