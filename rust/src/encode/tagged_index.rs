//! An open-addressing index (linear probing) of 4-byte slots over a dense array of entries that
//! its owner keeps in an order of its choosing: the shape of the encoder's whole-piece table
//! (`short_key::ShortMap`; the pair table was one too until its entries fit in 8-byte slots,
//! see `pair_map.rs`).
//!
//! Why (issue 10): every piece looks up its bytes, and every merge step one or two pairs. As
//! flat tables of 32-byte and 16-byte slots at load 1/2 these were 4 MB each for GPT-2, and
//! `perf annotate` put most of the lookups' time on the slot load (L2 is 1 MB a core here). The
//! index is 4 bytes a slot, and the owners store their entries in rank order, so the tokens
//! and merges that text uses most (BPE merges frequent pairs first: low ranks) share cache
//! lines. A slot holds its entry's number plus the rest of its bits from the key's hash (a tag),
//! so a probe that passes other keys' slots almost never reads their entries. The numbers are in
//! `pair_map.rs`.
//!
//! Tried and dropped (session 7): load up to 3/4 instead of 1/2 (a 256 KB index for GPT-2's
//! tokens): best of 9, English 120.9 -> 116.3, multilingual 70.9 -> 67.6, code 122.9 -> 121.6.
//!
//! Correctness: a slot is 0 (free) or `tag << entry_bits | entry + 1`; an entry is reported only
//! when its owner's `is` says it holds the key, so tags only skip entries that cannot match
//! (equal keys have equal hashes, hence equal tags). With `entry_bits` = 32 the tag is empty and
//! every probe asks `is`. Load factor at most 1/2, so a probe sequence always ends at a free slot.

#[derive(Debug, Clone)]
pub(super) struct TaggedIndex {
    slots: Box<[u32]>,
    /// 64 - log2(slots): the top hash bits pick the first slot.
    shift: u32,
    entry_bits: u32,
    entry_mask: u32,
    tag_mask: u32,
}

impl TaggedIndex {
    /// An empty index with room for `entries` entries.
    pub(super) fn with_capacity(entries: usize) -> Self {
        let bits = (2 * entries + 1)
            .next_power_of_two()
            .trailing_zeros()
            .max(4);
        // Entry numbers 1..=entries (0 is a free slot).
        let entry_bits = (usize::BITS - (entries + 1).leading_zeros()).min(32);
        TaggedIndex {
            slots: vec![0u32; 1 << bits].into_boxed_slice(),
            shift: 64 - bits,
            entry_bits,
            entry_mask: ((1u64 << entry_bits) - 1) as u32,
            tag_mask: u32::MAX.checked_shr(entry_bits).unwrap_or(0),
        }
    }

    /// The entry whose key has hash `hash` and for which `is(entry)` holds, or else the free
    /// slot where such a key goes (for `insert`).
    #[inline(always)]
    pub(super) fn find(&self, hash: u64, is: impl Fn(usize) -> bool) -> Result<usize, Free> {
        let mask = self.slots.len() - 1;
        let mut i = (hash >> self.shift) as usize;
        // The hash bits just below those that chose the slot.
        let tag = (hash >> self.shift.saturating_sub(32)) as u32 & self.tag_mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return Err(Free { slot: i, tag });
            }
            // (`wrapping_shr`: with `entry_bits` = 32 it shifts by 0, and `tag_mask` is 0.)
            if s.wrapping_shr(self.entry_bits) & self.tag_mask == tag {
                let e = ((s & self.entry_mask) - 1) as usize;
                if is(e) {
                    return Ok(e);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Points the free slot that `find` gave at entry `entry` (below the capacity).
    pub(super) fn insert(&mut self, free: Free, entry: usize) {
        // `free.tag` is 0 when `entry_bits` = 32 (its mask is empty), so the shift's wrap is moot.
        debug_assert!(entry < self.entry_mask as usize);
        self.slots[free.slot] = free.tag.wrapping_shl(self.entry_bits) | (entry as u32 + 1);
    }
}

/// Where a key that `TaggedIndex::find` did not find goes.
pub(super) struct Free {
    slot: usize,
    tag: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_entry_for_any_hash_quality() {
        // Good hashes, and hashes that collide on purpose (all in a few slots, equal tags).
        for spread in [u64::MAX, 0xFF00_0000_0000_0000, 0] {
            let keys: Vec<u64> = (0..3000u64).map(|i| i * 7919 + 3).collect();
            let hash = |k: u64| k.wrapping_mul(0x9E37_79B9_7F4A_7C15) & spread;
            let mut index = TaggedIndex::with_capacity(keys.len());
            for (e, &k) in keys.iter().enumerate() {
                let free = index.find(hash(k), |o| keys[o] == k).unwrap_err();
                index.insert(free, e);
            }
            for (e, &k) in keys.iter().enumerate() {
                assert_eq!(index.find(hash(k), |o| keys[o] == k).ok(), Some(e));
            }
            for k in (0..500u64).map(|i| i * 7919 + 4) {
                assert!(index.find(hash(k), |o| keys[o] == k).is_err());
            }
        }
    }
}
