//! Token ids as Python lists, fast.
//!
//! Why this exists: on short texts, turning ids into Python objects cost more than encoding them.
//! `PyLong_FromLong` allocates a new int for every id above 256, freeing them later costs as much
//! again, and a batch of many small lists sets off the cyclic garbage collector over and over
//! (each collection walks the lists built so far). So:
//! - each tokenizer makes the int objects of its ids once, on first use, and every list shares
//!   them (ints are immutable; CPython shares its small ints the same way);
//! - while a large batch is turned into lists, the garbage collector is paused. Nothing else runs
//!   meanwhile (the GIL is held and list building calls no Python code), and new lists of ints
//!   can hold no reference cycle, so there is nothing for it to find.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyInt, PyList};

/// Ids below this get a shared int object (at most 32 bytes each: 8 MB for the largest cache).
/// Larger ids, which only huge vocabularies have, are made per use.
const CACHED_IDS: usize = 1 << 18;

/// From this many lists on, the garbage collector is paused while they are built.
const PAUSE_GC_FROM: usize = 1000;

pub struct IdObjects {
    size: usize,
    ints: PyOnceLock<Vec<Py<PyInt>>>,
}

impl IdObjects {
    /// Shared ints for ids `0..n_vocab` (up to `CACHED_IDS`), made on first use.
    pub fn new(n_vocab: usize) -> Self {
        IdObjects {
            size: n_vocab.min(CACHED_IDS),
            ints: PyOnceLock::new(),
        }
    }

    fn ints(&self, py: Python<'_>) -> &[Py<PyInt>] {
        self.ints.get_or_init(py, || {
            (0..self.size).map(|i| PyInt::new(py, i).unbind()).collect()
        })
    }

    /// `ids` as a Python list of ints.
    pub fn list<'py>(&self, py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
        let ints = self.ints(py);
        PyList::new(
            py,
            ids.iter().map(|&id| match ints.get(id as usize) {
                Some(int) => int.bind(py).clone(),
                None => PyInt::new(py, id),
            }),
        )
    }

    /// Each of `batch` as a Python list, in a list.
    pub fn lists<'py>(&self, py: Python<'py>, batch: &[Vec<u32>]) -> PyResult<Bound<'py, PyList>> {
        let _paused = if batch.len() >= PAUSE_GC_FROM {
            GcPause::new(py)?
        } else {
            None
        };
        let lists = batch
            .iter()
            .map(|ids| self.list(py, ids))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, lists)
    }
}

/// Disables Python's cyclic garbage collector until dropped, if it was enabled.
struct GcPause<'py> {
    gc: Bound<'py, PyModule>,
}

impl<'py> GcPause<'py> {
    fn new(py: Python<'py>) -> PyResult<Option<Self>> {
        let gc = py.import("gc")?;
        if !gc.call_method0("isenabled")?.extract::<bool>()? {
            return Ok(None); // the caller turned it off; leave it off
        }
        gc.call_method0("disable")?;
        Ok(Some(GcPause { gc }))
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        // Cannot fail in practice (gc.enable takes no arguments); if it did, report it rather
        // than raise from a destructor.
        if let Err(e) = self.gc.call_method0("enable") {
            e.write_unraisable(self.gc.py(), None);
        }
    }
}
