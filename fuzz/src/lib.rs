//! Fuzzing support for fastbpe: the checks (`checks`) and a tiny deterministic input generator
//! (`gen`) for the fallback driver. See `fuzz/README.md`.

pub mod checks;
pub mod gen;
