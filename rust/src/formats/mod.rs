//! Tokenizer file formats. Parsers take the file's bytes and its path (for error messages) and
//! return plain data; they never panic on malformed input.

pub mod byte_mapping;
pub mod hf_vocab_merges;
pub mod native;
pub mod tiktoken_file;

use std::path::Path;

use crate::error::{Error, Result};

/// Reads a whole file, mapping I/O errors to `Error::Io` with the path.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    if path.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "is a directory, not a file",
            ),
        ));
    }
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Interprets `bytes` as UTF-8 text of the file at `path`.
pub fn utf8<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| Error::Utf8 {
        context: path.display().to_string(),
        offset: e.valid_up_to() as u64,
    })
}
