//! A Python `str`'s text as UTF-8 for the core, made by the core's own transcoder for long
//! texts that are not pure ASCII (`crate::utf8_from_units`).
//!
//! Why: PyO3's `&str` asks Python for UTF-8 (`PyUnicode_AsUTF8AndSize`), whose encoder goes
//! character by character and keeps the copy on the `str` (one more text's worth of memory for
//! as long as the `str` lives). A pure-ASCII `str` still goes that way: its UTF-8 is its own
//! bytes, no copy.
//!
//! Performance notes (session 9, this 2-core Xeon): every 5 MB slice of the benchmark's corpora
//! is held 4 bytes a character (each has some character above U+FFFF); Python's UTF-8 took
//! 5.6-8.8 ms a slice (0.6-0.9 GB/s), the transcoder 1.7 ms (English), 2.1 (code), 4.2
//! (multilingual) into reused memory, about 2 ms more into fresh pages. `encode_ordinary` on
//! fresh 8 MB strs, GPT-2, process CPU time, best of 4, two runs each, before -> after: English
//! 57.8 / 55.2 -> 51.6 / 49.4 ms a 5 MB, code 56.8 / 53.9 -> 53.3 / 48.4, multilingual 93.9 /
//! 90.6 -> 88.6 / 90.0; `encode_ordinary_batch` of the documents on 2 threads, English 153-165
//! -> 166-178 MB/s, multilingual unchanged. Latin-1 strs (1 byte a character, not ASCII; 6M
//! characters of English with 1000 é): Python 3.4-4.2 ms, the core 2.2-2.4 (`utf8_bytes`, with
//! its copy into a bytes object). A `str` whose UTF-8 Python already made (tiktoken's
//! and PyO3's `&str` keep it; the benchmark's id check does) takes that copy, as before
//! (`has_python_utf8`).
//!
//! Dropped (session 10): a batch's strs stored 2 or 4 bytes a character transcoded on the
//! batch's threads (GIL released) instead of one by one by Python on the calling thread, to
//! take serial work out of 2-thread batches of lines. Python's conversion of all 10.5K
//! non-ASCII lines of a 5 MB English batch takes 1.2 ms (`str.encode` in a loop) of a ~55 ms
//! batch, and the 2-thread batch of 145K lines measured the same within this machine's noise
//! (81-90 MB/s either way). (A second batch of the same strs had read 8-10% faster, but that
//! was the piece cache, warm with the same text, not Python's cached UTF-8.) On multilingual
//! lines (almost all not ASCII; Python's conversion ~7 ms a 5 MB batch) the batch's threads
//! transcoding them, each into its own `String`, measured 63.1-63.7 against 61.1-69.5 MB/s on 2
//! threads (medians of 6 slices, three interleaved runs), and 1024 texts to a shared buffer
//! 58.6-66.8 against 59.3-69.6: within noise both. (The 8-12% that UTF-8 made beforehand had
//! seemed to give was measured on alternate slices, so on other text.)
//!
//! Correctness: the transcoder gives exactly Python's UTF-8 for every `str` without surrogates
//! (`utf8_from_units` tests every code point; `tests/test_text_utf8.py` compares with
//! `str.encode` on generated strings). A `str` with a lone surrogate has no UTF-8: it goes to
//! PyO3's conversion, which raises Python's own `UnicodeEncodeError`, as before.

use std::ops::Deref;

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBytes, PyString};

/// Texts of fewer characters keep Python's conversion: its cost is small there, and a short
/// call's speed is mostly the call itself.
#[cfg(not(feature = "abi3"))]
const TRANSCODE_FROM: usize = 1 << 12;

/// A `str`'s UTF-8, owned (so that worker threads can read it without the GIL): the `str`'s
/// own, kept by `PyBackedStr`, or the core's transcoding.
pub enum Utf8 {
    Backed(PyBackedStr),
    // (Never made under the stable ABI: see `transcoded`.)
    #[cfg_attr(feature = "abi3", allow(dead_code))]
    Owned(String),
}

impl Deref for Utf8 {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Utf8::Backed(s) => s,
            Utf8::Owned(s) => s,
        }
    }
}

impl AsRef<str> for Utf8 {
    fn as_ref(&self) -> &str {
        self
    }
}

/// The UTF-8 of `s`; Python's `UnicodeEncodeError` for a lone surrogate.
pub fn utf8(s: &Bound<'_, PyString>) -> PyResult<Utf8> {
    #[cfg(not(feature = "abi3"))]
    if let Some(text) = transcoded(s) {
        return Ok(Utf8::Owned(text));
    }
    Ok(Utf8::Backed(PyBackedStr::try_from(s.clone())?))
}

/// `s` transcoded by the core when it is long (`TRANSCODE_FROM`), is not pure ASCII, has no
/// UTF-8 from Python yet and holds no surrogate; None otherwise. (The stable ABI has no access
/// to a `str`'s storage.) The cheap questions first: most texts of a batch of lines are short.
#[cfg(not(feature = "abi3"))]
fn transcoded(s: &Bound<'_, PyString>) -> Option<String> {
    use pyo3::types::PyStringData;
    // SAFETY: the data is read while `s` is borrowed (it lives) and the GIL is held; a `str`
    // never changes once made.
    let data = unsafe { s.data() }.ok()?;
    let (chars, width) = match data {
        PyStringData::Ucs1(units) => (units.len(), 1),
        PyStringData::Ucs2(units) => (units.len(), 2),
        PyStringData::Ucs4(units) => (units.len(), 4),
    };
    if chars < TRANSCODE_FROM || (width == 1 && is_ascii(s)) || has_python_utf8(s, chars, width) {
        return None;
    }
    transcode(data)
}

/// The core's UTF-8 of a `str`'s storage, or None when it holds a surrogate.
#[cfg(not(feature = "abi3"))]
fn transcode(data: pyo3::types::PyStringData<'_>) -> Option<String> {
    use crate::utf8_from_units::to_utf8;
    use pyo3::types::PyStringData;
    match data {
        PyStringData::Ucs1(units) => to_utf8(units).ok(),
        PyStringData::Ucs2(units) => to_utf8(units).ok(),
        PyStringData::Ucs4(units) => to_utf8(units).ok(),
    }
}

/// Whether `s` is pure ASCII (its UTF-8 is then its own bytes, no copy); unsure counts as ASCII,
/// which leaves it to Python's own conversion.
#[cfg(not(feature = "abi3"))]
fn is_ascii(s: &Bound<'_, PyString>) -> bool {
    str_method(s, "isascii").is_none_or(|a| a.is_truthy().unwrap_or(true))
}

/// Whether Python already made `s`'s UTF-8 (an earlier call, another library): then taking it
/// costs nothing. Told by `str.__sizeof__`, which counts that copy (CPython's `unicode_sizeof`):
/// beyond a header of well under 1 KB it is `(chars + 1) * width` without one, and at least
/// `chars + 1` more with one (`TRANSCODE_FROM` > `HEADER_AT_MOST`). There is no public call
/// that asks directly, and reading the field would tie the build to each Python version's
/// layout.
#[cfg(not(feature = "abi3"))]
fn has_python_utf8(s: &Bound<'_, PyString>, chars: usize, width: usize) -> bool {
    const HEADER_AT_MOST: usize = 1024;
    match str_method(s, "__sizeof__").map(|n| n.extract::<usize>()) {
        Some(Ok(size)) => size > (chars + 1) * width + HEADER_AT_MOST,
        _ => true, // unsure: Python's own conversion is always right
    }
}

/// `str.<name>(s)`, not `s.<name>()`: a subclass may define its own. `isascii` reads a flag
/// and `__sizeof__` adds up sizes, neither scans the text. None if it fails.
#[cfg(not(feature = "abi3"))]
fn str_method<'py>(s: &Bound<'py, PyString>, name: &str) -> Option<Bound<'py, PyAny>> {
    s.py().get_type::<PyString>().call_method1(name, (s,)).ok()
}

/// What the core encodes for `s` whatever its length, as bytes: for tests of the transcoder
/// against `str.encode`.
#[pyfunction]
pub fn utf8_bytes<'py>(s: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyBytes>> {
    #[cfg(not(feature = "abi3"))]
    if !is_ascii(s) {
        // SAFETY: as in `transcoded`.
        if let Some(text) = unsafe { s.data() }.ok().and_then(transcode) {
            return Ok(PyBytes::new(s.py(), text.as_bytes()));
        }
    }
    Ok(PyBytes::new(s.py(), s.to_str()?.as_bytes()))
}
