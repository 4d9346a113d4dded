//! The thread pools that all parallel work runs on.
//!
//! Why not rayon's global pool: after `fork()` (Python multiprocessing), the child inherits the
//! global pool's bookkeeping but not its threads, so the first parallel call in the child waits
//! forever. Pools here remember the process id that built them and are rebuilt in a forked child.
//! Pools are cached per thread count, so `encode_batch(num_threads=8)` does not spawn threads per call.

use std::sync::{Arc, Mutex};

use rayon::ThreadPool;
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};

struct Pools {
    pid: u32,
    by_size: FxHashMap<usize, Arc<ThreadPool>>,
}

static POOLS: Mutex<Option<Pools>> = Mutex::new(None);

/// Number of threads used when the caller does not say: all available cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// A pool of `threads` threads (None or 0: all cores), valid in the current process.
pub fn pool(threads: Option<usize>) -> Result<Arc<ThreadPool>> {
    let n = match threads {
        Some(n) if n > 0 => n,
        _ => default_threads(),
    };
    let pid = std::process::id();
    let mut guard = POOLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if guard.as_ref().is_none_or(|p| p.pid != pid) {
        // A new process (first call, or a forked child): the old pools' threads are not ours.
        // Leak them rather than drop: dropping would try to join threads that do not exist here.
        if let Some(old) = guard.take() {
            std::mem::forget(old.by_size);
        }
        *guard = Some(Pools {
            pid,
            by_size: FxHashMap::default(),
        });
    }
    let pools = guard
        .as_mut()
        .ok_or_else(|| Error::value("thread pool registry unavailable"))?;
    if let Some(p) = pools.by_size.get(&n) {
        return Ok(p.clone());
    }
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("fastbpe-{i}"))
            .build()
            .map_err(|e| Error::value(format!("cannot start {n} threads: {e}")))?,
    );
    pools.by_size.insert(n, p.clone());
    Ok(p)
}

/// Runs `f` on a pool of `threads` threads.
pub fn install<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> Result<T> {
    Ok(pool(threads)?.install(f))
}
