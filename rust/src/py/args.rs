//! Arguments from Python: integers with errors that name the argument, and the one spelling of a
//! special-token policy.
//!
//! PyO3's own conversion to `usize`/`u64` raises `OverflowError: int too big to convert` (or
//! "can't convert negative int to unsigned") without saying which argument was wrong; these
//! helpers say `threads must be ..., got 1000000000000000000000`.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyList, PyString};

use super::errors::to_py;
use super::text::{utf8, Utf8};
use crate::special::SpecialPolicy;

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// The texts of a batch, a list of str (subclasses too), each as UTF-8 (`text::utf8`: the
/// str's own, or the core's transcoding of a long one that is not pure ASCII). The type
/// check is done here, in the pass that extracts them: the Python wrapper's own pass over
/// 142K lines (`set(map(type, texts))`) cost 6-8 ms of a 78 ms batch, serial work before any
/// thread could start. A str with lone surrogates raises `UnicodeEncodeError` (the wrapper
/// then retries with them replaced, as tiktoken does).
pub fn texts(texts: &Bound<'_, PyList>) -> PyResult<Vec<Utf8>> {
    let mut out = Vec::with_capacity(texts.len());
    for item in texts.iter() {
        out.push(utf8(text_item(&item)?)?);
    }
    Ok(out)
}

/// tiktoken's disallowed-special check of a batch, in one pass: the index of the first text
/// that holds one of `tokens` (any non-empty strings; the leftmost, then longest match, as the
/// wrapper's regex finds it) with that token, or of the first text that is not valid UTF-8 (a
/// lone surrogate: the wrapper searches from there its own way) with None; None when no text
/// does. A text that is not a str before either is a TypeError, as in the wrapper's loop. Why:
/// a Python regex search per text cost 17 ms on 142K lines, serial work before the batch.
#[pyfunction]
pub fn first_disallowed(
    texts: &Bound<'_, PyList>,
    tokens: Vec<String>,
) -> PyResult<Option<(usize, Option<String>)>> {
    let matcher = crate::special::SpecialMatcher::new(&tokens).map_err(to_py)?;
    for (i, item) in texts.iter().enumerate() {
        let Ok(text) = utf8(text_item(&item)?) else {
            return Ok(Some((i, None)));
        };
        if let Some((_, start, end)) = matcher.find(&text) {
            return Ok(Some((i, Some(text[start..end].to_string()))));
        }
    }
    Ok(None)
}

/// A batch item as a str (subclasses too), or the wrapper's TypeError for one that is not.
fn text_item<'a, 'py>(item: &'a Bound<'py, PyAny>) -> PyResult<&'a Bound<'py, PyString>> {
    item.downcast::<PyString>()
        .map_err(|_| PyTypeError::new_err(format!("expected text as str, got {}", type_name(item))))
}

/// A non-negative int (or an object with `__index__`, such as a numpy integer) that fits `u64`.
pub fn non_negative(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<u64> {
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be an int, got bool"
        )));
    }
    let int = if obj.is_instance_of::<PyInt>() {
        obj.clone()
    } else {
        let index = obj.py().import("operator")?.getattr("index")?;
        index.call1((obj,)).map_err(|_| {
            PyTypeError::new_err(format!("{name} must be an int, got {}", type_name(obj)))
        })?
    };
    if let Ok(v) = int.extract::<u64>() {
        return Ok(v);
    }
    let negative = int.lt(0)?;
    Err(PyValueError::new_err(if negative {
        format!("{name} must be >= 0, got {int}")
    } else {
        format!("{name} is too large: {int} (at most 2**64 - 1)")
    }))
}

/// A thread count: `None` (all cores) or an int `1..=MAX_THREADS` (see `crate::parallel`).
pub fn thread_count(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<usize>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    match non_negative(obj, name) {
        Ok(n) if (1..=crate::parallel::MAX_THREADS as u64).contains(&n) => Ok(Some(n as usize)),
        // Out of range, negative, or too large for any machine integer: one message.
        Ok(_) => Err(to_py(crate::parallel::out_of_range(name, obj))),
        Err(e) if e.is_instance_of::<PyValueError>(obj.py()) => {
            Err(to_py(crate::parallel::out_of_range(name, obj)))
        }
        Err(e) => Err(e),
    }
}

/// The special-token policy as every binding receives it: `None` recognizes every special token of
/// the tokenizer, a list exactly those (`[]`: none). The one conversion to `SpecialPolicy`.
pub fn special_policy(allowed: Option<Vec<String>>) -> SpecialPolicy {
    allowed.map_or(SpecialPolicy::All, SpecialPolicy::only)
}
