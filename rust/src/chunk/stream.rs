//! Parallel work over a stream's chunks: the reader stays on the calling thread, each chunk is
//! handed to the rayon pool, and a semaphore ([`Permits`]) bounds the chunks alive at once, so
//! memory stays about `in_flight * chunk_size` whatever the stream's length. Used by
//! `encode_file` (with its ordered writer) and by training on streams
//! ([`par_for_each_chunk`]).

use std::io::Read;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use super::{Chunk, ChunkReader};
use crate::error::{Error, Result};
use crate::monitor::Monitor;

/// A counting semaphore bounding the chunks alive at once; waits notice failures and Ctrl-C.
pub struct Permits {
    state: Mutex<(usize, bool)>,
    cv: Condvar,
}

impl Permits {
    pub fn new(n: usize) -> Self {
        Permits {
            state: Mutex::new((n.max(1), false)),
            cv: Condvar::new(),
        }
    }

    /// Takes a permit; fails once [`Permits::fail`] was called or `monitor` is cancelled.
    pub fn acquire(&self, monitor: &Monitor) -> Result<()> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| Error::Internal("lock poisoned".into()))?;
        loop {
            monitor.check()?;
            if state.1 {
                // The real error is reported by whoever failed; this one never is.
                return Err(Error::value("stopped after an earlier error"));
            }
            if state.0 > 0 {
                state.0 -= 1;
                return Ok(());
            }
            state = self
                .cv
                .wait_timeout(state, Duration::from_millis(50))
                .map_err(|_| Error::Internal("lock poisoned".into()))?
                .0;
        }
    }

    pub fn release(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.0 += 1;
        }
        self.cv.notify_one();
    }

    /// Something failed: every waiting and future `acquire` fails.
    pub fn fail(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.1 = true;
        }
        self.cv.notify_all();
    }
}

/// Calls `work` on every chunk of `reader`, in parallel on the current rayon pool, with at most
/// `in_flight` chunks alive at once. Returns the error of the earliest chunk that failed (chunks
/// are dispatched in order and dispatch stops at the first failure, so that is the first error
/// in the stream), or the reader's own error (a read error, Ctrl-C via `monitor`).
pub fn par_for_each_chunk<R, F>(
    mut reader: ChunkReader<R>,
    in_flight: usize,
    monitor: &Monitor,
    work: F,
) -> Result<()>
where
    R: Read,
    F: Fn(&Chunk) -> Result<()> + Sync,
{
    let permits = Permits::new(in_flight);
    let first_error: Mutex<Option<(u64, Error)>> = Mutex::new(None);
    let read_result = rayon::in_place_scope(|scope| -> Result<()> {
        loop {
            if permits.acquire(monitor).is_err() {
                return monitor.check(); // Ctrl-C, or a chunk failed (reported below)
            }
            let chunk = match reader.next_chunk() {
                Ok(Some(c)) => c,
                Ok(None) => return Ok(()),
                Err(e) => {
                    monitor.check()?;
                    return Err(e);
                }
            };
            let (permits, first_error, work) = (&permits, &first_error, &work);
            scope.spawn(move |_| {
                if let Err(e) = work(&chunk) {
                    if let Ok(mut slot) = first_error.lock() {
                        if slot.as_ref().is_none_or(|(at, _)| chunk.offset < *at) {
                            *slot = Some((chunk.offset, e));
                        }
                    }
                    permits.fail();
                }
                permits.release();
            });
        }
    });
    let failed = first_error
        .into_inner()
        .map_err(|_| Error::Internal("lock poisoned".into()))?;
    match failed {
        Some((_, e)) => Err(e),
        None => read_result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{CutRule, Cutter};

    #[test]
    fn every_chunk_once_and_the_first_error() {
        let text = b"word word\n".repeat(5000);
        let cutter = Cutter::new(&[], CutRule::Gpt2).unwrap();
        let seen = Mutex::new(Vec::new());
        let reader = ChunkReader::new(text.as_slice(), cutter.clone(), 100, "mem");
        par_for_each_chunk(reader, 3, &Monitor::silent(), |c| {
            seen.lock().unwrap().push((c.offset, c.data.clone()));
            Ok(())
        })
        .unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        let joined: Vec<u8> = seen.iter().flat_map(|(_, d)| d.iter().copied()).collect();
        assert_eq!(joined, text);
        let reader = ChunkReader::new(text.as_slice(), cutter, 100, "mem");
        let err = par_for_each_chunk(reader, 4, &Monitor::silent(), |c| {
            if c.offset >= 20_000 {
                Err(Error::value(format!("bad at {}", c.offset)))
            } else {
                Ok(())
            }
        })
        .unwrap_err()
        .to_string();
        let at: u64 = err.trim_start_matches("bad at ").parse().unwrap();
        assert!((20_000..20_200).contains(&at), "{err}");
    }
}
