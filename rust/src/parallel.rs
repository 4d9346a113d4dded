//! The thread pools that all parallel work runs on, and the one meaning of a thread count.
//!
//! `threads`: `None` means all cores; `1..=MAX_THREADS` that many threads; 0 and more than
//! `MAX_THREADS` are refused with an error naming the argument (0 as tiktoken's thread pool
//! refuses it; `threads=10**6` would try to start a million threads). Every entry point (training,
//! `encode_batch`, `encode_file`, the CLI) resolves its count through [`threads`] (the Python
//! layer through `py::args::thread_count`, which also names arguments too large for an int).
//!
//! Why not rayon's global pool: after `fork()` (Python multiprocessing), the child inherits the
//! global pool's bookkeeping but not its threads, so the first parallel call in the child waits
//! forever. The registry here is a [`ForkSafeMutex`]: a forked child starts with no pools (and
//! never waits on a registry lock that a parent thread held at the fork).
//!
//! Pools are cached per thread count, so `encode_batch(num_threads=8)` does not spawn threads per
//! call; at most `CACHED_POOLS` are kept (least recently used first out), so a caller that passes
//! many distinct counts cannot pile up threads: a dropped pool's threads exit once its last user
//! is done.

use std::sync::Arc;

use rayon::ThreadPool;

use crate::error::{Error, Result};
use crate::fork_safe::ForkSafeMutex;

/// The most threads one pool may have.
pub const MAX_THREADS: usize = 1024;

/// Pools kept alive between calls.
const CACHED_POOLS: usize = 4;

/// Cached pools, most recently used last.
static POOLS: ForkSafeMutex<Vec<(usize, Arc<ThreadPool>)>> = ForkSafeMutex::new(Vec::new);

/// Number of threads used when the caller does not say: all available cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The number of threads `threads` asks for (see the module notes), or an error naming the limit.
pub fn threads(threads: Option<usize>) -> Result<usize> {
    match threads {
        None => Ok(default_threads()),
        Some(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        Some(n) => Err(out_of_range("threads", n)),
    }
}

/// The error for a thread count outside `1..=MAX_THREADS`, naming the argument `name` (the
/// Python layer passes values that do not even fit a machine integer).
pub fn out_of_range(name: &str, got: impl std::fmt::Display) -> Error {
    Error::value(format!(
        "{name} must be between 1 and {MAX_THREADS}, or None for all {} cores; got {got}",
        default_threads()
    ))
}

/// A pool of `threads` threads, valid in the current process.
pub fn pool(threads: Option<usize>) -> Result<Arc<ThreadPool>> {
    let n = self::threads(threads)?;
    let mut pools = POOLS.lock();
    if let Some(i) = pools.iter().position(|(size, _)| *size == n) {
        let entry = pools.remove(i);
        let p = entry.1.clone();
        pools.push(entry);
        return Ok(p);
    }
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("fastbpe-{i}"))
            .build()
            .map_err(|e| Error::value(format!("cannot start {n} threads: {e}")))?,
    );
    if pools.len() >= CACHED_POOLS {
        pools.remove(0);
    }
    pools.push((n, p.clone()));
    Ok(p)
}

/// Runs `f` on a pool of `threads` threads.
pub fn install<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> Result<T> {
    Ok(pool(threads)?.install(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_mean_one_thing() {
        assert_eq!(threads(None).unwrap(), default_threads());
        assert!(threads(Some(0)).unwrap_err().to_string().contains("got 0"));
        assert_eq!(threads(Some(3)).unwrap(), 3);
        assert_eq!(threads(Some(MAX_THREADS)).unwrap(), MAX_THREADS);
        let e = threads(Some(1_000_000)).unwrap_err().to_string();
        assert!(e.contains("1000000") && e.contains("1024"), "{e}");
    }

    #[test]
    fn cached_pools_are_bounded() {
        for n in 1..=12 {
            assert_eq!(install(Some(n), rayon::current_num_threads).unwrap(), n);
        }
        assert!(POOLS.lock().len() <= CACHED_POOLS);
    }
}
