//! Long pieces: a priority queue of candidate merges over a doubly linked list of parts.
//!
//! Queue keys are (rank << 32 | start position), so the smallest key is tiktoken's "lowest rank,
//! leftmost" choice. Entries go stale when a neighbour merges; an entry is valid iff its left
//! part is still alive, has a right neighbour, and that pair still merges at the entry's rank.
//! A stale entry can never look valid: ranks are distinct, and after any change the pair at a
//! position would make a strictly longer token than before.
//!
//! The queue groups positions by rank (`rank_queue.rs`) while merge ranks keep growing, which
//! they do for vocabularies trained by BPE; if a rank ever fails to grow, the piece starts over
//! with a binary heap, O(n log n) for any vocabulary.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::rank_queue::RankQueue;
use super::{merged_id, Bpe, NO_MERGE};

const NONE: u32 = u32::MAX;

/// The merge loop looks at `cancel::requested` every this many pops: a 40 MB pre-token is one
/// call that runs for seconds. A piece the piece cache may keep (at most `cache::LONG_MAX`
/// bytes, so fewer pops) is never cut short, so no partial result is ever cached.
const POLL_EVERY: usize = 4096;
const _: () = assert!(super::cache::LONG_MAX < POLL_EVERY);

/// A min-queue of keys; `push` may refuse a key (the merge then starts over with another queue).
trait MergeQueue {
    fn push(&mut self, key: u64) -> bool;
    fn pop(&mut self) -> Option<u64>;
}

impl MergeQueue for RankQueue {
    fn push(&mut self, key: u64) -> bool {
        RankQueue::push(self, key)
    }
    fn pop(&mut self) -> Option<u64> {
        RankQueue::pop(self)
    }
}

impl MergeQueue for BinaryHeap<Reverse<u64>> {
    fn push(&mut self, key: u64) -> bool {
        BinaryHeap::push(self, Reverse(key));
        true
    }
    fn pop(&mut self) -> Option<u64> {
        BinaryHeap::pop(self).map(|Reverse(k)| k)
    }
}

pub(super) fn merge(bpe: &Bpe, piece: &[u8], out: &mut Vec<u32>) {
    let n = piece.len();
    if !merge_with(bpe, piece, RankQueue::new(), out) {
        let done = merge_with(bpe, piece, BinaryHeap::with_capacity(n), out);
        debug_assert!(done, "a binary heap accepts keys in any order");
    }
}

/// Binary heap only (tests compare the two queues).
#[cfg(test)]
pub(super) fn merge_binary(bpe: &Bpe, piece: &[u8], out: &mut Vec<u32>) {
    merge_with(bpe, piece, BinaryHeap::with_capacity(piece.len()), out);
}

#[inline]
fn key(merge: u64, pos: u32) -> u64 {
    // The packed merge holds the rank in its high half.
    (merge & !0xFFFF_FFFF) | pos as u64
}

/// Merges `piece` using `queue`; appends the ids to `out` and returns true, or returns false
/// (leaving `out` alone) when the queue refused a key.
fn merge_with(bpe: &Bpe, piece: &[u8], mut queue: impl MergeQueue, out: &mut Vec<u32>) -> bool {
    let n = piece.len();
    if n == 0 {
        return true;
    }
    let mut ids: Vec<u32> = piece.iter().map(|&b| bpe.byte_id(b)).collect();
    let mut next: Vec<u32> = (1..=n as u32).collect();
    next[n - 1] = NONE;
    let mut prev: Vec<u32> = (0..n as u32).map(|i| i.wrapping_sub(1)).collect();
    prev[0] = NONE;
    let mut alive = vec![true; n];
    for i in 0..n - 1 {
        // Filling the queue is itself 40M pushes for a 40 MB piece: poll here too.
        if i.is_multiple_of(POLL_EVERY) && crate::cancel::requested() {
            return true; // Ctrl-C: the caller discards this piece
        }
        let m = bpe.byte_merge(piece[i], piece[i + 1]);
        if m != NO_MERGE && !queue.push(key(m, i as u32)) {
            return false;
        }
    }
    let mut pops = 0usize;
    while let Some(k) = queue.pop() {
        pops += 1;
        if pops.is_multiple_of(POLL_EVERY) && crate::cancel::requested() {
            break; // Ctrl-C: the caller discards this piece's (partial) ids
        }
        let p = (k & 0xFFFF_FFFF) as usize;
        if !alive[p] || next[p] == NONE {
            continue;
        }
        let r = next[p] as usize;
        let m = bpe.merge_of(ids[p], ids[r]);
        if m == NO_MERGE || key(m, p as u32) != k {
            continue;
        }
        ids[p] = merged_id(m);
        alive[r] = false;
        next[p] = next[r];
        if next[p] != NONE {
            prev[next[p] as usize] = p as u32;
            let nm = bpe.merge_of(ids[p], ids[next[p] as usize]);
            if nm != NO_MERGE && !queue.push(key(nm, p as u32)) {
                return false;
            }
        }
        if prev[p] != NONE {
            let l = prev[p];
            let lm = bpe.merge_of(ids[l as usize], ids[p]);
            if lm != NO_MERGE && !queue.push(key(lm, l)) {
                return false;
            }
        }
    }
    let mut i = 0u32;
    while i != NONE {
        out.push(ids[i as usize]);
        i = next[i as usize];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::tests::toy;
    use super::*;

    #[test]
    fn rank_queue_refuses_falling_ranks_and_leaves_out_alone() {
        // "bc" (rank 1) merges first, then "a" + "bc" would merge at rank 0: lower than the last.
        let bpe = toy(&["abc", "bc"]);
        let mut out = vec![7];
        assert!(!merge_with(&bpe, b"abc", RankQueue::new(), &mut out));
        assert_eq!(out, [7]);
        merge(&bpe, b"abc", &mut out);
        assert_eq!(out, [7, 256]);
    }

    #[test]
    fn rank_queue_takes_growing_ranks() {
        let bpe = toy(&["ab", "bc", "abc"]);
        let mut out = Vec::new();
        assert!(merge_with(&bpe, b"abcab", RankQueue::new(), &mut out));
        assert_eq!(out, [258, 256]);
    }
}
