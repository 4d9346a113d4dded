//! One error type for the core; the Python layer maps each variant to a Python exception class.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value the caller passed is wrong (maps to `ValueError`).
    #[error("{0}")]
    Value(String),
    /// A file or stream could not be read or written (maps to `OSError` and its subclasses).
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A tokenizer file is malformed (maps to `ValueError`, naming the file and line).
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    /// Input bytes are not UTF-8 where text is required (maps to `UnicodeDecodeError`-like `ValueError`).
    #[error("{context}: invalid UTF-8 at byte offset {offset}")]
    Utf8 { context: String, offset: u64 },
    /// An id that the vocabulary does not have (maps to `KeyError`-like `ValueError`).
    #[error("unknown token id {0}")]
    UnknownId(i64),
    /// The user pressed Ctrl-C (maps to `KeyboardInterrupt`).
    #[error("interrupted")]
    Interrupted,
    /// An allocation failed (maps to `MemoryError`); the message says what was being allocated.
    #[error("{0}")]
    OutOfMemory(String),
    /// A broken invariant of fastbpe itself, never the caller's input (maps to `RuntimeError`
    /// with a request to report it).
    #[error("internal error in fastbpe: {0} (this is a bug; please report it)")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn value(msg: impl Into<String>) -> Self {
        Error::Value(msg.into())
    }

    /// A broken invariant (see [`Error::Internal`]).
    pub fn internal(msg: impl Into<String>) -> Self {
        Error::Internal(msg.into())
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_say_it_is_a_bug() {
        let e = Error::internal("the writer thread panicked").to_string();
        assert!(
            e.contains("the writer thread panicked") && e.contains("please report"),
            "{e}"
        );
    }
}
