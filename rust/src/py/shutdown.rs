//! Releasing and re-taking the GIL safely while the interpreter exits.
//!
//! CPython (before 3.14) ends a thread that takes the GIL back after finalization has begun with
//! `pthread_exit`. Its forced unwind runs into PyO3's `catch_unwind` and aborts the whole process
//! ("FATAL: exception not rethrown"): a daemon thread (a data loader, say) that is inside a fastbpe
//! call when the program ends would crash it. CPython 3.14 hangs such threads instead; this module
//! does the same on every version.
//!
//! Python's `atexit` handlers run before finalization begins, so `fastbpe` registers
//! [`interpreter_exiting`] there. From then on, a thread about to take the GIL back parks forever
//! instead (the process is about to end). A thread that already decided to take the GIL back is
//! counted in `REATTACHING`; the exiting thread releases the GIL until that count drops to zero,
//! so no thread is left waiting for the GIL when finalization begins. The flag and the count are
//! each written before the other is read (sequentially consistent), so one side always sees the
//! other.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use pyo3::prelude::*;

use crate::fork_safe::RaceOnce;

use pyo3::marker::Ungil;

static EXITING: AtomicBool = AtomicBool::new(false);
static REATTACHING: AtomicUsize = AtomicUsize::new(0);
/// The thread that runs the `atexit` handlers and then finalizes: it must never park. (Not a
/// `OnceLock`: a fork while it is being set would leave the child waiting on it.)
static FINALIZING_THREAD: RaceOnce<ThreadId> = RaceOnce::new();

/// Longest time the exiting thread waits for threads that are taking the GIL back.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// Called from `atexit` (with the GIL): later re-attachments by other threads park instead.
#[pyfunction]
#[pyo3(name = "_interpreter_exiting")]
pub fn interpreter_exiting(py: Python<'_>) {
    FINALIZING_THREAD.get_or_init(|| thread::current().id());
    EXITING.store(true, SeqCst);
    let start = Instant::now();
    while REATTACHING.load(SeqCst) > 0 && start.elapsed() < MAX_WAIT {
        // Let the waiting threads take the GIL and get back into Python.
        py.detach(|| thread::sleep(Duration::from_millis(1)));
    }
}

fn before_reattach() {
    REATTACHING.fetch_add(1, SeqCst);
    if EXITING.load(SeqCst) && FINALIZING_THREAD.get() != Some(&thread::current().id()) {
        REATTACHING.fetch_sub(1, SeqCst);
        loop {
            thread::park();
        }
    }
}

fn after_reattach() {
    REATTACHING.fetch_sub(1, SeqCst);
}

/// `py.detach(f)` that parks instead of taking the GIL back once the interpreter is exiting.
pub fn detach<T, F>(py: Python<'_>, f: F) -> T
where
    F: Ungil + Send + FnOnce() -> T,
    T: Ungil + Send,
{
    let out = py.detach(|| {
        let out = f();
        before_reattach();
        out
    });
    after_reattach();
    out
}

/// `Python::attach(f)` from a thread that does not hold the GIL, with the same rule as [`detach`].
pub fn attach<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
    before_reattach();
    Python::attach(|py| {
        after_reattach();
        f(py)
    })
}
