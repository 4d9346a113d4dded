//! Fallback fuzz driver: deterministic structured random inputs through the same checks the
//! libFuzzer targets run, for machines where `cargo fuzz` cannot build (see README.md).
//!
//!     FUZZ_SECONDS=20 FUZZ_SEED=7 cargo test --release --no-default-features -- --nocapture
//!
//! A failure prints the input as hex and writes it to `fuzz/artifacts/<target>/fallback-<hash>`;
//! copy it to `fuzz/regressions/<target>/` once fixed.

use std::time::{Duration, Instant};

use fastbpe_fuzz::checks;
use fastbpe_fuzz::gen::{input, Rng};

fn seeds(name: &str) -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/regressions/").to_string() + name;
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if let Ok(b) = std::fs::read(e.path()) {
                out.push(b);
            }
        }
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn drive(name: &str) {
    let secs: f64 = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let seeds = seeds(name);
    let mut rng = Rng::new(seed ^ name.len() as u64 ^ (name.as_bytes()[0] as u64) << 8);
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut n = 0u64;
    while Instant::now() < deadline {
        for _ in 0..64 {
            let data = input(name, &mut rng, &seeds);
            let r = std::panic::catch_unwind(|| checks::run(name, &data));
            if r.is_err() {
                let h = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                    (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
                });
                let dir = format!("{}/artifacts/{name}", env!("CARGO_MANIFEST_DIR"));
                let _ = std::fs::create_dir_all(&dir);
                let path = format!("{dir}/fallback-{h:016x}");
                let _ = std::fs::write(&path, &data);
                panic!(
                    "{name}: check failed on input {} (saved to {path})",
                    hex(&data)
                );
            }
            n += 1;
        }
    }
    eprintln!("{name}: {n} inputs in {secs} s, no failure");
}

#[test]
fn pretokenize() {
    drive("pretokenize");
}

#[test]
fn roundtrip() {
    drive("roundtrip");
}

#[test]
fn loaders() {
    drive("loaders");
}

#[test]
fn train() {
    drive("train");
}

#[test]
fn cuts() {
    drive("cuts");
}

#[test]
fn pretokenize_cl100k() {
    drive("pretokenize_cl100k");
}

#[test]
fn pretokenize_o200k() {
    drive("pretokenize_o200k");
}

#[test]
fn counts() {
    drive("counts");
}

#[test]
fn utf8() {
    drive("utf8");
}
