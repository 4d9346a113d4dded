//! `CoreTokenizer`: the Rust tokenizer as a Python class. The public `fastbpe.Tokenizer` wraps it
//! and adds the Python-side conveniences (tiktoken/CS336 argument handling, numpy).

use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use crate::encode::RankedToken;
use crate::error::Error;
use crate::tokenizer::{Allowed, Tokenizer};

use super::args::{special_policy, thread_count};
use super::errors::IntoPy;
use super::id_lists::{BatchLists, GcPause, IdObjects};
use super::ids_in::read_ids;
use super::interrupt::run_interruptible;
use super::shutdown::{attach, detach};
use super::text::{utf8, Utf8};
use crate::monitor::Monitor;

#[pyclass(frozen, module = "fastbpe._fastbpe")]
pub struct CoreTokenizer {
    pub(crate) inner: Tokenizer,
    ids: IdObjects,
}

/// From this many bytes on, one encode call runs interruptibly (Ctrl-C stops it); for smaller
/// texts the watching thread would cost more than the call.
const INTERRUPTIBLE_FROM: usize = 4 << 20;

impl CoreTokenizer {
    pub(crate) fn new(inner: Tokenizer) -> Self {
        let ids = IdObjects::new(inner.n_vocab());
        CoreTokenizer { inner, ids }
    }

    /// Encodes a batch with the GIL released (`Tokenizer::encode_batch_with`), `take` getting the
    /// ids of finished texts on this thread while other threads go on encoding.
    fn batch_with(
        &self,
        py: Python<'_>,
        texts: &[Utf8],
        allowed: Option<Vec<String>>,
        num_threads: Option<usize>,
        take: impl FnMut(&[&[u32]]) -> crate::error::Result<()> + Send,
    ) -> crate::error::Result<()> {
        let policy = special_policy(allowed);
        let monitor = Monitor::silent();
        detach(py, || {
            self.inner
                .encode_batch_with(texts, policy.as_allowed(), num_threads, &monitor, take)
        })
    }

    fn encode_allowed(
        &self,
        py: Python<'_>,
        text: &str,
        allowed: Allowed<'_>,
    ) -> PyResult<Vec<u32>> {
        if text.len() < INTERRUPTIBLE_FROM {
            return detach(py, || self.inner.encode(text, allowed)).py_err();
        }
        let monitor = Monitor::silent();
        run_interruptible(py, &monitor, || {
            self.inner.encode_cancellable(text, allowed, &monitor)
        })
    }
}

#[pymethods]
impl CoreTokenizer {
    /// From a CS336 vocabulary (id -> bytes) and ordered merges.
    #[staticmethod]
    #[pyo3(signature = (vocab, merges, special_tokens, pattern))]
    fn from_vocab_merges(
        py: Python<'_>,
        vocab: Vec<(u32, Vec<u8>)>,
        merges: Vec<(Vec<u8>, Vec<u8>)>,
        special_tokens: Vec<String>,
        pattern: &str,
    ) -> PyResult<Self> {
        let inner = detach(py, || {
            Tokenizer::from_vocab_merges(vocab, merges, &special_tokens, pattern)
        })
        .py_err()?;
        Ok(CoreTokenizer::new(inner))
    }

    /// From tiktoken-style mergeable ranks (bytes -> rank = id) and special tokens with ids.
    #[staticmethod]
    fn from_ranks(
        py: Python<'_>,
        ranks: Vec<(Vec<u8>, u32)>,
        special_tokens: Vec<(String, u32)>,
        pattern: &str,
    ) -> PyResult<Self> {
        let ranked = ranks
            .into_iter()
            .map(|(bytes, rank)| RankedToken {
                bytes,
                id: rank,
                rank,
            })
            .collect();
        let inner = detach(py, || {
            Tokenizer::from_ranked(ranked, special_tokens, pattern, None, Vec::new())
        })
        .py_err()?;
        Ok(CoreTokenizer::new(inner))
    }

    fn encode_ordinary<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyList>> {
        let ids = self.encode_allowed(py, &utf8(text)?, Allowed::None)?;
        self.ids.list(py, &ids)
    }

    #[pyo3(signature = (text, allowed))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyString>,
        allowed: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let ids = self.encode_allowed(py, &utf8(text)?, special_policy(allowed).as_allowed())?;
        self.ids.list(py, &ids)
    }

    /// Encodes many texts on all cores with the GIL released; Ctrl-C interrupts it.
    #[pyo3(signature = (texts, allowed, num_threads=None))]
    fn encode_batch<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyList>,
        allowed: Option<Vec<String>>,
        num_threads: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let texts = super::args::texts(texts)?;
        let num_threads = thread_count(num_threads, "num_threads")?;
        let _paused = GcPause::for_batch(py, texts.len())?;
        let mut lists = BatchLists::new(&self.ids, texts.len());
        let result = self.batch_with(py, &texts, allowed, num_threads, |done| lists.take(done));
        lists.finish(py, result)
    }

    /// tiktoken's `encode_with_unstable`: (stable ids, sorted list of possible completions).
    fn encode_with_unstable<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        allowed: Option<Vec<String>>,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        let policy = special_policy(allowed);
        let (ids, completions) = detach(py, || {
            self.inner.encode_with_unstable(text, policy.as_allowed())
        })
        .py_err()?;
        Ok((self.ids.list(py, &ids)?, self.ids.lists(py, &completions)?))
    }

    /// `encode_batch` as two buffers for numpy.frombuffer: all ids (little-endian, `itemsize`
    /// 2 or 4 bytes each) and int64 offsets (one more than the texts); no Python int is made.
    #[pyo3(signature = (texts, allowed, num_threads, itemsize))]
    fn encode_batch_to_buffers<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyList>,
        allowed: Option<Vec<String>>,
        num_threads: Option<&Bound<'py, PyAny>>,
        itemsize: usize,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let texts = super::args::texts(texts)?;
        let num_threads = thread_count(num_threads, "num_threads")?;
        let bytes: usize = texts.iter().map(|t| t.len()).sum();
        let mut ids = Vec::with_capacity(bytes / 4 * itemsize);
        let mut offsets = Vec::with_capacity((texts.len() + 1) * 8);
        offsets.extend(0i64.to_le_bytes());
        let mut signals = SignalCheck::new();
        let result = self.batch_with(py, &texts, allowed, num_threads, |done| {
            for text_ids in done {
                extend_le_bytes(text_ids, itemsize, &mut ids);
                offsets.extend(((ids.len() / itemsize) as i64).to_le_bytes());
            }
            signals.every(POLL_SIGNALS)
        });
        signals.result(result)?;
        Ok((PyBytes::new(py, &ids), PyBytes::new(py, &offsets)))
    }

    /// Ids as raw little-endian bytes of `itemsize` 2 or 4 (for numpy.frombuffer).
    fn encode_to_buffer<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyString>,
        allowed: Option<Vec<String>>,
        itemsize: usize,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ids = self.encode_allowed(py, &utf8(text)?, special_policy(allowed).as_allowed())?;
        let bytes = detach(py, || ids_to_le_bytes(&ids, itemsize));
        Ok(PyBytes::new(py, &bytes))
    }

    /// The bytes of `ids`: a list, tuple or other iterable of ints, or a numpy integer array,
    /// read in place (`ids_in`). The output is sized first and written straight into the bytes
    /// object (no growing buffer, no second copy): 10^7 ids peak at the output's size.
    fn decode_bytes<'py>(
        &self,
        py: Python<'py>,
        ids: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ids = read_ids(ids)?;
        let tok = &self.inner;
        let mut total = 0usize;
        for i in 0..ids.len() {
            total += tok.token_bytes(ids.get(i)).py_err()?.len();
        }
        PyBytes::new_with(py, total, |out| {
            let mut at = 0;
            for i in 0..ids.len() {
                // Every id was found above.
                if let Ok(b) = tok.token_bytes(ids.get(i)) {
                    out[at..at + b.len()].copy_from_slice(b);
                    at += b.len();
                }
            }
            Ok(())
        })
    }

    fn token_bytes<'py>(&self, py: Python<'py>, id: i64) -> PyResult<Bound<'py, PyBytes>> {
        let id = u32::try_from(id)
            .map_err(|_| Error::UnknownId(id))
            .py_err()?;
        let b = self.inner.token_bytes(id).py_err()?;
        Ok(PyBytes::new(py, b))
    }

    /// Each token's bytes; `ids` as for `decode_bytes`.
    fn decode_tokens_bytes<'py>(
        &self,
        py: Python<'py>,
        ids: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let ids = read_ids(ids)?;
        let list = PyList::empty(py);
        for i in 0..ids.len() {
            list.append(PyBytes::new(
                py,
                self.inner.token_bytes(ids.get(i)).py_err()?,
            ))?;
        }
        Ok(list)
    }

    /// The id of the ranked token with exactly these bytes, or None.
    fn token_id(&self, bytes: &[u8]) -> Option<u32> {
        self.inner.token_id(bytes)
    }

    #[getter]
    fn n_vocab(&self) -> usize {
        self.inner.n_vocab()
    }

    #[getter]
    fn pattern(&self) -> &str {
        self.inner.pattern()
    }

    fn special_tokens<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (s, id) in self.inner.specials() {
            d.set_item(s, id)?;
        }
        Ok(d)
    }

    /// id -> bytes for every id.
    fn vocab<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (id, b) in self.inner.vocab() {
            d.set_item(id, PyBytes::new(py, b))?;
        }
        Ok(d)
    }

    /// Ranked tokens as (bytes, id) in rank order.
    fn ranked<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for t in self.inner.ranked() {
            list.append((PyBytes::new(py, &t.bytes), t.id))?;
        }
        Ok(list)
    }

    /// The merges the tokenizer was built from, or None (tiktoken-style ranks have none).
    fn merges<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        let Some(merges) = self.inner.merges() else {
            return Ok(None);
        };
        let list = PyList::empty(py);
        for (l, r) in merges {
            list.append((PyBytes::new(py, l), PyBytes::new(py, r)))?;
        }
        Ok(Some(list))
    }

    /// Pieces of `text` by this tokenizer's pre-tokenizer (for tests and inspection).
    fn pretokenize(&self, text: &str) -> PyResult<Vec<String>> {
        Ok(self
            .inner
            .pretokenizer()
            .pieces(text)
            .py_err()?
            .into_iter()
            .map(str::to_string)
            .collect())
    }
}

pub(crate) fn ids_to_le_bytes(ids: &[u32], itemsize: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * itemsize);
    extend_le_bytes(ids, itemsize, &mut out);
    out
}

/// Appends `ids` to `out` as little-endian integers of `itemsize` 2 or 4 bytes.
fn extend_le_bytes(ids: &[u32], itemsize: usize, out: &mut Vec<u8>) {
    if itemsize == 2 {
        out.extend(ids.iter().flat_map(|&i| (i as u16).to_le_bytes()));
    } else {
        out.extend(ids.iter().flat_map(|&i| i.to_le_bytes()));
    }
}

/// How often a batch that builds no Python objects takes the GIL to check for Ctrl-C.
const POLL_SIGNALS: Duration = Duration::from_millis(50);

/// Ctrl-C checks from a thread that runs without the GIL, at most once per interval.
struct SignalCheck {
    last: Instant,
    signal: Option<PyErr>,
}

impl SignalCheck {
    fn new() -> Self {
        SignalCheck {
            last: Instant::now(),
            signal: None,
        }
    }

    /// Checks for a signal if `interval` has passed since the last check; the error stops the
    /// work (`result` returns the Python exception).
    fn every(&mut self, interval: Duration) -> crate::error::Result<()> {
        if self.last.elapsed() < interval {
            return Ok(());
        }
        self.last = Instant::now();
        attach(|py| py.check_signals()).map_err(|e| {
            self.signal = Some(e);
            Error::Interrupted
        })
    }

    /// The work's result, the signal's exception first.
    fn result<T>(self, r: crate::error::Result<T>) -> PyResult<T> {
        match self.signal {
            Some(e) => Err(e),
            None => r.py_err(),
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CoreTokenizer>()?;
    m.add("GPT2_PATTERN", crate::pretokenize::GPT2_PATTERN)?;
    Ok(())
}
