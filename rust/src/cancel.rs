//! Cancellation that reaches into loops which take no `Monitor` argument (the merge loop of one
//! huge piece: a 40 MB pre-token encodes for seconds inside a single `encode_piece` call).
//!
//! [`while_watching`] makes a monitor the current thread's; a long loop calls [`requested`]
//! every few thousand steps and stops early when it says so. Whatever the loop leaves behind is
//! thrown away by the caller, which sees the cancelled monitor and returns `Error::Interrupted`.
//! A thread that watches nothing always gets `false`, so code outside `while_watching` runs as
//! before.

use std::cell::Cell;

use crate::monitor::Monitor;

thread_local! {
    static WATCHED: Cell<*const Monitor> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` with `monitor` as this thread's cancellation source.
pub fn while_watching<T>(monitor: &Monitor, f: impl FnOnce() -> T) -> T {
    struct Restore(*const Monitor);
    impl Drop for Restore {
        fn drop(&mut self) {
            WATCHED.with(|w| w.set(self.0));
        }
    }
    let _restore = Restore(WATCHED.with(|w| w.replace(monitor)));
    f()
}

/// True when the current thread's watched monitor (if any) was cancelled.
#[inline]
pub fn requested() -> bool {
    WATCHED.with(|w| {
        let p = w.get();
        // SAFETY: `p` is set only inside `while_watching`, whose borrow of the monitor outlives
        // the call; `Restore` resets it before that borrow ends (also on unwind).
        !p.is_null() && unsafe { &*p }.is_cancelled()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inside_while_watching() {
        let m = Monitor::silent();
        m.cancel();
        assert!(!requested());
        assert!(while_watching(&m, requested));
        assert!(!requested());
        let quiet = Monitor::silent();
        assert!(!while_watching(&quiet, || while_watching(&m, requested) && requested()));
    }
}
