//! Jobs `0..n` run on `threads` threads, the calling thread one of them, which also hands each
//! result on, in job order, as soon as it and all before it are done.
//!
//! Why: turning ids into Python lists needs the GIL, so one thread does it. When it came after
//! all encoding, that serial step capped 2 threads at 1.1-1.7x one. Here the calling thread
//! takes the next finished result when there is one and otherwise encodes the next unclaimed job
//! itself, so both cores stay busy and conversion overlaps encoding. Results stay in input order
//! because they are taken in job order; jobs are claimed in order too (one atomic counter), so
//! the result the caller waits for is always the oldest one in flight.
//!
//! The other `threads - 1` threads come from the cached pool of that size (`crate::parallel`),
//! which is fork-safe. A panic in a job becomes an error for that job (the caller would
//! otherwise wait for it forever); any error stops the run: unclaimed jobs are not started, and
//! the caller returns once the jobs in flight end.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The calling thread calls `step(None)` at least this often while it waits for a result.
pub const POLL_EVERY: Duration = Duration::from_millis(50);

struct Shared<T> {
    jobs: usize,
    next: AtomicUsize,
    stop: AtomicBool,
    done: Mutex<Vec<Option<Result<T>>>>,
    ready: Condvar,
}

impl<T> Shared<T> {
    fn claim(&self) -> Option<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return None;
        }
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        (k < self.jobs).then_some(k)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Option<Result<T>>>> {
        // A panic never happens while the lock is held (jobs run outside it).
        self.done.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run(&self, k: usize, work: &(impl Fn(usize) -> Result<T> + Sync)) {
        let r = catch_unwind(AssertUnwindSafe(|| work(k)))
            .unwrap_or_else(|_| Err(Error::internal("a batch job panicked")));
        let failed = r.is_err();
        self.lock()[k] = Some(r);
        if failed {
            self.stop.store(true, Ordering::Relaxed);
        }
        self.ready.notify_all();
    }

    /// Waits up to `timeout` for result `k`; whether it is done.
    fn wait(&self, k: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut done = self.lock();
        while done[k].is_none() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            done = match self.ready.wait_timeout(done, deadline - now) {
                Ok((d, _)) => d,
                Err(e) => e.into_inner().0,
            };
        }
        true
    }

    /// Result `k`, if it is done.
    fn take(&self, k: usize) -> Option<Result<T>> {
        self.lock()[k].take()
    }
}

/// Stops the run when dropped, however the caller leaves (an error, a panic in `take`).
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs `work(k)` for `k` in `0..jobs` on `threads` threads and calls `step` on the calling
/// thread with each result in order, and with None at least every `POLL_EVERY` while it waits;
/// an error from `step` stops the run. The first error (by job order, or from `step`) is
/// returned.
///
/// A job for which `long(k)` holds is never run on the calling thread itself: when the calling
/// thread claims one, it runs it on a thread of its own and waits, calling `step(None)` (a
/// long job would otherwise keep Ctrl-C unseen for its whole length; Python checks signals only
/// on the main thread). It still counts as the calling thread's share: no more than `threads`
/// threads work at once.
pub fn run<T: Send>(
    jobs: usize,
    threads: usize,
    work: impl Fn(usize) -> Result<T> + Sync,
    long: impl Fn(usize) -> bool,
    mut step: impl FnMut(Option<T>) -> Result<()>,
) -> Result<()> {
    let shared = Shared {
        jobs,
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        done: Mutex::new((0..jobs).map(|_| None).collect()),
        ready: Condvar::new(),
    };
    let mut caller = |shared: &Shared<T>| -> Result<()> {
        let _stop = StopOnDrop(&shared.stop);
        let mut polled = Instant::now();
        for k in 0..jobs {
            let r = loop {
                if let Some(r) = shared.take(k) {
                    break r;
                }
                match shared.claim() {
                    Some(j) if long(j) => std::thread::scope(|s| {
                        s.spawn(|| shared.run(j, &work));
                        while !shared.wait(j, POLL_EVERY) {
                            step(None)?;
                        }
                        polled = Instant::now();
                        Ok(())
                    })?,
                    Some(j) => shared.run(j, &work),
                    // Jobs are claimed in order and a failed job stops the run, so job k is
                    // claimed unless an earlier job failed, which was returned before this.
                    None if k >= shared.next.load(Ordering::Relaxed) => {
                        return Err(Error::internal("a stopped batch lost a job"));
                    }
                    None => {
                        if shared.wait(k, POLL_EVERY) {
                            continue;
                        }
                    }
                }
                if polled.elapsed() >= POLL_EVERY {
                    step(None)?;
                    polled = Instant::now();
                }
            };
            step(Some(r?))?;
        }
        Ok(())
    };
    let helpers = threads.saturating_sub(1).min(jobs.saturating_sub(1));
    if helpers == 0 {
        return caller(&shared);
    }
    let pool = crate::parallel::pool(Some(helpers))?;
    let shared = &shared;
    pool.in_place_scope(|s| {
        for _ in 0..helpers {
            s.spawn(|_| {
                while let Some(j) = shared.claim() {
                    shared.run(j, &work);
                }
            });
        }
        caller(shared)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_order_on_any_thread_count() {
        for threads in [1, 2, 3, 8] {
            for jobs in [0, 1, 2, 7, 100] {
                let mut got = Vec::new();
                run(
                    jobs,
                    threads,
                    |k| {
                        // Uneven job lengths, so later jobs often finish first.
                        std::thread::sleep(Duration::from_micros(((k * 7919) % 13) as u64 * 50));
                        Ok(k * k)
                    },
                    |k| k % 5 == 3, // some run on a thread of their own
                    |v| {
                        got.extend(v);
                        Ok(())
                    },
                )
                .unwrap();
                assert_eq!(got, (0..jobs).map(|k| k * k).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn errors_and_panics_stop_the_run() {
        for threads in [1, 2, 4] {
            let mut taken = Vec::new();
            let e = run(
                50,
                threads,
                |k| match k {
                    10 => Err(Error::value("job 10")),
                    30 => panic!("job 30"),
                    _ => Ok(k),
                },
                |_| false,
                |v| {
                    taken.extend(v);
                    Ok(())
                },
            )
            .unwrap_err();
            assert!(e.to_string().contains("job 10"), "{e}");
            assert_eq!(taken, (0..10).collect::<Vec<_>>());
            let e = run(50, threads, Ok, |_| false, |_| Err(Error::Interrupted));
            assert!(matches!(e, Err(Error::Interrupted)));
            let e = run(
                4,
                threads,
                |_| -> Result<()> { panic!("x") },
                |_| true,
                |_| Ok(()),
            );
            assert!(e.unwrap_err().to_string().contains("panicked"));
        }
    }

    #[test]
    fn poll_runs_while_waiting() {
        let me = std::thread::current().id();
        let helped = AtomicBool::new(false);
        let mut polls = 0;
        run(
            2,
            2,
            |_| {
                if std::thread::current().id() != me {
                    helped.store(true, Ordering::Relaxed);
                    std::thread::sleep(POLL_EVERY * 4);
                }
                Ok(())
            },
            |_| false,
            |step| {
                polls += usize::from(step.is_none());
                Ok(())
            },
        )
        .unwrap();
        // The caller waited for the helper's job, unless it ran both jobs itself.
        assert!(polls >= 2 || !helped.load(Ordering::Relaxed), "{polls}");
        let e = run(
            2,
            2,
            |_| {
                std::thread::sleep(POLL_EVERY * 2);
                Ok(())
            },
            |_| false,
            |step| match step {
                Some(()) => Ok(()),
                None => Err(Error::Interrupted),
            },
        );
        assert!(matches!(e, Err(Error::Interrupted)));
    }

    #[test]
    fn long_jobs_leave_the_calling_thread_free_to_poll() {
        // One thread: the long job runs on a thread of its own while the caller polls, and an
        // error from a poll (Ctrl-C) ends the run once the job stops.
        let me = std::thread::current().id();
        let stop = AtomicBool::new(false);
        let mut polls = 0;
        let e = run(
            1,
            1,
            |_| {
                assert_ne!(std::thread::current().id(), me);
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(())
            },
            |_| true,
            |step| {
                assert!(step.is_none());
                polls += 1;
                if polls == 3 {
                    stop.store(true, Ordering::Relaxed); // what cancelling the monitor does
                    return Err(Error::Interrupted);
                }
                Ok(())
            },
        );
        assert!(matches!(e, Err(Error::Interrupted)));
        assert_eq!(polls, 3);
    }

    #[test]
    fn never_more_jobs_at_once_than_threads() {
        for threads in [1, 2, 3] {
            let (active, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
            run(
                40,
                threads,
                |_| {
                    let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(2));
                    active.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                },
                |k| k % 3 == 0,
                |_| Ok(()),
            )
            .unwrap();
            assert!(most.load(Ordering::SeqCst) <= threads, "threads {threads}");
        }
    }
}
