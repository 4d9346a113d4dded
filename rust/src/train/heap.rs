//! The max-heap of merge candidates, with lazy invalidation.
//!
//! Counts only change for pairs next to a merge. A decrease leaves the heap alone (the stale entry
//! is re-pushed with the current count when it surfaces); an increase pushes a fresh entry. An
//! entry is trusted only when its count equals the pair's current count. Since every live pair has
//! an entry whose count is >= its current count, the first trusted entry is the true maximum.
//!
//! A hand-written binary heap because the comparator needs the token table (std's `BinaryHeap`
//! needs `Ord` on the entries alone).

use super::order::Candidate;
use super::pair_counts::PairCounts;
use super::tokens::Tokens;

/// Children per node: a 4-ary heap is half as deep as a binary one, and a node's children share
/// two cache lines (candidates are 32 bytes). The merge loop on english_100M.txt at 10K (388 K
/// entries at the end), 2 threads, 6 interleaved runs: binary 0.338..0.553 s, 4-ary
/// 0.327..0.394 s, lower at every rank. Which pair pops never depends on the heap's shape (the
/// order is total), so the merges are the same.
const D: usize = 4;

pub(super) struct PairHeap {
    data: Vec<Candidate>,
}

impl PairHeap {
    pub(super) fn from_vec(data: Vec<Candidate>, tok: &Tokens) -> Self {
        let mut h = PairHeap { data };
        for i in (0..h.data.len() / D + 1).rev() {
            h.sift_down(i, tok);
        }
        h
    }

    pub(super) fn push(&mut self, e: Candidate, tok: &Tokens) {
        self.data.push(e);
        let mut i = self.data.len() - 1;
        while i > 0 {
            let parent = (i - 1) / D;
            if self.data[i].outranks(&self.data[parent], tok) {
                self.data.swap(i, parent);
                i = parent;
            } else {
                break;
            }
        }
    }

    fn pop(&mut self, tok: &Tokens) -> Option<Candidate> {
        let last = self.data.pop()?;
        if self.data.is_empty() {
            return Some(last);
        }
        let top = std::mem::replace(&mut self.data[0], last);
        self.sift_down(0, tok);
        Some(top)
    }

    /// Pops the best pair whose entry is current (see the module notes); `None` when no pair is
    /// left.
    pub(super) fn pop_best(&mut self, counts: &PairCounts, tok: &Tokens) -> Option<Candidate> {
        loop {
            let e = self.pop(tok)?;
            let current = counts.get(e.pair);
            if e.count == current {
                return Some(e);
            }
            if e.count > current && current > 0 {
                self.push(e.with_count(current), tok);
            }
        }
    }

    fn sift_down(&mut self, mut i: usize, tok: &Tokens) {
        let n = self.data.len();
        loop {
            let first = D * i + 1;
            if first >= n {
                break;
            }
            let mut c = first;
            for k in first + 1..(first + D).min(n) {
                if self.data[k].outranks(&self.data[c], tok) {
                    c = k;
                }
            }
            if self.data[c].outranks(&self.data[i], tok) {
                self.data.swap(c, i);
                i = c;
            } else {
                break;
            }
        }
    }
}
