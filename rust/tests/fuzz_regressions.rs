//! Replays every saved fuzz case through the same checks the fuzz targets run.
//!
//! Layout (see `fuzz/README.md`):
//! - `fuzz/regressions/<target>/*`: inputs that once failed and are fixed, and `fuzz/seeds/<target>/*`
//!   (the fuzzers' starting corpus). They must all pass: `cargo test --test fuzz_regressions`.
//! - `fuzz/regressions/<target>/open/*`: failures found but not fixed yet. Replayed only by the
//!   ignored test (`cargo test --test fuzz_regressions -- --ignored`), which lists what still fails;
//!   move a case up one folder once it passes.
//!
//! Each case runs in a child process (this test binary, re-executed), so a case that aborts
//! (e.g. a failed huge allocation), overflows the stack or hangs is reported with its file name
//! instead of taking the whole test run down. On Unix the child's address space is capped at
//! 4 GiB so that a runaway allocation fails at once instead of swapping.

#[path = "../../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CASE_ENV: &str = "FASTBPE_FUZZ_CASE";
const TIMEOUT: Duration = Duration::from_secs(60);

/// `fuzz/regressions`, whether this file is built by the main crate or by `fuzz/Cargo.toml`.
fn root() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let main = dir.join("fuzz").join("regressions");
    if main.is_dir() {
        main
    } else {
        dir.join("regressions")
    }
}

fn cases(open: bool) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for target in checks::TARGETS {
        let dirs = if open {
            vec![root().join(target).join("open")]
        } else {
            // The seed inputs (valid files, typical text) must pass too.
            vec![
                root().join(target),
                root().join("..").join("seeds").join(target),
            ]
        };
        for dir in dirs {
            out.extend(files_in(&dir).into_iter().map(|p| (target.to_string(), p)));
        }
    }
    out
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let hidden = |p: &Path| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
    };
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && !hidden(p))
        .collect();
    files.sort();
    files
}

/// Runs one case in a child; Err(description) when it fails, crashes or hangs.
fn replay_isolated(target: &str, path: &Path) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = if cfg!(unix) {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg("ulimit -v 4194304 2>/dev/null; exec \"$0\" \"$@\"")
            .arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    cmd.args([
        "replay_one_case",
        "--exact",
        "--nocapture",
        "--include-ignored",
        "--test-threads=1",
    ])
    .env(CASE_ENV, format!("{target}\n{}", path.display()))
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    let start = Instant::now();
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => {
                let out = child.wait_with_output().map_err(|e| e.to_string())?;
                if status.success() {
                    return Ok(());
                }
                let text = String::from_utf8_lossy(&out.stderr).to_string()
                    + &String::from_utf8_lossy(&out.stdout);
                let lines: Vec<&str> = text.lines().collect();
                // The panic message (and the line after it), else an allocator/abort message.
                let at = lines
                    .iter()
                    .position(|l| l.contains("panicked at"))
                    .or_else(|| lines.iter().position(|l| l.contains("memory allocation")));
                let msg = match at {
                    Some(i) => lines[i..(i + 2).min(lines.len())].join(" "),
                    None => lines
                        .iter()
                        .rev()
                        .take(3)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" | "),
                };
                return Err(format!("{status}: {msg}"));
            }
            None if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("hang: no result after {} s", TIMEOUT.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn replay_all(open: bool) -> Vec<String> {
    let mut failures = Vec::new();
    let all = cases(open);
    for (target, path) in &all {
        if let Err(e) = replay_isolated(target, path) {
            failures.push(format!(
                "{target}/{}: {e}",
                path.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    eprintln!(
        "replayed {} {}cases, {} failing",
        all.len(),
        if open { "open " } else { "" },
        failures.len()
    );
    failures
}

#[test]
fn fuzz_regressions_pass() {
    let failures = replay_all(false);
    assert!(
        failures.is_empty(),
        "fuzz regressions fail:\n  {}",
        failures.join("\n  ")
    );
}

/// Known failures not fixed yet: `cargo test --test fuzz_regressions -- --ignored`.
#[test]
#[ignore = "known open fuzz findings; run with --ignored to see which still fail"]
fn fuzz_open_cases() {
    let failures = replay_all(true);
    let n = cases(true).len();
    for f in &failures {
        eprintln!("still failing: {f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {n} open fuzz cases still fail (move fixed ones to fuzz/regressions/<target>/):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// The child side of `replay_isolated` (does nothing when run normally).
#[test]
fn replay_one_case() {
    let Ok(spec) = std::env::var(CASE_ENV) else {
        return;
    };
    let (target, path) = spec.split_once('\n').expect("target\\npath");
    let data = std::fs::read(path).expect("read case");
    checks::run(target, &data);
}
