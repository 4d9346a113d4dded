//! Pairs of adjacent tokens: their counts and the pair -> words index.
//!
//! - A pair is packed into a `u64` (left id high, right id low): one word as a hash key.
//! - Counts are exact: a pair's count is the sum over words of (word count x occurrences). Word
//!   counts are `u64` (saturating at 2^64 - 1, see `table`), the words hold fewer than 2^32
//!   symbols in all (`Words::from_counts`), so every pair count is below 2^96 and a `u128` never
//!   wraps; the most frequent pair is the true one even for counts near 2^64 (a `u64` sum would
//!   wrap there).
//! - pair -> words is an append-only `Vec<u32>` of word offsets per pair. A word is appended when
//!   the pair appears in it; entries go stale when a later merge removes the pair from the word,
//!   and are skipped when the word is re-scanned (the per-word stamp also skips repeated entries).

use std::collections::hash_map::Entry;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::monitor::Monitor;

use super::heap::PairHeap;
use super::order::Candidate;
use super::pair_counts::{Change, PairCounts};
use super::tokens::Tokens;
use super::words::Words;

pub(super) type Pair = u64;
/// The count of a pair (see the module notes for why it cannot wrap).
pub(super) type PairCount = u128;
/// A change of a pair's count during one merge.
pub(super) type Delta = i128;

#[inline]
pub(super) fn pack(a: u32, b: u32) -> Pair {
    ((a as u64) << 32) | b as u64
}

#[inline]
pub(super) fn unpack(p: Pair) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// Every live pair's count, and the words it may occur in.
pub(super) struct PairIndex {
    pub(super) counts: PairCounts,
    words: FxHashMap<Pair, Vec<u32>>,
}

impl PairIndex {
    /// The pairs of `words`, whose symbols are all bytes yet: a pair is an index below 65536, so
    /// dense arrays replace hashing. One contiguous range of words per thread of the current
    /// pool, then the per-thread arrays are summed / concatenated.
    pub(super) fn count(words: &Words, monitor: &Monitor) -> Self {
        let offsets = words.offsets();
        let n_words = offsets.len();
        let parts = rayon::current_num_threads().clamp(1, n_words.max(1));
        let built: Vec<(Vec<PairCount>, Vec<Vec<u32>>)> = (0..parts)
            .into_par_iter()
            .map(|t| {
                let mut pc = vec![0 as PairCount; 1 << 16];
                let mut pw: Vec<Vec<u32>> = vec![Vec::new(); 1 << 16];
                // The last word listed per pair, in a dense array: `list.last()` was a cache
                // miss on each list's tail for every pair occurrence.
                let mut last = vec![u32::MAX; 1 << 16];
                'words: for &w in &offsets[(n_words * t / parts)..(n_words * (t + 1) / parts)] {
                    let c = words.count(w) as PairCount;
                    for (k, win) in words.symbols(w).windows(2).enumerate() {
                        // Ctrl-C inside one huge word; the caller then sees the cancelled monitor.
                        if k & 0xF_FFFF == 0xF_FFFF && monitor.is_cancelled() {
                            break 'words;
                        }
                        let p = ((win[0] << 8) | win[1]) as usize;
                        pc[p] += c;
                        if last[p] != w {
                            last[p] = w;
                            pw[p].push(w);
                        }
                    }
                }
                (pc, pw)
            })
            .collect();
        let mut index = PairIndex {
            counts: PairCounts::default(),
            words: FxHashMap::default(),
        };
        for (pc, pw) in built {
            for (p, (c, list)) in pc.into_iter().zip(pw).enumerate() {
                if c > 0 {
                    let key = pack((p >> 8) as u32, (p & 0xff) as u32);
                    index.counts.add(key, c);
                    index.extend_words(key, list);
                }
            }
        }
        index
    }

    /// A heap of every pair.
    pub(super) fn heap(&self, tok: &Tokens) -> PairHeap {
        let all = self
            .counts
            .iter()
            .map(|(pair, count)| Candidate::new(count, pair, tok))
            .collect();
        PairHeap::from_vec(all, tok)
    }

    /// Removes and returns the word list of `pair` (it is being merged away).
    pub(super) fn take_words(&mut self, pair: Pair) -> Vec<u32> {
        self.words.remove(&pair).unwrap_or_default()
    }

    fn extend_words(&mut self, pair: Pair, mut list: Vec<u32>) {
        match self.words.entry(pair) {
            Entry::Occupied(mut e) => e.get_mut().append(&mut list),
            Entry::Vacant(e) => {
                e.insert(list);
            }
        }
    }

    /// Applies one merge's summed count changes. A raised count pushes a fresh heap entry (a
    /// lowered one is fixed lazily, see `heap`); a pair whose count reaches 0 is gone.
    /// `scratch` is reused from merge to merge.
    pub(super) fn apply_deltas(
        &mut self,
        deltas: &FxHashMap<Pair, Delta>,
        scratch: &mut Vec<(Pair, Delta)>,
        heap: &mut PairHeap,
        tok: &Tokens,
    ) {
        scratch.clear();
        scratch.extend(
            deltas
                .iter()
                .filter(|(_, &d)| d != 0)
                .map(|(&p, &d)| (p, d)),
        );
        let words = &mut self.words;
        self.counts.apply(scratch, |p, change| match change {
            Change::Raised(c) => heap.push(Candidate::new(c, p, tok), tok),
            Change::Lowered => {}
            Change::Gone => {
                words.remove(&p);
            }
        });
    }
}

/// Word lists of the pairs a merge creates. They all contain the new token `n`, so they are
/// gathered in dense arrays keyed by the other symbol ((x, n) by x, (n, y) by y): the pair map is
/// then touched once per distinct new pair, not once per occurrence, and a word is listed once per
/// pair (entries for one word arrive together, so comparing with the last entry dedupes).
#[derive(Default)]
pub(super) struct NewPairLists {
    left_of_n: Vec<Vec<u32>>,
    right_of_n: Vec<Vec<u32>>,
    touched_left: Vec<u32>,
    touched_right: Vec<u32>,
}

impl NewPairLists {
    /// Makes room for pairs with any of the `n_tokens` tokens.
    pub(super) fn reserve(&mut self, n_tokens: usize) {
        if self.left_of_n.len() < n_tokens {
            self.left_of_n.resize_with(n_tokens, Vec::new);
            self.right_of_n.resize_with(n_tokens, Vec::new);
        }
    }

    /// Word `w` holds the pair `p`, which contains the new token `n`.
    #[inline]
    pub(super) fn add(&mut self, p: Pair, w: u32, n: u32) {
        let (l, r) = unpack(p);
        let (list, touched, other) = if r == n {
            (&mut self.left_of_n[l as usize], &mut self.touched_left, l)
        } else {
            (&mut self.right_of_n[r as usize], &mut self.touched_right, r)
        };
        if list.is_empty() {
            touched.push(other);
        }
        if list.last() != Some(&w) {
            list.push(w);
        }
    }

    /// Moves the gathered lists into `index` (pairs whose count cancelled out are dropped).
    pub(super) fn flush(&mut self, n: u32, index: &mut PairIndex) {
        for (lists, touched, left) in [
            (&mut self.left_of_n, &mut self.touched_left, true),
            (&mut self.right_of_n, &mut self.touched_right, false),
        ] {
            for &x in touched.iter() {
                let list = std::mem::take(&mut lists[x as usize]);
                let p = if left { pack(x, n) } else { pack(n, x) };
                if index.counts.contains(p) {
                    index.extend_words(p, list);
                }
            }
            touched.clear();
        }
    }
}
