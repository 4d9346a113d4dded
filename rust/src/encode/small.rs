//! Short pieces: repeated linear scan for the lowest-ranked adjacent pair.
//!
//! `merges[i]` holds the packed (rank, merged id) of joining part i with part i+1. A strict `<`
//! scan keeps the leftmost minimum, which is tiktoken's tie rule. n < LONG_PIECE, so the O(n^2)
//! worst case is bounded and the arrays stay on the stack.
//!
//! Performance notes: the arrays are sized for the piece (16 or `LONG_PIECE` entries): zeroing
//! two 128-entry arrays on every call (1.5 KB of `memset`) cost 2-3% of `encode_ordinary` before
//! the piece cache, for pieces that average 4-8 bytes.

use super::{merged_id, Bpe, LONG_PIECE, NO_MERGE};

pub(super) fn merge(bpe: &Bpe, piece: &[u8], out: &mut Vec<u32>) {
    debug_assert!(piece.len() < LONG_PIECE);
    if piece.len() <= 16 {
        merge_in::<16>(bpe, piece, out)
    } else {
        merge_in::<LONG_PIECE>(bpe, piece, out)
    }
}

#[inline(always)]
fn merge_in<const N: usize>(bpe: &Bpe, piece: &[u8], out: &mut Vec<u32>) {
    let n = piece.len();
    if n == 0 {
        return;
    }
    let mut ids = [0u32; N];
    let mut merges = [NO_MERGE; N];
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
