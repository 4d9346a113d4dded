//! Maps core errors to the Python exceptions users expect.

use pyo3::exceptions::{
    PyFileNotFoundError, PyIsADirectoryError, PyKeyError, PyKeyboardInterrupt, PyMemoryError,
    PyOSError, PyPermissionError, PyRuntimeError, PyValueError,
};
use pyo3::PyErr;

use crate::error::Error;

pub fn to_py(err: Error) -> PyErr {
    let msg = err.to_string();
    match err {
        Error::Io { source, .. } => match source.kind() {
            std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(msg),
            std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(msg),
            std::io::ErrorKind::IsADirectory => PyIsADirectoryError::new_err(msg),
            _ => PyOSError::new_err(msg),
        },
        Error::UnknownId(_) => PyKeyError::new_err(msg),
        Error::Interrupted => PyKeyboardInterrupt::new_err("interrupted"),
        Error::Internal(_) => PyRuntimeError::new_err(msg),
        Error::OutOfMemory(_) => PyMemoryError::new_err(msg),
        Error::Value(_) | Error::Format { .. } | Error::Utf8 { .. } => PyValueError::new_err(msg),
    }
}

/// `?`-friendly conversion for core results.
pub trait IntoPy<T> {
    fn py_err(self) -> pyo3::PyResult<T>;
}

impl<T> IntoPy<T> for crate::error::Result<T> {
    fn py_err(self) -> pyo3::PyResult<T> {
        self.map_err(to_py)
    }
}
