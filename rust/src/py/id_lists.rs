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
//!   can hold no reference cycle, so there is nothing for it to find;
//! - a long conversion gives the GIL away for a moment every `YIELD_EVERY` ids: building the
//!   objects needs the GIL, and 14M ids take ~0.1 s, which would stall every other Python thread
//!   for that long (tests/test_concurrency.py's GIL tests). Uncontended, a yield is one mutex
//!   round trip; a list under construction is only ever seen by this thread;
//! - every list is made at its final length and filled in place (`fill`), and a long list takes
//!   its references to the shared ints as counts (`Refs`).
//!
//! Performance notes (session 8, GPT-2, `encode_ordinary` on 5 MB after another 5 MB in a fresh
//! process, process CPU time, best of 5 interleaved): perf put a quarter of the call on 5 MB of
//! code on the list (2.7M ids): `Py_INCREF` on each shared int (its writes missed the cache:
//! 75% of the list's own time), `PyList_Append` past the first `YIELD_EVERY` ids and its
//! reallocations. Both changes together: English 85.2 -> 90.2, multilingual 53.6 -> 60.2, code
//! 87.8 -> 93.5 MB/s. (Session 7 had tried the in-place fill alone and seen no change within
//! that day's noise.)
//! Also dropped (session 9): the list's slots pre-faulted by `madvise(MADV_POPULATE_WRITE)`
//! before filling (16 MB in 4.0-4.7 ms against 6.0-6.6 by first touch, but the list memory of
//! a second call mostly comes back from the allocator already mapped): code 5 MB within 2%, in
//! the noise; huge pages (`MADV_HUGEPAGE`) for such buffers: 16 MB touched in 8.1-9.1 ms.
//! Tried and dropped with it: carrying the calling thread's piece cache to the thread that runs
//! a long call (`py/interrupt.rs` starts one per call, whose cache starts empty): English 87.1,
//! multilingual 52.4, code 90.1 MB/s in the same runs, no better than without.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyList};

use crate::error::{Error, Result};
use crate::fork_safe::RaceOnce;

use super::shutdown::{attach, detach};

/// Ids below this get a shared int object (at most 32 bytes each: 8 MB for the largest cache).
/// Larger ids, which only huge vocabularies have, are made per use.
const CACHED_IDS: usize = 1 << 18;

/// From this many lists on, the garbage collector is paused while they are built.
const PAUSE_GC_FROM: usize = 1000;

/// Ids converted between two moments with the GIL released (see the module comment).
const YIELD_EVERY: usize = 1 << 20;

/// Counts converted ids and lets other Python threads run every `YIELD_EVERY` of them.
struct Yielder(usize);

impl Yielder {
    /// Whether converting `n` more ids reaches the next yield.
    fn due(&self, n: usize) -> bool {
        self.0 + n >= YIELD_EVERY
    }

    fn after(&mut self, py: Python<'_>, n: usize) {
        self.0 += n;
        if self.0 >= YIELD_EVERY {
            self.0 = 0;
            detach(py, || ());
        }
    }
}

pub struct IdObjects {
    size: usize,
    /// Not a `PyOnceLock`: that one gives the GIL away while it holds its own lock, so a fork
    /// from another thread right then left the child's first list of this tokenizer waiting
    /// forever. With the GIL held, one thread makes the ints (racing threads would each make
    /// them and keep one).
    ints: RaceOnce<Vec<Py<PyInt>>>,
}

impl IdObjects {
    /// Shared ints for ids `0..n_vocab` (up to `CACHED_IDS`), made on first use.
    pub fn new(n_vocab: usize) -> Self {
        IdObjects {
            size: n_vocab.min(CACHED_IDS),
            ints: RaceOnce::new(),
        }
    }

    fn ints(&self, py: Python<'_>) -> &[Py<PyInt>] {
        self.ints
            .get_or_init(|| (0..self.size).map(|i| PyInt::new(py, i).unbind()).collect())
    }

    /// `ids` as a Python list of ints.
    pub fn list<'py>(&self, py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
        let mut list = None;
        self.build(py, &[ids], &mut Yielder(0), |l| list = Some(l))?;
        list.ok_or_else(|| PyErr::fetch(py))
    }

    /// Each of `batch` as a Python list, handed to `push` in order. The references all of them
    /// take to the shared ints are counted together (`Refs`): a batch of short lists (one per
    /// line of a text) is as long for the int objects' cache lines as one long list.
    fn build<'py>(
        &self,
        py: Python<'py>,
        batch: &[&[u32]],
        yielder: &mut Yielder,
        mut push: impl FnMut(Bound<'py, PyList>),
    ) -> PyResult<()> {
        let ints = self.ints(py);
        let total = batch.iter().map(|ids| ids.len()).sum();
        let mut refs = Refs::new(ints, total);
        let mut uncounted = 0usize; // ids stored since the last `refs.add`
        for ids in batch {
            // SAFETY: `PyList_New` gives a new list of `ids.len()` empty slots (or NULL with an
            // exception set); each slot is filled once below, with an owned reference, before
            // the list is handed on. While the GIL is given away (`yielder`), the list is
            // reachable from no Python object and, untracked, not from the collector either (so
            // no one walks its empty slots), and every reference stored so far in it and in
            // the lists before it has been counted (`Refs::add`); so has every reference of a
            // list dropped on an error.
            unsafe {
                let raw = ffi::PyList_New(ids.len() as ffi::Py_ssize_t);
                let list = match Bound::from_owned_ptr_or_err(py, raw) {
                    Ok(list) => list.downcast_into_unchecked::<PyList>(),
                    Err(e) => {
                        refs.add();
                        return Err(e);
                    }
                };
                ffi::PyObject_GC_UnTrack(raw.cast());
                for (c, chunk) in ids.chunks(YIELD_EVERY).enumerate() {
                    let filled = fill(raw, c * YIELD_EVERY, chunk, ints, &mut refs);
                    uncounted += chunk.len();
                    if filled.is_err() {
                        refs.add();
                        ffi::PyObject_GC_Track(raw.cast());
                        return Err(PyErr::fetch(py));
                    }
                    if yielder.due(uncounted) {
                        refs.add();
                        yielder.after(py, uncounted);
                        uncounted = 0;
                    }
                }
                ffi::PyObject_GC_Track(raw.cast());
                push(list);
            }
        }
        refs.add();
        yielder.after(py, uncounted);
        Ok(())
    }

    /// Each of `batch` as a Python list, in a list.
    pub fn lists<'py>(&self, py: Python<'py>, batch: &[Vec<u32>]) -> PyResult<Bound<'py, PyList>> {
        let _paused = GcPause::for_batch(py, batch.len())?;
        let batch: Vec<&[u32]> = batch.iter().map(|ids| &ids[..]).collect();
        let mut lists = Vec::with_capacity(batch.len());
        self.build(py, &batch, &mut Yielder(0), |l| lists.push(l))?;
        PyList::new(py, lists)
    }
}

/// Stores a reference to the int of each of `ids` in `list`'s slots from `at` on. References to
/// shared ints are counted in `refs`, not taken; others are new ints. Err (with a Python
/// exception set) when an int cannot be made; the slots after it stay empty.
///
/// # Safety
/// `list` is a list with empty slots `at..at + ids.len()`; the GIL is held.
unsafe fn fill(
    list: *mut ffi::PyObject,
    at: usize,
    ids: &[u32],
    ints: &[Py<PyInt>],
    refs: &mut Refs<'_>,
) -> std::result::Result<(), ()> {
    for (k, &id) in ids.iter().enumerate() {
        let obj = match ints.get(id as usize) {
            Some(int) => {
                refs.count(id as usize, int);
                int.as_ptr()
            }
            None => ffi::PyLong_FromUnsignedLong(id.into()),
        };
        if obj.is_null() {
            return Err(());
        }
        set_item(list, at + k, obj);
    }
    Ok(())
}

/// `PyList_SET_ITEM`: steals `obj` into an empty slot.
#[inline(always)]
unsafe fn set_item(list: *mut ffi::PyObject, i: usize, obj: *mut ffi::PyObject) {
    #[cfg(not(feature = "abi3"))]
    ffi::PyList_SET_ITEM(list, i as ffi::Py_ssize_t, obj);
    // The stable ABI has no macro; the call cannot fail on a fresh list's slot in range.
    #[cfg(feature = "abi3")]
    ffi::PyList_SetItem(list, i as ffi::Py_ssize_t, obj);
}

/// The references lists take to the shared ints, counted per id and added to each int's count
/// once per batch step (or per chunk of a long list), for lists of `COUNT_FROM` ids or more.
///
/// Why: taking each reference as it is stored (`Py_INCREF`) writes into a random int object
/// per id, and those writes missed the cache: perf put 75% of building a list of 2.7M GPT-2
/// ids on them. The counts are one small array (4 bytes an id, at most 1 MB with `CACHED_IDS`;
/// kept by each thread that builds lists, all zero when kept), then one `Py_INCREF` run per
/// distinct id on one hot cache line. The lists of one batch step share the counts (session 9:
/// 145K lines are as many scattered writes as one long list): `encode_ordinary_batch` of 143K
/// English lines, 1 thread, process CPU time, best of 5 in 3 alternated runs each, o200k
/// 41.1-44.9 -> 47.4-49.0 MB/s, GPT-2 53.4-56.1 -> 51.7-58.3 (no change beyond noise); 2
/// threads, wall clock, GPT-2 97-102 -> 100-108. Fewer ids take references directly (the
/// counts' setup would cost more than the list).
enum Refs<'a> {
    Direct,
    Counted {
        ints: &'a [Py<PyInt>],
        /// `counts[id]` references not yet taken, nonzero only for the ids in `touched`.
        counts: Vec<u32>,
        touched: Vec<u32>,
    },
}

/// From this many ids on, references are counted (`Refs`).
const COUNT_FROM: usize = 1024;

thread_local! {
    /// A zeroed `Refs` counts array, kept for the next lists this thread builds.
    static COUNTS: std::cell::Cell<Vec<u32>> = const { std::cell::Cell::new(Vec::new()) };
}

impl<'a> Refs<'a> {
    fn new(ints: &'a [Py<PyInt>], n_ids: usize) -> Self {
        if n_ids < COUNT_FROM {
            return Refs::Direct;
        }
        let mut counts = COUNTS.try_with(|c| c.take()).unwrap_or_default();
        counts.resize(ints.len(), 0); // all kept entries are zero, so all are now
        Refs::Counted {
            ints,
            counts,
            touched: Vec::new(),
        }
    }

    #[inline(always)]
    fn count(&mut self, id: usize, int: &Py<PyInt>) {
        match self {
            // SAFETY: the GIL is held (`fill`'s contract) and `int` is alive.
            Refs::Direct => unsafe { ffi::Py_INCREF(int.as_ptr()) },
            Refs::Counted {
                counts, touched, ..
            } => {
                let c = &mut counts[id];
                if *c == 0 {
                    touched.push(id as u32);
                }
                *c += 1;
            }
        }
    }

    /// Takes the counted references (GIL held) and clears the counts.
    fn add(&mut self) {
        if let Refs::Counted {
            ints,
            counts,
            touched,
        } = self
        {
            for &id in touched.iter() {
                let c = &mut counts[id as usize];
                for _ in 0..*c {
                    // SAFETY: the GIL is held and the int is alive (`ints` holds a reference).
                    unsafe { ffi::Py_INCREF(ints[id as usize].as_ptr()) };
                }
                *c = 0;
            }
            touched.clear();
        }
    }
}

impl Drop for Refs<'_> {
    /// Takes what is still counted (every path adds before the lists are seen, so nothing
    /// should be; taking it keeps the counts right regardless) and keeps the zeroed counts.
    fn drop(&mut self) {
        self.add();
        if let Refs::Counted { counts, .. } = self {
            let counts = std::mem::take(counts);
            let _ = COUNTS.try_with(|c| c.set(counts));
        }
    }
}

/// The lists of a batch, built on the calling thread while worker threads encode later texts
/// (`Tokenizer::encode_batch_with`): each step takes the GIL, checks for Ctrl-C, turns the texts
/// finished so far into lists and gives the GIL back. The caller pauses the garbage collector
/// for the whole batch ([`GcPause::for_batch`]).
pub struct BatchLists<'a> {
    ids: &'a IdObjects,
    lists: Vec<Py<PyList>>,
    yielder: Yielder,
    /// The Python error that stopped the batch (Ctrl-C's KeyboardInterrupt, a MemoryError).
    error: Option<PyErr>,
}

impl<'a> BatchLists<'a> {
    pub fn new(ids: &'a IdObjects, texts: usize) -> Self {
        BatchLists {
            ids,
            lists: Vec::with_capacity(texts),
            yielder: Yielder(0),
            error: None,
        }
    }

    /// Makes lists of `done`; call without the GIL. An error stops the batch (`finish` says
    /// which).
    pub fn take(&mut self, done: &[&[u32]]) -> Result<()> {
        attach(|py| {
            let r = py.check_signals().and_then(|()| {
                let lists = &mut self.lists;
                self.ids
                    .build(py, done, &mut self.yielder, |l| lists.push(l.unbind()))
            });
            r.map_err(|e| {
                self.error = Some(e);
                Error::Interrupted
            })
        })
    }

    /// The list of lists, or the error that stopped the batch (`result`'s, unless a Python
    /// error came first).
    pub fn finish<'py>(self, py: Python<'py>, result: Result<()>) -> PyResult<Bound<'py, PyList>> {
        if let Some(e) = self.error {
            return Err(e);
        }
        result.map_err(super::errors::to_py)?;
        PyList::new(py, self.lists.into_iter().map(|l| l.into_bound(py)))
    }
}

/// Disables Python's cyclic garbage collector until dropped, if it was enabled.
pub struct GcPause<'py> {
    gc: Bound<'py, PyModule>,
}

impl<'py> GcPause<'py> {
    /// The pause for making the lists of a batch of `texts` texts: none for small batches.
    ///
    /// Paused once for a whole batch, not per step: pausing only while each step built its
    /// lists let a collection start after every step (the allocation count carries on while
    /// paused), and those collections were 38% of the calling thread's time on 130K lines
    /// (perf, 2 threads). Other Python threads that run while the batch has the GIL released
    /// see the collector paused too, for at most the batch's length; their garbage is still
    /// freed by reference counting, only cycles wait until the batch ends.
    pub fn for_batch(py: Python<'py>, texts: usize) -> PyResult<Option<Self>> {
        if texts < PAUSE_GC_FROM {
            return Ok(None);
        }
        GcPause::new(py)
    }

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
