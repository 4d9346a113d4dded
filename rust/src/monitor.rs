//! Progress reporting and cancellation for long work (training, file encoding).
//!
//! Long loops call `tick`/`check` on a shared `Monitor`. Cancellation is a flag that the Python layer
//! sets when Ctrl-C arrives; the work notices it at its next check and returns `Error::Interrupted`.
//! Progress, only when enabled, goes to stderr in one of two styles chosen once per monitor: on a
//! terminal, one line redrawn in place (`\r`, erase-line) at most 10 times a second; otherwise (a
//! log file, a pipe, a notebook) plain lines, one every `LINE_INTERVAL` (or
//! `$FASTBPE_PROGRESS_INTERVAL` seconds) and one when a phase ends, with no control characters, so
//! logs stay readable.

use std::io::{IsTerminal, Write};
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

/// How progress is drawn (see the module comment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Redraw,
    Lines,
}

/// Plain-line style: at most one line per this long (plus each phase's final line), unless
/// `$FASTBPE_PROGRESS_INTERVAL` (seconds) says otherwise: long runs may want fewer lines.
const LINE_INTERVAL: Duration = Duration::from_secs(5);
const LINE_INTERVAL_VAR: &str = "FASTBPE_PROGRESS_INTERVAL";
/// Terminal style: redraws at most this often.
const REDRAW_INTERVAL: Duration = Duration::from_millis(100);

pub struct Monitor {
    cancelled: AtomicBool,
    show_progress: bool,
    style: Style,
    interval: Duration,
    done: AtomicU64,
    phase: Mutex<Option<Phase>>,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor::silent()
    }
}

impl Monitor {
    /// Progress on stderr when `show_progress`, in the style that suits what stderr is.
    pub fn new(show_progress: bool) -> Self {
        let style = if std::io::stderr().is_terminal() {
            Style::Redraw
        } else {
            Style::Lines
        };
        Monitor::with_style(show_progress, style)
    }

    pub fn with_style(show_progress: bool, style: Style) -> Self {
        let interval = match style {
            Style::Redraw => REDRAW_INTERVAL,
            Style::Lines if show_progress => line_interval(std::env::var(LINE_INTERVAL_VAR).ok()),
            Style::Lines => LINE_INTERVAL,
        };
        Monitor {
            cancelled: AtomicBool::new(false),
            show_progress,
            style,
            interval,
            done: AtomicU64::new(0),
            phase: Mutex::new(None),
        }
    }

    /// A monitor that never reports and is never cancelled (tests, library calls).
    pub fn silent() -> Self {
        Monitor::with_style(false, Style::Lines)
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
                // Redraw style: draw at once. Line style: the first line after one interval.
                last_draw: match self.style {
                    Style::Redraw => now.checked_sub(self.interval).unwrap_or(now),
                    Style::Lines => now,
                },
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
        if !last && now.duration_since(phase.last_draw) < self.interval {
            return;
        }
        phase.last_draw = now;
        let secs = now.duration_since(phase.started).as_secs_f64().max(1e-9);
        let line = render(phase, done, secs);
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(framed(self.style, &line, last).as_bytes());
        let _ = err.flush();
    }
}

/// The plain-line interval from `$FASTBPE_PROGRESS_INTERVAL` (seconds, >= 0); the default when
/// unset or not a number.
fn line_interval(var: Option<String>) -> Duration {
    var.and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(1e6)))
        .unwrap_or(LINE_INTERVAL)
}

/// `line` as written to stderr: redrawn in place on a terminal, a whole plain line otherwise.
fn framed(style: Style, line: &str, last: bool) -> String {
    match (style, last) {
        (Style::Redraw, false) => format!("\r\x1b[2K{line}"),
        (Style::Redraw, true) => format!("\r\x1b[2K{line}\n"),
        (Style::Lines, _) => format!("{line}\n"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(total: Option<u64>) -> Phase {
        let now = Instant::now();
        Phase {
            name: "count".into(),
            unit: Unit::Bytes,
            total,
            started: now,
            last_draw: now,
        }
    }

    #[test]
    fn plain_lines_have_no_control_characters() {
        for total in [None, Some(10_000_000)] {
            let line = render(&phase(total), 5_000_000, 2.0);
            for last in [false, true] {
                let out = framed(Style::Lines, &line, last);
                assert!(
                    out.ends_with('\n') && out.matches('\n').count() == 1,
                    "{out:?}"
                );
                assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
            }
        }
    }

    #[test]
    fn line_interval_from_the_environment() {
        assert_eq!(line_interval(None), LINE_INTERVAL);
        assert_eq!(
            line_interval(Some("0.5".into())),
            Duration::from_millis(500)
        );
        assert_eq!(line_interval(Some("0".into())), Duration::ZERO);
        for bad in ["", "x", "-1", "nan", "inf"] {
            assert_eq!(line_interval(Some(bad.into())), LINE_INTERVAL, "{bad}");
        }
    }

    #[test]
    fn terminal_style_redraws_in_place() {
        let line = render(&phase(Some(100)), 50, 1.0);
        assert!(framed(Style::Redraw, &line, false).starts_with("\r\x1b[2K"));
        assert!(!framed(Style::Redraw, &line, false).contains('\n'));
        assert!(framed(Style::Redraw, &line, true).ends_with('\n'));
    }

    #[test]
    fn render_shows_amount_rate_and_percent() {
        let line = render(&phase(Some(10_000_000)), 5_000_000, 2.0);
        assert!(line.contains("50.0%") && line.contains("5.0 MB") && line.contains("2.5 MB/s"));
        let items = Phase {
            unit: Unit::Items,
            ..phase(None)
        };
        assert!(render(&items, 300, 3.0).contains("300 100/s"));
    }
}
