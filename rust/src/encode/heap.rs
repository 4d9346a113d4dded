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
//!
//! Before any of that, a piece of a few runs of one byte each (`"a" * 100_000`, a million
//! spaces or newlines, `"^" * 1_000_000`) is merged on its run-length encoding (`heap/runs.rs`,
//! with its correctness argument), which gives up (nothing written) when its premise fails.
//!
//! Performance notes (issue 10; CPU time of `Bpe::encode_piece` alone, best of 5, on the busy
//! 2-core machine; instruction and miss counts by cachegrind with a 1 MB first-level cache, the
//! size of this machine's L2):
//! - Where the time went (perf, 1M random digits, GPT-2, 125 ms): 75% in this loop, almost all
//!   of it on three loads (`next[p]`, `prev[p]`, `ids[p]`) right after a pop: the positions a
//!   rank's merges touch are scattered over 13 MB of per-part arrays, one L2 miss each.
//! - Kept: runs (`heap/runs.rs`). GPT-2 / cl100k, ms: `"a" * 100_000` 2.9 / 3.4 -> 0.06 / 0.03,
//!   999,999 spaces 3.2 / 49 -> 0.4 / 0.3, `"\n" * 1M` 16 / 47 -> 0.4 / 0.3, `"^" * 1M`
//!   23 / 25 -> 0.3 / 0.3 (most of what is left is writing the ids).
//! - Kept: one `Part` struct per position instead of four arrays: 4.6 -> 3.5 M misses on 1M
//!   digits (308 -> 331 M instructions: copying the struct). Then 20 -> 16 bytes (no `prev`:
//!   the byte before a part tells where its left neighbour starts): the same in a warm loop,
//!   the first call in a process (fresh pages: what a one-off call costs) 73.7 -> 70.1 ms.
//! - Kept: prefetching the part `PREFETCH_AHEAD` pops ahead (the rank queue knows its sorted
//!   positions in advance) and its neighbours: 1M digits 130 -> 56 ms (GPT-2), 126 -> 61 ms
//!   (cl100k). 32 ahead was no better than 16; the part alone (no neighbours) gave ~68 ms.
//! - Kept: pieces under `BINARY_BELOW` bytes skip the rank queue (one allocation per rank)
//!   for the binary heap. ns a byte, GPT-2 / cl100k, random letters: 128-160 bytes 138 / 163
//!   -> 58 / 83; 256-512: 114 / 146 -> 58 / 90; 1-4 KB about even (76 / 99 vs 67 / 80);
//!   64-256 KB the rank queue wins (46 / 71 vs 128 / 126), hence the cut at 2 KB.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

mod runs;

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
    /// A key that will be popped soon, if the queue knows one (for prefetching).
    fn ahead(&self) -> Option<u64> {
        None
    }
}

impl MergeQueue for RankQueue {
    fn push(&mut self, key: u64) -> bool {
        RankQueue::push(self, key)
    }
    fn pop(&mut self) -> Option<u64> {
        RankQueue::pop(self)
    }
    fn ahead(&self) -> Option<u64> {
        RankQueue::ahead(self, PREFETCH_AHEAD)
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

/// Pieces shorter than this go straight to the binary heap: below it the heap's O(log n) is
/// cheap (it stays in L1/L2) and the rank queue's per-rank lists cost an allocation each.
const BINARY_BELOW: usize = 2048;

pub(super) fn merge(bpe: &Bpe, piece: &[u8], out: &mut Vec<u32>) {
    if runs::merge(bpe, piece, out) {
        return;
    }
    let n = piece.len();
    if n < BINARY_BELOW {
        let done = merge_with(bpe, piece, BinaryHeap::with_capacity(n), out);
        debug_assert!(done, "a binary heap accepts keys in any order");
        return;
    }
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

/// One position of the piece: the start of a part, with the candidate merge of that part and
/// its right neighbour, or a byte merged into the part on its left. One struct (not one array
/// per field): a merge touches three or four parts at scattered positions, each then one cache
/// miss instead of one per field; 16 bytes, so four to a cache line.
#[derive(Clone, Copy)]
struct Part {
    /// The part's token, or NONE for a byte merged away (no token has the id NONE:
    /// `Bpe::new` refuses it).
    id: u32,
    /// A part: where its right neighbour starts, or NONE (the last part). A merged-away byte
    /// that ends a part: where that part starts (how a part finds its left neighbour: the part
    /// ending just before it, with no `prev` field); other merged-away bytes: unused.
    next: u32,
    /// Rank and merged id of this part + `next`; `merged` is NONE when they do not merge or
    /// this byte was merged away.
    rank: u32,
    merged: u32,
}

/// Merges `piece` using `queue`; appends the ids to `out` and returns true, or returns false
/// (leaving `out` alone) when the queue refused a key.
fn merge_with(bpe: &Bpe, piece: &[u8], mut queue: impl MergeQueue, out: &mut Vec<u32>) -> bool {
    let n = piece.len();
    if n == 0 {
        return true;
    }
    let mut parts: Vec<Part> = Vec::with_capacity(n);
    for (i, &b) in piece.iter().enumerate() {
        // Filling the queue is itself 40M pushes for a 40 MB piece: poll here too.
        if i.is_multiple_of(POLL_EVERY) && crate::cancel::requested() {
            return true; // Ctrl-C: the caller discards this piece
        }
        let m = match piece.get(i + 1) {
            Some(&c) => bpe.byte_merge(b, c),
            None => NO_MERGE,
        };
        parts.push(Part {
            id: bpe.byte_id(b),
            next: if i + 1 < n { i as u32 + 1 } else { NONE },
            rank: (m >> 32) as u32,
            merged: merged_id(m),
        });
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
        if let Some(a) = queue.ahead() {
            // The part, the byte before it (its left neighbour's end) and what follows (a merge
            // reads all three).
            let a = (a & 0xFFFF_FFFF) as usize;
            for i in [a.wrapping_sub(1), a + 3] {
                prefetch(&parts, i);
            }
        }
        let p = (k & 0xFFFF_FFFF) as usize;
        let part = parts[p];
        // Valid iff this part is alive, has a right neighbour and still merges at the popped
        // rank (module docs: a rank never comes back at a position).
        if part.merged == NONE || part.rank != (k >> 32) as u32 {
            continue;
        }
        let t = part.merged;
        let r = part.next as usize;
        let after = parts[r].next;
        parts[r] = Part {
            id: NONE,
            next: p as u32,
            rank: NONE,
            merged: NONE,
        };
        // The merged part ends at `after - 1` (a merged-away byte now): it points back to `p`.
        let end = if after == NONE {
            n - 1
        } else {
            after as usize - 1
        };
        parts[end].next = p as u32;
        let mut merged = Part {
            id: t,
            next: after,
            rank: NONE,
            merged: NONE,
        };
        if after != NONE {
            let m = bpe.merge_of(t, parts[after as usize].id);
            if m != NO_MERGE {
                merged.rank = (m >> 32) as u32;
                merged.merged = merged_id(m);
                if !queue.push(key(m, p as u32)) {
                    return false;
                }
            }
        }
        parts[p] = merged;
        if let Some(before) = p.checked_sub(1) {
            let l = match parts[before].id {
                NONE => parts[before].next,
                _ => before as u32,
            };
            let left = &mut parts[l as usize];
            let m = bpe.merge_of(left.id, t);
            left.rank = (m >> 32) as u32;
            left.merged = merged_id(m);
            if m != NO_MERGE && !queue.push(key(m, l)) {
                return false;
            }
        }
    }
    let mut i = 0u32;
    while i != NONE {
        out.push(parts[i as usize].id);
        i = parts[i as usize].next;
    }
    true
}

/// How many pops ahead the merge loop prefetches a part.
const PREFETCH_AHEAD: usize = 16;

/// Starts loading `parts[i]` into cache. Why: the parts a rank's merges touch are scattered over
/// the piece (one L2 miss each for a 1 MB piece); the queue knows the positions in advance.
#[inline(always)]
fn prefetch(parts: &[Part], i: usize) {
    if let Some(p) = parts.get(i) {
        crate::prefetch::prefetch(p);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::tests::toy;
    use super::*;

    /// A xorshift generator: `rnd(m)` is in 0..m.
    pub(in super::super) fn rng(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |m| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        }
    }

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
    fn rank_queue_equals_binary_heap_where_it_takes_the_piece() {
        // `merge` sends pieces below BINARY_BELOW to the binary heap; the rank queue must still
        // agree on every piece it accepts, short or long. The second list has falling ranks.
        for merges in [
            &["ab", "bc", "abc", "aa", "aaaa", "ca", "cab", "bb", "bcab"][..],
            &["abc", "bc", "ab", "cab", "aa", "ca", "bcab", "aaaa", "bb"][..],
        ] {
            let bpe = toy(merges);
            let mut rnd = rng(0x2545F4914F6CDD1D);
            let mut taken = 0;
            for len in (0..300).chain([BINARY_BELOW - 1, BINARY_BELOW, 3 * BINARY_BELOW + 1]) {
                for _ in 0..10 {
                    let piece: Vec<u8> = (0..len).map(|_| b"abcx"[rnd(4) as usize]).collect();
                    let mut want = Vec::new();
                    merge_binary(&bpe, &piece, &mut want);
                    let mut got = Vec::new();
                    if merge_with(&bpe, &piece, RankQueue::new(), &mut got) {
                        assert_eq!(got, want);
                        taken += 1;
                    }
                    let mut public = Vec::new();
                    merge(&bpe, &piece, &mut public);
                    assert_eq!(public, want);
                }
            }
            assert!(
                taken > 100,
                "{merges:?}: the rank queue took only {taken} pieces"
            );
        }
    }

    #[test]
    fn rank_queue_takes_growing_ranks() {
        let bpe = toy(&["ab", "bc", "abc"]);
        let mut out = Vec::new();
        assert!(merge_with(&bpe, b"abcab", RankQueue::new(), &mut out));
        assert_eq!(out, [258, 256]);
    }
}
