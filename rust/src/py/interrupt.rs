//! Runs long work with the GIL released while the calling thread watches for Ctrl-C.
//!
//! Python runs signal handlers only on the main thread, and only when that thread checks for them.
//! So the work runs on a scoped worker thread; the caller waits for it in 50 ms slices, checking
//! signals between slices. On Ctrl-C it cancels the shared `Monitor`, waits for the worker to stop
//! at its next check, and raises the `KeyboardInterrupt` that Python raised.

use std::sync::mpsc;
use std::time::Duration;

use pyo3::prelude::*;

use crate::error::{Error, Result};
use crate::monitor::Monitor;

use super::errors::to_py;
use super::shutdown::{attach, detach};

pub fn run_interruptible<T, F>(py: Python<'_>, monitor: &Monitor, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> Result<T> + Send,
{
    let mut signal: Option<PyErr> = None;
    let outcome = detach(py, || {
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel();
            let handle = scope.spawn(move || {
                let r = work();
                let _ = tx.send(());
                r
            });
            loop {
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if signal.is_none() {
                            if let Err(e) = attach(|py| py.check_signals()) {
                                signal = Some(e);
                                monitor.cancel();
                            }
                        }
                    }
                }
            }
            handle.join()
        })
    });
    if let Some(e) = signal {
        return Err(e);
    }
    match outcome {
        Ok(r) => r.map_err(to_py),
        Err(_) => Err(to_py(Error::internal("a worker thread panicked"))),
    }
}
