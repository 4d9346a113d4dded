//! Byte-level BPE training with Stanford CS336's semantics, in two separable steps:
//!
//! 1. [`count`]: pre-tokenize the corpus (files or texts, in parallel chunks) into [`WordCounts`]
//!    -- a map-reduce whose results from several threads, processes or machines can be combined
//!    with [`WordCounts::merge`];
//! 2. [`merge`]: learn merges from the counts ([`learn`]).
//!
//! [`train_files`] and [`train_texts`] do both.
//!
//! # Rules
//! - Special tokens are removed before pre-tokenization and act as document separators: no pair
//!   crosses them, nor a pre-token boundary, nor a file/text boundary.
//! - Each step merges the pair with the highest count (64-bit); ties go to the lexicographically
//!   greater `(left_bytes, right_bytes)` (left compared first, as Python compares tuples of bytes).
//! - Ids: special tokens `0..k` (given order), bytes `k..k+256` (byte order), then new tokens in
//!   the order they were created. `vocab_size` counts all of them.
//! - A merge whose bytes already are a token is recorded in `merges` but gets no second id; merging
//!   goes on until the vocabulary has `vocab_size` distinct tokens.
//! - When no pair is left (or none has `min_frequency` occurrences), training stops early with a
//!   smaller vocabulary ([`Trained::ran_out`]).
//! - The result does not depend on threads, chunk sizes or hash seeds.

pub mod count;
mod heap;
pub mod merge;
mod order;
mod pair_counts;
mod pairs;
pub mod table;
mod tokens;
mod update;
mod words;

use std::path::Path;

pub use count::{count_files, count_texts, BatchCounter, CountOptions, WordCounts};
pub use merge::{learn, learn_ids, Learned, MergeOptions, Trained};

use crate::error::Result;
use crate::monitor::Monitor;

/// Counts `paths` and learns merges (the pool size comes from `count.threads`).
pub fn train_files<P: AsRef<Path>>(
    paths: &[P],
    count: &CountOptions,
    merge: &MergeOptions,
    monitor: &Monitor,
) -> Result<Trained> {
    // Validate cheap arguments before reading gigabytes.
    check_args(count, merge)?;
    let counts = count_files(paths, count, monitor)?;
    learn(&counts, merge, monitor)
}

/// Counts `texts` (each an independent document) and learns merges.
pub fn train_texts<S: AsRef<str> + Sync>(
    texts: &[S],
    count: &CountOptions,
    merge: &MergeOptions,
    monitor: &Monitor,
) -> Result<Trained> {
    check_args(count, merge)?;
    let counts = count_texts(texts, count, monitor)?;
    learn(&counts, merge, monitor)
}

fn check_args(count: &CountOptions, merge: &MergeOptions) -> Result<()> {
    crate::special::SpecialMatcher::new(&count.special_tokens)?;
    crate::parallel::threads(count.threads)?;
    merge.check()
}
