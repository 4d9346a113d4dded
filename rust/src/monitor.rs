//! Progress reporting and cancellation for long work (training, file encoding).
//!
//! Long loops call `tick`/`check` on a shared `Monitor`. Cancellation is a flag that the Python layer
//! sets when Ctrl-C arrives; the work notices it at its next check and returns `Error::Interrupted`.
//! Progress is a single line on stderr, redrawn at most 10 times a second, only when enabled.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// What a phase counts: bytes show MB and MB/s; items (merges) show a count and rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Items,
}

struct Phase {
    name: String,
    unit: Unit,
    total: Option<u64>,
    started: Instant,
    last_draw: Instant,
}

pub struct Monitor {
    cancelled: AtomicBool,
    show_progress: bool,
    done: AtomicU64,
    phase: Mutex<Option<Phase>>,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor::new(false)
    }
}

impl Monitor {
    pub fn new(show_progress: bool) -> Self {
        Monitor {
            cancelled: AtomicBool::new(false),
            show_progress,
            done: AtomicU64::new(0),
            phase: Mutex::new(None),
        }
    }

    /// A monitor that never reports and is never cancelled (tests, library calls).
    pub fn silent() -> Self {
        Monitor::new(false)
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Returns `Err(Interrupted)` once cancellation was requested; call it in long loops.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }

    /// Starts a new phase (ends the previous line). `total` enables percent and ETA.
    pub fn start(&self, name: &str, unit: Unit, total: Option<u64>) {
        self.finish();
        self.done.store(0, Ordering::Relaxed);
        if !self.show_progress {
            return;
        }
        let now = Instant::now();
        if let Ok(mut phase) = self.phase.lock() {
            *phase = Some(Phase {
                name: name.to_string(),
                unit,
                total,
                started: now,
                last_draw: now - Duration::from_secs(1),
            });
        }
    }

    /// Adds `n` to the phase's count and redraws if due. Cheap when progress is off.
    pub fn add(&self, n: u64) -> Result<()> {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if self.show_progress {
            self.draw(done, false);
        }
        self.check()
    }

    /// Sets the phase's count to `done` (for loops that know their position).
    pub fn set(&self, done: u64) -> Result<()> {
        self.done.store(done, Ordering::Relaxed);
        if self.show_progress {
            self.draw(done, false);
        }
        self.check()
    }

    /// Draws the final state of the current phase and ends its line.
    pub fn finish(&self) {
        if !self.show_progress {
            return;
        }
        let done = self.done.load(Ordering::Relaxed);
        self.draw(done, true);
        if let Ok(mut phase) = self.phase.lock() {
            *phase = None;
        }
    }

    fn draw(&self, done: u64, last: bool) {
        // try_lock: a worker that finds another thread drawing just skips this redraw.
        let Ok(mut guard) = self.phase.try_lock() else {
            return;
        };
        let Some(phase) = guard.as_mut() else {
            return;
        };
        let now = Instant::now();
        if !last && now.duration_since(phase.last_draw) < Duration::from_millis(100) {
            return;
        }
        phase.last_draw = now;
        let secs = now.duration_since(phase.started).as_secs_f64().max(1e-9);
        let line = render(phase, done, secs);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        if last {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}

fn render(phase: &Phase, done: u64, secs: f64) -> String {
    let rate = done as f64 / secs;
    let (amount, speed) = match phase.unit {
        Unit::Bytes => (
            format!("{:.1} MB", done as f64 / 1e6),
            format!("{:.1} MB/s", rate / 1e6),
        ),
        Unit::Items => (format!("{done}"), format!("{rate:.0}/s")),
    };
    match phase.total {
        Some(total) if total > 0 => {
            let frac = (done as f64 / total as f64).min(1.0);
            let width = 24;
            let filled = (frac * width as f64) as usize;
            let eta = if rate > 0.0 {
                (total.saturating_sub(done)) as f64 / rate
            } else {
                0.0
            };
            format!(
                "{:<10} [{}{}] {:>5.1}% {} {} ETA {:.0}s",
                phase.name,
                "#".repeat(filled),
                "-".repeat(width - filled),
                frac * 100.0,
                amount,
                speed,
                eta
            )
        }
        _ => format!("{:<10} {} {} {:.1}s", phase.name, amount, speed, secs),
    }
}
