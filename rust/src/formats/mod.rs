//! Tokenizer file formats, one module each with its reader and writer (`load` / `save`):
//!
//! | module | format |
//! | --- | --- |
//! | [`native`] | fastbpe's own JSON file (`docs/format.md`) |
//! | [`hf_json`] | Hugging Face `tokenizer.json` (+ `tokenizer_config.json`, `special_tokens_map.json`) |
//! | [`tiktoken`] | tiktoken's `.tiktoken` ranks file |
//! | [`vocab_merges`] | GPT-2 / HF `vocab.json` + `merges.txt` (GPT-2's `encoder.json` + `vocab.bpe`) |
//!
//! Shared parts: [`byte_mapping`] (GPT-2's byte <-> character table), [`merge_order`] (the merge
//! list of a rank-defined tokenizer), [`json`] (strict reading, escaping), [`commit`] (writes,
//! all or nothing). Readers never panic on malformed input, and every error names the file.
//! This module also picks the format: [`detect`] for reading, [`Format::for_path`] for writing.

pub mod byte_mapping;
pub mod commit;
pub mod counts;
pub mod hf_json;
pub mod json;
pub mod merge_order;
pub mod native;
pub mod tiktoken;
pub mod vocab_merges;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// A tokenizer file format that fastbpe writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Native,
    Hf,
    Tiktoken,
    VocabMerges,
}

impl Format {
    pub const NAMES: [&'static str; 4] = ["fastbpe", "hf", "tiktoken", "vocab-merges"];

    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "fastbpe" => Format::Native,
            "hf" => Format::Hf,
            "tiktoken" => Format::Tiktoken,
            "vocab-merges" => Format::VocabMerges,
            _ => {
                return Err(Error::value(format!(
                    "unknown format {name:?}; use 'fastbpe', 'hf', 'tiktoken' or 'vocab-merges'"
                )))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "fastbpe",
            Format::Hf => "hf",
            Format::Tiktoken => "tiktoken",
            Format::VocabMerges => "vocab-merges",
        }
    }

    /// The format a name asks for: `tokenizer.json` is Hugging Face's, `*.tiktoken` tiktoken's,
    /// a directory (existing, or written with a trailing `/`) gets `vocab.json` + `merges.txt`;
    /// anything else is fastbpe's own file.
    pub fn for_path(path: &Path) -> Self {
        if names_directory(path) {
            Format::VocabMerges
        } else if path.file_name().is_some_and(|n| n == "tokenizer.json") {
            Format::Hf
        } else if path.as_os_str().to_string_lossy().ends_with(".tiktoken") {
            Format::Tiktoken
        } else {
            Format::Native
        }
    }
}

/// Whether `path` means a directory: an existing one, or a name ending in a path separator.
pub fn names_directory(path: &Path) -> bool {
    let text = path.as_os_str().to_string_lossy();
    path.is_dir() || text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR)
}

/// Writes `tok` in `format` (None: [`Format::for_path`]); returns the format and the files
/// written. `name` is stored where the format has a place for it (fastbpe's own).
pub fn save(
    tok: &Tokenizer,
    name: Option<&str>,
    path: &Path,
    format: Option<Format>,
) -> Result<(Format, Vec<PathBuf>)> {
    let format = format.unwrap_or_else(|| Format::for_path(path));
    let files = match format {
        Format::Native => native::save(tok, name, path).map(|()| vec![path.to_path_buf()]),
        Format::Hf => hf_json::save(tok, path),
        Format::Tiktoken => tiktoken::save(tok, path).map(|()| vec![path.to_path_buf()]),
        Format::VocabMerges => vocab_merges::save(tok, path).map(|(v, m)| vec![v, m]),
    }?;
    Ok((format, files))
}

/// What [`detect`] found at a path.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    Native(PathBuf),
    Hf(PathBuf),
    Tiktoken(PathBuf),
    /// `vocab.json` + `merges.txt` (or `encoder.json` + `vocab.bpe`) in a directory.
    VocabMerges(PathBuf, PathBuf),
}

/// Which format the file (or directory) at `path` is in, from its first bytes.
pub fn detect(path: &Path) -> Result<Found> {
    if path.is_dir() {
        for (v, m) in [("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe")] {
            if path.join(v).is_file() && path.join(m).is_file() {
                return Ok(Found::VocabMerges(path.join(v), path.join(m)));
            }
        }
        for name in ["tokenizer.fastbpe.json", "tokenizer.json"] {
            if path.join(name).is_file() {
                return detect(&path.join(name));
            }
        }
        return Err(Error::format(
            path,
            "a directory without vocab.json + merges.txt, encoder.json + vocab.bpe, or \
             tokenizer.json",
        ));
    }
    let mut head = Vec::with_capacity(4096);
    {
        use std::io::Read;
        let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        f.take(4096)
            .read_to_end(&mut head)
            .map_err(|e| Error::io(path, e))?;
    }
    let text = head.trim_ascii_start();
    if text.starts_with(b"{") {
        // A JSON object: fastbpe's own format names itself near the top; HF's has "model".
        let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
        return Ok(if has(b"\"format\"") && has(b"\"fastbpe\"") {
            Found::Native(path.to_path_buf())
        } else {
            Found::Hf(path.to_path_buf())
        });
    }
    let first = head
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or(&[])
        .trim_ascii();
    let parts: Vec<&[u8]> = first.split(|&b| b == b' ').collect();
    if parts.len() == 2 && !parts[1].is_empty() && parts[1].iter().all(u8::is_ascii_digit) {
        return Ok(Found::Tiktoken(path.to_path_buf()));
    }
    Err(Error::format(
        path,
        "unknown tokenizer file format (expected fastbpe JSON, a Hugging Face tokenizer.json, a \
         .tiktoken file, or a directory with vocab.json + merges.txt)",
    ))
}

/// Reads a whole file, mapping I/O errors to `Error::Io` with the path.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    crate::fsutil::refuse_directory(path)?;
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Interprets `bytes` as UTF-8 text of the file at `path`.
pub fn utf8<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| Error::Utf8 {
        context: path.display().to_string(),
        offset: e.valid_up_to() as u64,
    })
}

/// A tokenizer-building error about a file's contents, made to name the file.
pub fn in_file(e: Error, path: &Path) -> Error {
    match e {
        Error::Value(m) => Error::format(path, m),
        e => e,
    }
}
