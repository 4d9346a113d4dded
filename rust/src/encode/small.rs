//! Short pieces (< LONG_PIECE bytes): BPE by repeated search for the lowest-ranked adjacent pair.
//!
//! Two forms, same rule (tiktoken's: lowest rank, leftmost on ties):
//! - up to 64 bytes, `merge_linked`: parts stay where they started, linked in order, and each
//!   pair's key is `rank << 32 | position`, so the leftmost lowest-ranked pair is simply the
//!   minimum key over a fixed-size array: a branchless reduction, and no array shifting;
//! - 65-127 bytes, `merge_scan`: `merges[i]` holds the packed (rank, merged id) of joining part i
//!   with part i+1; a strict `<` scan keeps the leftmost minimum, and a merge shifts the arrays.
//!
//! n < LONG_PIECE, so the O(n^2) worst case of both is bounded and the arrays stay on the stack.
//!
//! Performance notes (issue 10; `valgrind --tool=cachegrind --cache-sim=yes --branch-sim=yes` on
//! the distinct non-token pieces of 5 MB of each corpus, GPT-2, three passes; wall clock was
//! useless on the shared machine that day):
//! - The scan's data-dependent branches mispredicted: `merge_linked` for <= 16 bytes cut
//!   mispredicts by 12% on English (7.96M -> 7.00M) and 18% on multilingual text
//!   (9.95M -> 8.14M), with 1.3% fewer instructions there; data cache misses unchanged.
//! - 17-32 bytes (multilingual): 13.4M fewer instructions, mispredicts 4.82M -> 4.03M.
//! - 33-64 bytes (multilingual): 22M fewer instructions, mispredicts 4.55M -> 3.89M.
//! - Dropped: `merge_linked` for 65-127 bytes: the 128-wide reduction per merge costs more than
//!   the shrinking scan (+110M instructions for 0.2M fewer mispredicts).
//! - Session 7: the minimum over `keys` as a tree (`min_of`), and 1-8-byte pieces on 8-wide
//!   arrays: the fold was one chain of N dependent compare-and-moves (16 for every short piece)
//!   on each merge. Measured together with the pair table's 8-byte slots (`pair_map.rs`).
//!   Dropped: scanning only the keys up to the piece's length (rounded up to 8) instead of all
//!   N: multilingual best of 7, 72.9 vs 73.3 (GPT-2) and 58.5 vs 58.4 MB/s (cl100k). Also
//!   dropped again with the tree minimum: `merge_linked::<128>` for 65-127 bytes, multilingual
//!   77.1 -> 77.9 (GPT-2) but 66.3 -> 65.7 MB/s (cl100k), best of 7 and 5.
//! - Before: the arrays sized to the piece (16 or `LONG_PIECE` entries): zeroing two 128-entry
//!   arrays on every call (1.5 KB of `memset`) cost 2-3% of `encode_ordinary`.
//!
//! Correctness of `merge_linked`: positions are the piece's byte offsets, so among pairs of equal
//! rank the smaller key is the leftmost pair; merging part `j = next[i]` into `i` unlinks `j` and
//! refreshes the only two keys that change (the pairs now ending and starting at `i`). A key of
//! `u64::MAX` means no merge, and every real key is below it (ranks are below `u32::MAX`).
//! `tests::small_and_heap_match_reference` checks both forms against a plain BPE on byte strings
//! for every length up to 200.

use super::{merged_id, Bpe, LONG_PIECE, NO_MERGE};

pub(super) fn merge(bpe: &Bpe, piece: &[u8], out: &mut Vec<u32>) {
    debug_assert!(piece.len() < LONG_PIECE);
    match piece.len() {
        0 => {}
        1..=8 => merge_linked::<8>(bpe, piece, out),
        9..=16 => merge_linked::<16>(bpe, piece, out),
        17..=32 => merge_linked::<32>(bpe, piece, out),
        33..=64 => merge_linked::<64>(bpe, piece, out),
        _ => merge_scan(bpe, piece, out),
    }
}

/// `piece` has 1 to N bytes (N < 256, so positions fit in a u8 and 255 means none).
#[inline(always)]
fn merge_linked<const N: usize>(bpe: &Bpe, piece: &[u8], out: &mut Vec<u32>) {
    let n = piece.len();
    debug_assert!((1..=N).contains(&n) && N < 256);
    let mut ids = [0u32; N];
    // keys[i]: rank of merging part i with the part after it, then i; `u64::MAX` for none.
    let mut keys = [u64::MAX; N];
    let mut merged = [0u32; N];
    let mut next = [0u8; N];
    let mut prev = [0u8; N];
    for (i, &b) in piece.iter().enumerate() {
        ids[i] = bpe.byte_id(b);
        next[i] = i as u8 + 1;
        prev[i] = (i as u8).wrapping_sub(1);
    }
    let key = |packed: u64, i: usize| {
        if packed == NO_MERGE {
            u64::MAX
        } else {
            (packed >> 32) << 32 | i as u64
        }
    };
    for i in 0..n - 1 {
        let m = bpe.byte_merge(piece[i], piece[i + 1]);
        keys[i] = key(m, i);
        merged[i] = merged_id(m);
    }
    loop {
        let best = min_of(&keys);
        if best == u64::MAX {
            break;
        }
        let i = best as u32 as usize;
        let j = next[i] as usize;
        ids[i] = merged[i];
        keys[j] = u64::MAX;
        let after = next[j] as usize;
        next[i] = after as u8;
        if after < n {
            prev[after] = i as u8;
            let m = bpe.merge_of(ids[i], ids[after]);
            keys[i] = key(m, i);
            merged[i] = merged_id(m);
        } else {
            keys[i] = u64::MAX;
        }
        let p = prev[i] as usize;
        if p < n {
            let m = bpe.merge_of(ids[p], ids[i]);
            keys[p] = key(m, p);
            merged[p] = merged_id(m);
        }
    }
    let mut i = 0;
    while i < n {
        out.push(ids[i]);
        i = next[i] as usize;
    }
}

/// The least of `keys` as a tree of independent `min`s (8 running minima, then 8 -> 1), not
/// one chain of N dependent compares: the chain's latency was the merge loop's cost.
#[inline(always)]
fn min_of<const N: usize>(keys: &[u64; N]) -> u64 {
    let mut m = [u64::MAX; 8];
    for chunk in keys.chunks_exact(8) {
        for (a, &b) in m.iter_mut().zip(chunk) {
            *a = (*a).min(b);
        }
    }
    let m4 = [
        m[0].min(m[4]),
        m[1].min(m[5]),
        m[2].min(m[6]),
        m[3].min(m[7]),
    ];
    m4[0].min(m4[2]).min(m4[1].min(m4[3]))
}

fn merge_scan(bpe: &Bpe, piece: &[u8], out: &mut Vec<u32>) {
    let n = piece.len();
    debug_assert!((1..LONG_PIECE).contains(&n));
    let mut ids = [0u32; LONG_PIECE];
    let mut merges = [NO_MERGE; LONG_PIECE];
    for (i, &b) in piece.iter().enumerate() {
        ids[i] = bpe.byte_id(b);
    }
    for i in 0..n - 1 {
        merges[i] = bpe.byte_merge(piece[i], piece[i + 1]);
    }
    let mut len = n;
    while len > 1 {
        let mut best = NO_MERGE;
        let mut at = 0;
        for (i, &m) in merges[..len - 1].iter().enumerate() {
            if m < best {
                best = m;
                at = i;
            }
        }
        if best == NO_MERGE {
            break;
        }
        ids[at] = merged_id(best);
        ids.copy_within(at + 2..len, at + 1);
        merges.copy_within(at + 2..len, at + 1);
        len -= 1;
        merges[len - 1] = NO_MERGE;
        if at + 1 < len {
            merges[at] = bpe.merge_of(ids[at], ids[at + 1]);
        } else {
            merges[at] = NO_MERGE;
        }
        if at > 0 {
            merges[at - 1] = bpe.merge_of(ids[at - 1], ids[at]);
        }
    }
    out.extend_from_slice(&ids[..len]);
}
