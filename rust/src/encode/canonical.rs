//! Which pairs the pair table keeps: for each token whose own bytes BPE-encode to that one
//! token, only the split BPE makes last. Every other split of every token is left out.
//!
//! Why the ids stay the same (the rule: merge the leftmost adjacent pair of lowest rank):
//! 1. Every part in every state of BPE on any piece is a token whose own bytes BPE-encode to
//!    it, and the merges that built it are exactly those of BPE on its bytes alone, in the same
//!    order. A part covering bytes [a, b) never merged with anything outside them, so the
//!    merges inside [a, b) are the only ones that touched them; each was the leftmost lowest
//!    pair of the whole piece when made, so the leftmost lowest of those inside [a, b), and the
//!    inside does not change between them: BPE on bytes [a, b) alone takes the same pairs.
//! 2. So a merge (l, r) -> m that BPE makes on any piece is m's canonical split: the last
//!    merge of BPE on m's bytes alone (by 1, applied to the part m right after the merge).
//! 3. Given the same state, the full table and this one pick the same pair: the full table's
//!    pick (l, r) is made, so by 2 it is kept, with the same rank; every other pair has the
//!    same rank here or none, so nothing ranks lower, and nothing of equal rank lies to its
//!    left (it would have been the full table's pick). With no pair left in the full table,
//!    none is left here. By induction the states, and so the ids, are the same at every step.
//!
//! Pieces that are themselves tokens never merge (the whole-piece lookup answers first), so a
//! token that BPE cannot reach from its bytes needs no pair at all.
//!
//! Tested against a plain BPE over every split of every token on random vocabularies
//! (`tests::random_vocabularies_match_reference` in `mod.rs`), and against tiktoken on real
//! text (tests/test_parity*.py).
//!
//! Performance (issue 10, session 10; pure Rust, 5 MB, best of 5 interleaved, MB/s, before ->
//! after): the table holds 50K of GPT-2's 108K splits and 200K of o200k's 446K (4 MB of slots
//! instead of 8; the filter halves too). GPT-2 English 102.7 -> 107.8, multilingual 60.1 ->
//! 63.6, code 123.2 -> 124.5; cl100k 93.9 / 51.3 / 107.4 -> 94.8 / 52.5 / 118.2; o200k 75.6 /
//! 38.6 / 106.9 -> 78.2 / 42.1 / 102.5 (noise here is about 8%). RSS with o200k loaded 73 ->
//! 56 MB. Loading a tiktoken file takes about as long as before (o200k 0.38-0.47 s -> 0.33-0.39,
//! cl100k and GPT-2 unchanged): one BPE per token replaces the list of every split (two
//! byte-string lookups per split). With a plain O(n^2) BPE instead of the heap, o200k loaded in
//! 0.31 s, but a token as long as its corpus took minutes.
//!
//! Memory: while it runs on one token the builder holds about 68 bytes per byte of it (ids,
//! links and a heap with room for every push), ~68 MB for a trained 1 MB token, freed once the
//! table is made. The room is reserved before each run, so a token too large for memory (a
//! hostile tokenizer file) is an `OutOfMemory` error from loading, never an abort.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, TryReserveError};

use rustc_hash::FxHashMap;

use super::pair_map::PairMap;
use super::{merged_id, pack, pair_key, NO_MERGE};
use crate::error::{Error, Result};

/// The table of canonical splits. `by_bytes` maps each token's bytes to (rank, id); `byte_ids`
/// gives the single bytes' ids.
///
/// Built shortest tokens first, without ever listing every split: while BPE on a token's
/// bytes has three parts or more, every pair it can merge makes a shorter token, so the
/// canonical splits of the shorter tokens already found decide it exactly as the full table
/// would (argument 3 above, on the vocabulary of shorter tokens). When it gets down to two
/// parts, they are the token's canonical split: with the full table, they merge next, into
/// the token (their bytes are its bytes).
pub(super) fn pairs(
    byte_ids: &[u32; 256],
    by_bytes: &FxHashMap<&[u8], (u32, u32)>,
) -> Result<PairMap> {
    let mut tokens: Vec<(&[u8], u64)> = by_bytes
        .iter()
        .filter(|(b, _)| b.len() >= 2)
        .map(|(&b, &(rank, id))| (b, pack(rank, id)))
        .collect();
    tokens.sort_unstable_by_key(|&(b, packed)| (b.len(), packed));
    let mut kept: FxHashMap<u64, u64> = FxHashMap::default();
    kept.reserve(tokens.len());
    let mut bpe = TwoParts::default();
    for (bytes, packed) in tokens {
        let found = bpe.run(&kept, byte_ids, bytes).map_err(|_| {
            Error::OutOfMemory(format!(
                "out of memory: cannot build the pair table for token id {} ({} bytes)",
                merged_id(packed),
                bytes.len()
            ))
        })?;
        if let Some(key) = found {
            kept.insert(key, packed);
        }
    }
    let kept: Vec<(u64, u64)> = kept.into_iter().collect();
    Ok(PairMap::new(&kept))
}

/// BPE on a token's bytes that stops at two parts. Parts are linked in order (by the offset
/// where each starts) and the candidate merges sit in a min-heap keyed (packed merge, offset),
/// so the leftmost lowest pops first; an entry a merge has made stale is skipped when popped
/// (`cur` no longer holds it). O(n log n) a token, not O(n^2): a trained vocabulary can hold a
/// token as long as its corpus (`"a" * 1_000_000`, tests/test_limits.py).
#[derive(Default)]
struct TwoParts {
    ids: Vec<u32>,
    /// Where the next part starts (n after the last part).
    next: Vec<u32>,
    /// Where the previous part starts (`u32::MAX` before the first).
    prev: Vec<u32>,
    /// Packed merge of the part starting here with the next one; `NO_MERGE` for none and for
    /// offsets where no part starts any more.
    cur: Vec<u64>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
}

impl TwoParts {
    /// Empty, with room for a token of `n` bytes, reserved up front so that a hostile file's
    /// huge token is an error, not an abort inside `run`: `run` pushes at most `n - 1` heap
    /// entries at the start and two per merge after (fewer than `n` merges).
    fn reserve(&mut self, n: usize) -> std::result::Result<(), TryReserveError> {
        for v in [&mut self.ids, &mut self.next, &mut self.prev] {
            v.clear();
            v.try_reserve_exact(n)?;
        }
        self.cur.clear();
        self.cur.try_reserve_exact(n)?;
        self.heap.clear();
        self.heap.try_reserve_exact(n.saturating_mul(3))
    }

    /// The pair key of the two parts BPE with `table` reaches on `bytes`, or None when it stops
    /// with more (or `bytes` is one byte); Err when there is no memory for it.
    fn run(
        &mut self,
        table: &FxHashMap<u64, u64>,
        byte_ids: &[u32; 256],
        bytes: &[u8],
    ) -> std::result::Result<Option<u64>, TryReserveError> {
        let merge = |l: u32, r: u32| table.get(&pair_key(l, r)).copied().unwrap_or(NO_MERGE);
        let n = bytes.len();
        self.reserve(n)?;
        let TwoParts {
            ids,
            next,
            prev,
            cur,
            heap,
        } = self;
        ids.extend(bytes.iter().map(|&b| byte_ids[b as usize]));
        next.extend(1..=n as u32);
        prev.extend((0..n as u32).map(|i| i.wrapping_sub(1)));
        cur.extend(ids.windows(2).map(|w| merge(w[0], w[1])));
        cur.push(NO_MERGE);
        heap.extend(
            (cur.iter().enumerate())
                .filter(|&(_, &m)| m != NO_MERGE)
                .map(|(i, &m)| Reverse((m, i as u32))),
        );
        let mut parts = n;
        while parts > 2 {
            let Some(Reverse((m, i))) = heap.pop() else {
                return Ok(None);
            };
            let i = i as usize;
            if cur[i] != m {
                continue;
            }
            // The part at `i` absorbs the next one, at `j`.
            let j = next[i] as usize;
            let after = next[j] as usize;
            ids[i] = merged_id(m);
            next[i] = after as u32;
            cur[j] = NO_MERGE;
            parts -= 1;
            cur[i] = NO_MERGE;
            if after < n {
                prev[after] = i as u32;
                cur[i] = merge(ids[i], ids[after]);
            }
            // `u32::MAX` (no previous part) is past every offset.
            let p = prev[i] as usize;
            if p < n {
                cur[p] = merge(ids[p], ids[i]);
            }
            for k in [i, p] {
                if cur.get(k).is_some_and(|&m| m != NO_MERGE) {
                    heap.push(Reverse((cur[k], k as u32)));
                }
            }
        }
        Ok((n >= 2).then(|| pair_key(ids[0], ids[next[0] as usize])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_for_a_token_too_large_is_an_error_not_an_abort() {
        let mut bpe = TwoParts::default();
        assert!(bpe.reserve(usize::MAX / 4).is_err());
        // Still usable after the failure.
        assert!(bpe.reserve(3).is_ok());
        let table: FxHashMap<u64, u64> = [(pair_key(97, 98), pack(0, 256))].into_iter().collect();
        let ids: [u32; 256] = std::array::from_fn(|b| b as u32);
        assert_eq!(bpe.run(&table, &ids, b"abc"), Ok(Some(pair_key(256, 99))));
    }
}
