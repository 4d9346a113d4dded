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
//!
//! # Where the time goes
//! `english_100M.txt` (457,788 distinct pre-tokens) to 10K vocab on the 2-core machine, 2 threads,
//! Rust only (a small binary calling `count_files` and `learn_ids`), stage times from temporary
//! `Instant`s; wall clock under the other engineers' load, so ranges, before and after taken at
//! different times (interleaved end-to-end runs are in docs/training.md) (session 6):
//!
//! | stage | before | after | what changed |
//! | --- | ---: | ---: | --- |
//! | count: read, scan, table (2 threads) | 0.52-0.57 s | 0.39 s | `table`: one hash per key, short keys in 16-byte slots |
//! | count: reduce of the 2 thread tables | 36 ms | 27 ms | (same table code) |
//! | `Words::from_counts` | 33-35 ms | 20-24 ms | records written in parallel halves |
//! | `PairIndex::count` | 40-46 ms | 35 ms | dense last-word array |
//! | merges 1-10 / 10-100 / 100-1000 | 20 / 70-90 / 135-195 ms | 12 / 44 / 81 ms | one serial pass per merge (`update`), two lines prefetched per word (`words`), prefetched pair-count table (`pair_counts`), 4-ary heap (`heap`) |
//! | merges 1000-9743 | ~410 ms | ~190 ms | same |
//! | freeing the index | 45-90 ms | 0 (on the pool, after the result) | |
//! | total | 1.39-1.47 s | 0.84-0.97 s | |
//!
//! Before the changes, perf (`perf record -g`; this VM has no hardware counters, so no `perf stat
//! -e instructions`) put counting at ~60% of the samples: the table ~26%, the GPT-2 scanner ~16%,
//! the rest reading and UTF-8 checks; callgrind on `english_10M.txt`: the table's lookups 35% of
//! instructions, the scanner 30%. In the merge loop, perf annotate put ~80% of `apply_deltas` on
//! the pair map's lookup misses, and the late merges (1000..9743) spent 0.03 s queueing words,
//! 0.09-0.14 s updating them, 0.12-0.17 s applying count changes, 0.03 s indexing new pairs.
//! Tried and dropped (numbers beside the code): the parallel word update (`update`), batched
//! prefetching in the table reduce (`table::ByteCounter::merge_from`), prefetching 16 words ahead
//! (`words`).

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
