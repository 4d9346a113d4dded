//! The words being merged, as records in one flat `u32` array, and the per-word merge.
//!
//! A record is `[len, stamp, count_lo, count_hi, sym_0, .., sym_len-1]`, named by its offset. The
//! merge loop is bound by memory latency (each touched word is a cache miss), so touching a word
//! (header and symbols) costs one miss, not one for an index array and another for the symbols,
//! and loops over words prefetch [`PREFETCH`] records ahead ([`for_each_prefetched`]). `len`
//! shrinks as merges apply (the record keeps its room); `stamp` is the last merge step that visited
//! the word (dedupes a pair's word list). Words of one byte have no pairs and are dropped up front.

use crate::error::{Error, Result};
use crate::prefetch::prefetch;

use super::count::WordCounts;
use super::pairs::{pack, Delta, Pair};

const HDR: usize = 4;

/// How many words ahead loops over words prefetch.
const PREFETCH: usize = 8;

/// Symbols merged between two looks for cancellation inside one word (a power of two).
const CANCEL_BLOCK: usize = 1 << 20;

pub(super) struct Words {
    data: Vec<u32>,
    /// Offsets of all records.
    offsets: Vec<u32>,
    /// The current merge step, for the stamps.
    step: u32,
}

/// Calls `f(w)` for each `w` of `list`, after hinting the CPU to load the record `PREFETCH` ahead:
/// its first two cache lines (records start anywhere in a line, so with the 4-word header most
/// cross into the next one; from 13 symbols on, all do). Merge phase on
/// `english_100M.txt` at 10K, 2 threads, 6 interleaved runs: one line 0.446..0.744 s, two lines
/// 0.399..0.520 s; two lines 16 ahead 0.447..0.599 s; one line 16 ahead was slower.
#[inline(always)]
pub(super) fn for_each_prefetched(list: &[u32], data: *const u32, mut f: impl FnMut(u32)) {
    for (i, &w) in list.iter().enumerate() {
        if let Some(&ahead) = list.get(i + PREFETCH) {
            prefetch(data.wrapping_add(ahead as usize));
            prefetch(data.wrapping_add(ahead as usize + 16));
        }
        f(w);
    }
}

impl Words {
    pub(super) fn from_counts(counts: &WordCounts) -> Result<Self> {
        // Table order: the result never depends on word order (ties are broken by bytes, and
        // counts are sums), so no sort is needed.
        let all: Vec<(&[u8], u64)> = counts.iter().filter(|(b, _)| b.len() >= 2).collect();
        let mut offsets = Vec::with_capacity(all.len());
        let mut total = 0usize;
        for (b, _) in &all {
            offsets.push(total as u32);
            total += HDR + b.len();
            if total > u32::MAX as usize {
                return Err(Error::value(
                    "too many distinct pre-tokens to train on (over 16 GB of them); raise \
                     min_frequency or train on a sample",
                ));
            }
        }
        let mut data = vec![0u32; total];
        fill_records(&all, &offsets, 0, &mut data);
        Ok(Words {
            data,
            offsets,
            step: 0,
        })
    }

    pub(super) fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    #[inline]
    pub(super) fn count(&self, off: u32) -> u64 {
        record_count(&self.data[off as usize..])
    }

    #[inline]
    pub(super) fn symbols(&self, off: u32) -> &[u32] {
        let off = off as usize;
        let len = self.data[off] as usize;
        &self.data[off + HDR..off + HDR + len]
    }

    /// The record at `off`, header and current symbols.
    #[inline]
    pub(super) fn record_mut(&mut self, off: u32) -> &mut [u32] {
        let off = off as usize;
        let len = self.data[off] as usize;
        &mut self.data[off..off + HDR + len]
    }

    /// Starts a merge step: from now on, [`Words::for_each_once`] sees every word as not yet
    /// visited.
    pub(super) fn next_step(&mut self) {
        self.step = self.step.wrapping_add(1);
        if self.step == 0 {
            for &off in &self.offsets {
                self.data[off as usize + 1] = u32::MAX;
            }
            self.step = 1;
        }
    }

    /// Calls `f(record, w)` for each word `w` of `list` not yet visited in this step (a pair's
    /// list may name a word twice), in list order, prefetching ahead.
    #[inline]
    pub(super) fn for_each_once(&mut self, list: &[u32], mut f: impl FnMut(&mut [u32], u32)) {
        let (ahead, step) = (self.data.as_ptr(), self.step);
        for_each_prefetched(list, ahead, |w| {
            let stamp = &mut self.data[w as usize + 1];
            if *stamp != step {
                *stamp = step;
                f(self.record_mut(w), w);
            }
        });
    }
}

/// Writes the records of `words` (whose offsets are `offsets`, the first at `base`) into `data`,
/// halves in parallel (widening the bytes to symbols reads each long word from the count table's
/// arena at random). `from_counts` on english_100M.txt, 2 threads, 4 interleaved runs: serial
/// 28.6-40.1 ms, in parallel 20.3-23.9 ms.
fn fill_records(words: &[(&[u8], u64)], offsets: &[u32], base: usize, data: &mut [u32]) {
    const SERIAL: usize = 1 << 16;
    if words.len() > SERIAL {
        let mid = words.len() / 2;
        let cut = offsets[mid] as usize;
        let (left, right) = data.split_at_mut(cut - base);
        rayon::join(
            || fill_records(&words[..mid], &offsets[..mid], base, left),
            || fill_records(&words[mid..], &offsets[mid..], cut, right),
        );
        return;
    }
    let mut i = 0;
    for &(b, n) in words {
        data[i..i + HDR].copy_from_slice(&[b.len() as u32, 0, n as u32, (n >> 32) as u32]);
        for (d, &x) in data[i + HDR..i + HDR + b.len()].iter_mut().zip(b) {
            *d = x as u32;
        }
        i += HDR + b.len();
    }
}

#[inline]
fn record_count(rec: &[u32]) -> u64 {
    rec[2] as u64 | (rec[3] as u64) << 32
}

/// Replaces every (a, b) in `syms` (left to right) by `n`, in place; returns the new length.
/// Calls `delta(pair, +1/-1)` for each pair that appears/vanishes (before scaling by the word's
/// count). Overlapping cases (`a a a`, `a b a b`) come out exactly once the deltas are summed.
///
/// `WATCH`: look for Ctrl-C every `CANCEL_BLOCK` symbols. One huge word (a pre-token of tens of
/// MB) is seconds of work; an interrupted word is left half-merged and training then stops
/// (`Interrupted`). Only words longer than a block are watched, so the common loop has no check
/// (it cost 4% of the merge loop's instructions when every word checked).
#[inline]
fn merge_word<const WATCH: bool>(
    syms: &mut [u32],
    a: u32,
    b: u32,
    n: u32,
    delta: &mut impl FnMut(Pair, i64),
) -> usize {
    let len = syms.len();
    let (mut i, mut j) = (0, 0);
    while i < len {
        if WATCH && i & (CANCEL_BLOCK - 1) < 2 && i > 0 && crate::cancel::requested() {
            return j;
        }
        if i + 1 < len && syms[i] == a && syms[i + 1] == b {
            if j > 0 {
                let x = syms[j - 1];
                delta(pack(x, a), -1);
                delta(pack(x, n), 1);
            }
            delta(pack(a, b), -1);
            if i + 2 < len {
                let y = syms[i + 2];
                delta(pack(b, y), -1);
                delta(pack(n, y), 1);
            }
            syms[j] = n;
            j += 1;
            i += 2;
        } else {
            syms[j] = syms[i];
            j += 1;
            i += 1;
        }
    }
    j
}

/// Merges (a, b) -> n in the word record `rec` (at offset `w`). Calls `delta(pair, +-count)` for
/// each pair occurrence that vanishes or appears (scaled by the word's count), and
/// `new_pair(pair, w)` for each adjacent pair containing `n` afterwards. A word that no longer
/// holds (a, b) (a stale list entry) is left alone.
#[inline]
pub(super) fn update_word(
    rec: &mut [u32],
    (a, b, n): (u32, u32, u32),
    w: u32,
    delta: &mut impl FnMut(Pair, Delta),
    new_pair: &mut impl FnMut(Pair, u32),
) {
    let c = record_count(rec) as Delta;
    let (head, syms) = rec.split_at_mut(HDR);
    let mut changed = false;
    let mut scaled = |p, s: i64| {
        changed = true;
        delta(p, if s > 0 { c } else { -c });
    };
    let new_len = if syms.len() > CANCEL_BLOCK {
        merge_word::<true>(syms, a, b, n, &mut scaled)
    } else {
        merge_word::<false>(syms, a, b, n, &mut scaled)
    };
    if !changed {
        return; // stale entry: the pair had already left this word
    }
    head[0] = new_len as u32;
    let out = &syms[..new_len];
    for (j, &s) in out.iter().enumerate() {
        if s == n {
            if j > 0 {
                new_pair(pack(out[j - 1], n), w);
            }
            if j + 1 < new_len {
                new_pair(pack(n, out[j + 1]), w);
            }
        }
    }
}
