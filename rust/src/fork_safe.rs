//! Locks that a forked child never inherits locked.
//!
//! `fork()` copies only the calling thread. A `Mutex` that another thread held at that moment
//! stays locked forever in the child, and so does a `OnceLock` whose initializer was running: the
//! child's first use deadlocks (Python's `multiprocessing` forks while other threads encode).
//! [`ForkSafeMutex`] keeps its value in a slot tagged with the process it was made in; a process
//! that finds another process's slot makes a fresh one (an empty cache, a new pool registry)
//! and never touches the inherited lock. The old slot is leaked, not dropped: its lock may be
//! held, and its contents (thread pools) may refer to threads this process does not have.
//!
//! [`RaceOnce`] is the lock-free alternative to `OnceLock` for values computed on first use: no
//! lock is ever held, so there is nothing a fork could leave held.
//!
//! Performance: the process is identified by a generation number that a `pthread_atfork` child
//! handler bumps, so a lock costs one atomic load more than a `Mutex` (no `getpid` system call).

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

static GENERATION: AtomicU64 = AtomicU64::new(1);
static REGISTER: Once = Once::new();

#[cfg(unix)]
extern "C" fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

#[cfg(unix)]
extern "C" {
    fn pthread_atfork(
        prepare: Option<extern "C" fn()>,
        parent: Option<extern "C" fn()>,
        child: Option<extern "C" fn()>,
    ) -> std::os::raw::c_int;
}

/// A number that differs in every process forked from this one (and stays the same within one).
pub fn process_generation() -> u64 {
    REGISTER.call_once(|| {
        #[cfg(unix)]
        // SAFETY: registers a handler that only bumps an atomic (async-signal-safe).
        unsafe {
            pthread_atfork(None, None, Some(after_fork_in_child));
        }
    });
    GENERATION.load(Ordering::Acquire)
}

struct Slot<T> {
    generation: u64,
    value: Mutex<T>,
}

/// A mutex whose value is made by `init`, once per process (see the module notes).
pub struct ForkSafeMutex<T> {
    slot: AtomicPtr<Slot<T>>,
    init: fn() -> T,
}

impl<T> ForkSafeMutex<T> {
    pub const fn new(init: fn() -> T) -> Self {
        ForkSafeMutex {
            slot: AtomicPtr::new(std::ptr::null_mut()),
            init,
        }
    }

    /// Locks this process's value (a poisoned lock is taken over: the values kept here are caches
    /// and registries that stay consistent when a holder panics).
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let generation = process_generation();
        loop {
            let cur = self.slot.load(Ordering::Acquire);
            // SAFETY: a non-null slot is never freed while `self` lives (only by `Drop`, and
            // replaced slots are leaked), so the reference stays valid for `&self`'s lifetime.
            if let Some(slot) = unsafe { cur.as_ref() } {
                if slot.generation == generation {
                    return slot.value.lock().unwrap_or_else(|p| p.into_inner());
                }
            }
            let fresh = Box::into_raw(Box::new(Slot {
                generation,
                value: Mutex::new((self.init)()),
            }));
            if self
                .slot
                .compare_exchange(cur, fresh, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                // Another thread of this process installed its slot first; use that one.
                // SAFETY: `fresh` came from `Box::into_raw` above and was never shared.
                drop(unsafe { Box::from_raw(fresh) });
            }
            // On success the old slot (another process's, or none) is leaked on purpose.
        }
    }
}

impl<T> Drop for ForkSafeMutex<T> {
    fn drop(&mut self) {
        let cur = *self.slot.get_mut();
        if cur.is_null() {
            return;
        }
        // SAFETY: `cur` came from `Box::into_raw` and `&mut self` means no one else uses it.
        let slot = unsafe { Box::from_raw(cur) };
        if slot.generation != process_generation() {
            std::mem::forget(slot); // another process's: may hold foreign threads or a held lock
        }
    }
}

// SAFETY: the slot is reached only through `Mutex<T>`, so this is as thread-safe as `Mutex<T>`.
unsafe impl<T: Send> Send for ForkSafeMutex<T> {}
unsafe impl<T: Send> Sync for ForkSafeMutex<T> {}

impl<T: Default> Default for ForkSafeMutex<T> {
    fn default() -> Self {
        ForkSafeMutex::new(T::default)
    }
}

impl<T> std::fmt::Debug for ForkSafeMutex<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ForkSafeMutex")
    }
}

/// A value computed on first use, with no lock: threads that race compute it each and one result
/// is kept (fine for caches whose value is determined by the owner). A forked child sees it set or
/// unset, never "being set".
pub struct RaceOnce<T> {
    ptr: AtomicPtr<T>,
}

impl<T> RaceOnce<T> {
    pub const fn new() -> Self {
        RaceOnce {
            ptr: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The value, if one was made.
    pub fn get(&self) -> Option<&T> {
        // SAFETY: a set pointer is never replaced or freed before `Drop`.
        unsafe { self.ptr.load(Ordering::Acquire).as_ref() }
    }

    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        let cur = self.ptr.load(Ordering::Acquire);
        // SAFETY: a set pointer is never replaced or freed before `Drop`.
        if let Some(v) = unsafe { cur.as_ref() } {
            return v;
        }
        let fresh = Box::into_raw(Box::new(f()));
        match self.ptr.compare_exchange(
            std::ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: just installed; lives until `Drop`.
            Ok(_) => unsafe { &*fresh },
            Err(winner) => {
                // SAFETY: `fresh` was never shared; `winner` is set and lives until `Drop`.
                drop(unsafe { Box::from_raw(fresh) });
                unsafe { &*winner }
            }
        }
    }
}

impl<T> Default for RaceOnce<T> {
    fn default() -> Self {
        RaceOnce::new()
    }
}

impl<T> Drop for RaceOnce<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: came from `Box::into_raw`; `&mut self` means no one else uses it.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

// SAFETY: like `OnceLock<T>`: shared access hands out `&T`, and `T` may be made on any thread.
unsafe impl<T: Send + Sync> Sync for RaceOnce<T> {}
unsafe impl<T: Send> Send for RaceOnce<T> {}

impl<T> std::fmt::Debug for RaceOnce<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RaceOnce")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_process_shared_by_threads() {
        let m: ForkSafeMutex<Vec<u32>> = ForkSafeMutex::default();
        std::thread::scope(|s| {
            for i in 0..8 {
                let m = &m;
                s.spawn(move || m.lock().push(i));
            }
        });
        let mut v = m.lock().clone();
        v.sort();
        assert_eq!(v, (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn race_once_keeps_one_value() {
        let once: RaceOnce<Vec<u32>> = RaceOnce::new();
        let got: Vec<usize> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8u32)
                .map(|i| {
                    let once = &once;
                    s.spawn(move || once.get_or_init(|| vec![i]) as *const _ as usize)
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(got.iter().all(|&p| p == got[0]));
    }

    #[cfg(unix)]
    #[test]
    fn a_forked_child_gets_a_fresh_unlocked_value() {
        extern "C" {
            fn fork() -> i32;
            fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
            fn _exit(code: i32) -> !;
        }
        static M: ForkSafeMutex<u32> = ForkSafeMutex::new(|| 7);
        *M.lock() = 1;
        let held = M.lock(); // held across the fork, as by another thread
                             // SAFETY: the child only takes the lock (a fresh one) and exits.
        let pid = unsafe { fork() };
        if pid == 0 {
            let v = *M.lock();
            unsafe { _exit(if v == 7 { 0 } else { 1 }) };
        }
        drop(held);
        let mut status = 0;
        // SAFETY: waits for the child made above.
        unsafe { waitpid(pid, &mut status, 0) };
        assert_eq!(status, 0, "child saw an inherited value or lock");
        assert_eq!(*M.lock(), 1);
    }
}
