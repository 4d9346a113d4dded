//! Python bindings for training: counting (files or a Python iterable) and the merge loop.
//! `fastbpe.training` wraps these with argument checking and the public signatures.

use std::path::PathBuf;
use std::sync::mpsc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::chunk::{self, Utf8Mode};
use crate::error::{Error, Result};
use crate::formats::counts::{self as counts_file, Origin, Provenance};
use crate::monitor::{Monitor, Unit};
use crate::pretokenize::Pretokenizer;
use crate::train::{self, BatchCounter, CountOptions, MergeOptions, WordCounts};

use super::args::{non_negative, thread_count};
use super::errors::IntoPy;
use super::interrupt::run_interruptible;
use super::shutdown::detach;

/// Counts of distinct pre-tokens: the mergeable result of the counting step. Counts from several
/// calls (or processes: it pickles) combine with `update`, then `train_from_counts` learns merges.
/// `prov` records how they were made (pattern, special tokens, bytes read): the header of the
/// counts file (`formats::counts`, `save`/`load`), checked when counts are merged.
#[pyclass(name = "WordCounts", module = "fastbpe._fastbpe")]
#[derive(Default)]
pub struct PyWordCounts {
    inner: WordCounts,
    prov: Provenance,
}

#[pymethods]
impl PyWordCounts {
    #[new]
    fn new() -> Self {
        PyWordCounts::default()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "WordCounts({} distinct, {} total)",
            self.inner.len(),
            self.inner.total()
        )
    }

    /// Adds `count` occurrences of `word` (bytes); counts saturate at 2**64 - 1.
    #[pyo3(signature = (word, count=None))]
    fn add(&mut self, word: Vec<u8>, count: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let count = match count {
            Some(c) => non_negative(c, "count")?,
            None => 1,
        };
        self.inner.add(&word, count);
        Ok(())
    }

    /// The count of `word` (0 when absent).
    fn get(&self, word: Vec<u8>) -> u64 {
        self.inner.get(&word)
    }

    /// Total number of pre-token occurrences.
    fn total(&self) -> u64 {
        self.inner.total()
    }

    /// Adds all counts of `other` (the reduce step of counting). ValueError when they were made
    /// with a different pattern or different special tokens.
    /// `c.update(c)` doubles `c`.
    fn update(slf: &Bound<'_, Self>, other: &Bound<'_, PyWordCounts>) -> PyResult<()> {
        // Copy `other` before borrowing `self` mutably: they may be the same object.
        let (other, other_prov) = {
            let o = other.borrow();
            (o.inner.clone(), o.prov.clone())
        };
        let mut this = slf.borrow_mut();
        this.prov = this.prov.merged(&other_prov).py_err()?;
        let inner = &mut this.inner;
        detach(slf.py(), || inner.merge(other));
        Ok(())
    }

    /// The pre-tokenization pattern the counts were made with (None: built by hand with `add`).
    #[getter]
    fn pattern(&self) -> Option<String> {
        self.prov.origin.as_ref().map(|o| o.pattern.clone())
    }

    /// The special tokens removed while counting (None: built by hand with `add`).
    #[getter]
    fn special_tokens(&self) -> Option<Vec<String>> {
        self.prov.origin.as_ref().map(|o| o.special_tokens.clone())
    }

    /// Input bytes counted (summed by `update`).
    #[getter]
    fn bytes_read(&self) -> u64 {
        self.prov.bytes_read
    }

    /// Approximate bytes of memory held (Dask's `sizeof` for memory limits and spilling).
    #[getter]
    fn nbytes(&self) -> usize {
        self.inner.memory()
    }

    /// Writes a counts file (format: docs/cluster.md), atomically.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let (prov, inner) = (&self.prov, &self.inner);
        detach(py, || counts_file::save(prov, inner, &path)).py_err()
    }

    /// Reads a counts file; ValueError naming the file when it is corrupt or truncated.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let (prov, inner) = detach(py, || counts_file::load(&path)).py_err()?;
        Ok(PyWordCounts { inner, prov })
    }

    /// The counts file's bytes (what `save` writes; also the pickled form).
    fn to_file_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &counts_file::write(&self.prov, &self.inner))
    }

    #[staticmethod]
    fn from_file_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let path = std::path::Path::new("<WordCounts bytes>");
        let (prov, inner) = detach(py, || counts_file::parse(data, path)).py_err()?;
        Ok(PyWordCounts { inner, prov })
    }

    /// All (word bytes, count) pairs, sorted by word.
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items: Vec<Bound<'py, PyTuple>> = self
            .inner
            .sorted()
            .into_iter()
            .map(|(w, n)| {
                PyTuple::new(
                    py,
                    [
                        PyBytes::new(py, w).into_any(),
                        n.into_pyobject(py)?.into_any(),
                    ],
                )
            })
            .collect::<PyResult<_>>()?;
        PyList::new(py, items)
    }

    /// A compact binary form (for pickling and for sending counts between processes).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let mut out = Vec::new();
        for (w, n) in self.inner.sorted() {
            out.extend_from_slice(&(w.len() as u32).to_le_bytes());
            out.extend_from_slice(w);
            out.extend_from_slice(&n.to_le_bytes());
        }
        PyBytes::new(py, &out)
    }

    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        let mut inner = WordCounts::new();
        let mut rest = data;
        let bad = || PyValueError::new_err("WordCounts.from_bytes: truncated or corrupt data");
        while !rest.is_empty() {
            let len = u32::from_le_bytes(
                rest.get(..4)
                    .ok_or_else(bad)?
                    .try_into()
                    .map_err(|_| bad())?,
            ) as usize;
            let word = rest.get(4..4 + len).ok_or_else(bad)?;
            let n = u64::from_le_bytes(
                rest.get(4 + len..12 + len)
                    .ok_or_else(bad)?
                    .try_into()
                    .map_err(|_| bad())?,
            );
            inner.add(word, n);
            rest = &rest[12 + len..];
        }
        Ok(PyWordCounts {
            inner,
            ..Default::default()
        })
    }

    /// Pickles as the counts file's bytes: compact, and the provenance travels with the counts.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let cls = py.get_type::<PyWordCounts>();
        let from_bytes = cls.getattr("from_file_bytes")?;
        let data = slf.borrow().to_file_bytes(py);
        PyTuple::new(py, [from_bytes, PyTuple::new(py, [data])?.into_any()])
    }
}

/// How counts made with `opts` are recorded in the counts file.
fn provenance(opts: &CountOptions, bytes_read: u64) -> Provenance {
    Provenance {
        origin: Some(Origin {
            pattern: opts.pretokenizer.pattern().to_string(),
            special_tokens: opts.special_tokens.clone(),
        }),
        bytes_read,
    }
}

fn count_options(
    special_tokens: Vec<String>,
    pattern: Option<&str>,
    threads: Option<usize>,
    chunk_size: Option<usize>,
    errors: &str,
) -> Result<CountOptions> {
    let pretokenizer = match pattern {
        None => Pretokenizer::gpt2(),
        Some(p) => Pretokenizer::from_pattern(p)?,
    };
    if chunk_size == Some(0) {
        return Err(Error::value("chunk_size must be at least 1"));
    }
    // Validate special tokens here so bad ones fail before any reading.
    crate::special::SpecialMatcher::new(&special_tokens)?;
    Ok(CountOptions {
        pretokenizer,
        special_tokens,
        threads,
        chunk_size: chunk_size.unwrap_or(chunk::DEFAULT_CHUNK_SIZE),
        utf8: Utf8Mode::parse(errors)?,
    })
}

/// Counts the pre-tokens of files (each file an independent input), in parallel.
#[pyfunction]
#[pyo3(signature = (paths, special_tokens, pattern=None, threads=None, chunk_size=None, errors="strict", progress=false))]
#[allow(clippy::too_many_arguments)]
fn count_files(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    special_tokens: Vec<String>,
    pattern: Option<&str>,
    threads: Option<&Bound<'_, PyAny>>,
    chunk_size: Option<usize>,
    errors: &str,
    progress: bool,
) -> PyResult<PyWordCounts> {
    let threads = thread_count(threads, "threads")?;
    let opts = count_options(special_tokens, pattern, threads, chunk_size, errors).py_err()?;
    let monitor = Monitor::new(progress);
    let inner = run_interruptible(py, &monitor, || train::count_files(&paths, &opts, &monitor))?;
    let bytes_read = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    Ok(PyWordCounts {
        inner,
        prov: provenance(&opts, bytes_read),
    })
}

/// One Python item -> a Rust String. Lone surrogates cannot be UTF-8: an error in strict mode, else
/// replaced by U+FFFD the way tiktoken does (UTF-16 with surrogatepass, decoded with replace).
/// With `bytes_items`, a `bytes` item is UTF-8 text too (checked here, under the same `errors`
/// rule), so a caller holding raw file blocks (`fastbpe.shards`) skips Python's decode and the
/// re-encode of the str.
fn item_to_string(
    item: &Bound<'_, PyAny>,
    index: usize,
    utf8: Utf8Mode,
    bytes_items: bool,
) -> PyResult<String> {
    if bytes_items {
        if let Ok(b) = item.downcast::<PyBytes>() {
            let context = format!("training text {index}");
            return Ok(chunk::decode(b.as_bytes(), utf8, &context, 0)
                .py_err()?
                .into_owned());
        }
    }
    let s = item.downcast::<PyString>().map_err(|_| {
        PyTypeError::new_err(format!(
            "training texts must be str; item {index} is {}",
            item.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "?".into())
        ))
    })?;
    match s.to_cow() {
        Ok(c) => Ok(c.into_owned()),
        Err(_) if utf8 == Utf8Mode::Replace => s
            .call_method1("encode", ("utf-16", "surrogatepass"))?
            .call_method1("decode", ("utf-16", "replace"))?
            .extract::<String>(),
        Err(_) => Err(PyValueError::new_err(format!(
            "training text {index} contains a lone surrogate, which is not valid Unicode text; \
             pass errors=\"replace\" to replace it with U+FFFD"
        ))),
    }
}

/// Counts the texts of any Python iterable of str, streaming: batches of about `batch_bytes` are
/// pulled under the GIL while the previous batch is counted on the pool with the GIL released.
/// At most three batches exist at once (one counting, one queued, one being pulled).
#[pyfunction]
#[pyo3(signature = (iterable, special_tokens, pattern=None, threads=None, chunk_size=None, errors="strict", progress=false, batch_bytes=None, *, bytes_items=false))]
#[allow(clippy::too_many_arguments)]
fn count_iter(
    py: Python<'_>,
    iterable: &Bound<'_, PyAny>,
    special_tokens: Vec<String>,
    pattern: Option<&str>,
    threads: Option<&Bound<'_, PyAny>>,
    chunk_size: Option<usize>,
    errors: &str,
    progress: bool,
    batch_bytes: Option<usize>,
    bytes_items: bool,
) -> PyResult<PyWordCounts> {
    let threads = thread_count(threads, "threads")?;
    let opts = count_options(special_tokens, pattern, threads, chunk_size, errors).py_err()?;
    let iter = iterable.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "expected an iterable of str, got {}",
            iterable
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "?".into())
        ))
    })?;
    let n_threads = crate::parallel::threads(threads).py_err()?;
    let batch_bytes = batch_bytes
        .unwrap_or(n_threads * 4 * opts.chunk_size)
        .max(1);
    let monitor = Monitor::new(progress);
    let (tx, rx) = mpsc::sync_channel::<Vec<String>>(1);
    let (done_tx, done_rx) = mpsc::channel::<Result<WordCounts>>();

    std::thread::scope(|scope| -> PyResult<PyWordCounts> {
        let (opts_ref, mon) = (&opts, &monitor);
        scope.spawn(move || {
            let r = crate::parallel::install(opts_ref.threads, || -> Result<WordCounts> {
                let counter = BatchCounter::new(opts_ref)?;
                mon.start("counting", Unit::Bytes, None);
                for batch in rx {
                    counter.count(&batch, mon)?;
                }
                let counts = counter.finish();
                mon.finish();
                Ok(counts)
            });
            let _ = done_tx.send(r.and_then(|x| x));
        });

        // Pull batches until the iterable ends, the worker stops (an error), or Ctrl-C.
        let mut bytes_read = 0u64;
        let pulled: PyResult<()> = (|| {
            let mut index = 0usize;
            let mut iter = iter;
            loop {
                let mut batch = Vec::new();
                let mut bytes = 0usize;
                let mut ended = false;
                while bytes < batch_bytes {
                    match iter.next() {
                        None => {
                            ended = true;
                            break;
                        }
                        Some(item) => {
                            let s = item_to_string(&item?, index, opts_ref.utf8, bytes_items)?;
                            index += 1;
                            bytes += s.len();
                            bytes_read += s.len() as u64;
                            batch.push(s);
                        }
                    }
                }
                if !batch.is_empty() {
                    // Blocks while the worker is busy; Ctrl-C is watched meanwhile.
                    let tx = &tx;
                    let sent = run_interruptible(py, mon, move || Ok(tx.send(batch).is_ok()))?;
                    if !sent {
                        return Ok(()); // the worker failed; its error comes from done_rx
                    }
                }
                if ended {
                    return Ok(());
                }
            }
        })();
        drop(tx);
        if pulled.is_err() {
            monitor.cancel();
        }
        let counted = run_interruptible(py, &monitor, move || {
            done_rx
                .recv()
                .unwrap_or_else(|_| Err(Error::internal("the counting thread stopped")))
        });
        // An error while pulling (TypeError, KeyboardInterrupt, ...) wins over the
        // worker's resulting `Interrupted`.
        pulled?;
        Ok(PyWordCounts {
            inner: counted?,
            prov: provenance(opts_ref, bytes_read),
        })
    })
}

/// Learns merges from counts. Returns (vocab: dict[int, bytes], merges: list[tuple[bytes, bytes]],
/// ran_out: bool).
#[pyfunction]
#[pyo3(signature = (counts, vocab_size, special_tokens, min_frequency=None, threads=None, progress=false))]
fn train_from_counts<'py>(
    py: Python<'py>,
    counts: PyRef<'py, PyWordCounts>,
    vocab_size: &Bound<'py, PyAny>,
    special_tokens: Vec<String>,
    min_frequency: Option<&Bound<'py, PyAny>>,
    threads: Option<&Bound<'py, PyAny>>,
    progress: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let opts = merge_options(vocab_size, special_tokens, min_frequency, threads)?;
    let monitor = Monitor::new(progress);
    let counts = &counts.inner;
    let learned = run_interruptible(py, &monitor, || train::learn_ids(counts, &opts, &monitor))?;
    // One bytes object per token, shared by `vocab` and `merges`; each Rust buffer is freed as soon
    // as it is copied (tokens of a huge pre-token can add up to many times the corpus).
    let vocab = PyDict::new(py);
    let mut objects: Vec<Bound<'py, PyBytes>> = Vec::with_capacity(learned.vocab.len());
    for (id, bytes) in learned.vocab.into_iter().enumerate() {
        let b = PyBytes::new(py, &bytes);
        drop(bytes);
        vocab.set_item(id, &b)?;
        objects.push(b);
    }
    let merges = PyList::empty(py);
    for &(a, b) in &learned.merges {
        let (Some(a), Some(b)) = (objects.get(a as usize), objects.get(b as usize)) else {
            return Err(Error::internal("a merge of an unknown token")).py_err();
        };
        merges.append(PyTuple::new(py, [a, b])?)?;
    }
    PyTuple::new(
        py,
        [
            vocab.into_any(),
            merges.into_any(),
            pyo3::types::PyBool::new(py, learned.ran_out)
                .to_owned()
                .into_any(),
        ],
    )
}

/// `MergeOptions` from Python arguments (errors name the argument), checked.
fn merge_options(
    vocab_size: &Bound<'_, PyAny>,
    special_tokens: Vec<String>,
    min_frequency: Option<&Bound<'_, PyAny>>,
    threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<MergeOptions> {
    let opts = MergeOptions {
        vocab_size: usize::try_from(non_negative(vocab_size, "vocab_size")?).unwrap_or(usize::MAX),
        special_tokens,
        min_frequency: match min_frequency {
            Some(m) => non_negative(m, "min_frequency")?,
            None => 0,
        },
        threads: thread_count(threads, "threads")?,
    };
    opts.check().py_err()?;
    Ok(opts)
}

/// Checks the arguments of `train_from_counts` without training (so `fastbpe.train` can refuse
/// a bad `vocab_size` before counting a corpus): the rules live in `MergeOptions::check`.
#[pyfunction]
#[pyo3(signature = (vocab_size, special_tokens, min_frequency=None, threads=None))]
fn check_merge_args(
    vocab_size: &Bound<'_, PyAny>,
    special_tokens: Vec<String>,
    min_frequency: Option<&Bound<'_, PyAny>>,
    threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    merge_options(vocab_size, special_tokens, min_frequency, threads).map(drop)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWordCounts>()?;
    m.add_function(wrap_pyfunction!(check_merge_args, m)?)?;
    m.add_function(wrap_pyfunction!(count_files, m)?)?;
    m.add_function(wrap_pyfunction!(count_iter, m)?)?;
    m.add_function(wrap_pyfunction!(train_from_counts, m)?)?;
    Ok(())
}
