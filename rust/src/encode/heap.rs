//! Long pieces: a min-heap of candidate merges over a doubly linked list of parts, O(n log n).
//!
//! Heap entries are (packed rank+merged id, start position). Entries go stale when a neighbour
//! merges; an entry is valid iff its left part is still alive, has a right neighbour, and the
//! pair's current lookup equals the entry. A stale entry can never look valid: after a merge at
//! `pos`, the pair starting at `pos` would produce a strictly longer token than before.
//! Ordering by (rank, position) gives tiktoken's "lowest rank, leftmost" choice.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{merged_id, Bpe, NO_MERGE};

const NONE: u32 = u32::MAX;

pub(super) fn merge(bpe: &Bpe, piece: &[u8], out: &mut Vec<u32>) {
    let n = piece.len();
    if n == 0 {
        return;
    }
    let mut ids: Vec<u32> = piece.iter().map(|&b| bpe.byte_id(b)).collect();
    let mut next: Vec<u32> = (1..=n as u32).collect();
    next[n - 1] = NONE;
    let mut prev: Vec<u32> = (0..n as u32).map(|i| i.wrapping_sub(1)).collect();
    prev[0] = NONE;
    let mut alive = vec![true; n];
    let mut heap: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::with_capacity(n);
    for i in 0..n - 1 {
        let m = bpe.merge_of(ids[i], ids[i + 1]);
        if m != NO_MERGE {
            heap.push(Reverse((m, i as u32)));
        }
    }
    while let Some(Reverse((m, pos))) = heap.pop() {
        let p = pos as usize;
        if !alive[p] || next[p] == NONE {
            continue;
        }
        let r = next[p] as usize;
        if bpe.merge_of(ids[p], ids[r]) != m {
            continue;
        }
        ids[p] = merged_id(m);
        alive[r] = false;
        next[p] = next[r];
        if next[p] != NONE {
            prev[next[p] as usize] = pos;
            let nm = bpe.merge_of(ids[p], ids[next[p] as usize]);
            if nm != NO_MERGE {
                heap.push(Reverse((nm, pos)));
            }
        }
        if prev[p] != NONE {
            let l = prev[p];
            let lm = bpe.merge_of(ids[l as usize], ids[p]);
            if lm != NO_MERGE {
                heap.push(Reverse((lm, l)));
            }
        }
    }
    let mut i = 0u32;
    while i != NONE {
        out.push(ids[i as usize]);
        i = next[i as usize];
    }
}
