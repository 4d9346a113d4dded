//! fastbpe: byte-level BPE training and tiktoken-exact encoding.
//!
//! The core is plain Rust (no PyO3 types) so it can be unit-tested with `cargo test` and fuzzed;
//! the Python layer lives in `py/` behind the `python` feature.

pub mod cancel;
pub mod chunk;
pub mod cut;
pub mod encode;
pub mod encode_file;
pub mod error;
pub mod fork_safe;
pub mod formats;
pub mod fsutil;
pub mod monitor;
pub mod parallel;
mod prefetch;
pub mod pretokenize;
pub mod special;
pub mod tokenizer;
pub mod train;
pub mod utf8_from_units;

#[cfg(feature = "python")]
mod py;

pub use error::{Error, Result};
