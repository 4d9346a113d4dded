//! The pair table: (left id, right id) -> packed (rank, merged id), built once, read in the
//! merge loops.
//!
//! Why not `FxHashMap<u64, u64>`: every merge step looks up one or two pairs, most of which are
//! not there; hashbrown's probe (hash, group load, match mask, compare) cost ~25 instructions a
//! lookup. Here a key is hashed by one multiply, the table is one flat array probed linearly at
//! load <= 1/2, and a miss usually ends at the first empty slot. The first round of every piece
//! (byte + byte) reads a direct 256 x 256 table instead.
//!
//! Keys are `left << 32 | right`; `EMPTY` (both ids `u32::MAX`) marks a free slot, so `Bpe::new`
//! refuses the id `u32::MAX`.

use super::NO_MERGE;

pub(super) const EMPTY: u64 = u64::MAX;

#[derive(Debug, Clone)]
pub(super) struct PairMap {
    slots: Box<[(u64, u64)]>,
    shift: u32,
}

#[inline(always)]
fn slot_of(key: u64, shift: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

impl PairMap {
    /// From (key, value) pairs with distinct keys, none `EMPTY`; a repeated key keeps its last
    /// value (as `HashMap::insert` did).
    pub(super) fn new(items: &[(u64, u64)]) -> PairMap {
        let bits = (2 * items.len() + 1)
            .next_power_of_two()
            .trailing_zeros()
            .max(4);
        let shift = 64 - bits;
        let mask = (1usize << bits) - 1;
        let mut slots = vec![(EMPTY, NO_MERGE); 1 << bits].into_boxed_slice();
        for &(k, v) in items {
            debug_assert_ne!(k, EMPTY);
            let mut i = slot_of(k, shift);
            while slots[i].0 != EMPTY && slots[i].0 != k {
                i = (i + 1) & mask;
            }
            slots[i] = (k, v);
        }
        PairMap { slots, shift }
    }

    /// The value of `key`, or `NO_MERGE`.
    #[inline(always)]
    pub(super) fn get(&self, key: u64) -> u64 {
        let mask = self.slots.len() - 1;
        let mut i = slot_of(key, self.shift);
        loop {
            let (k, v) = self.slots[i];
            if k == key {
                return v;
            }
            if k == EMPTY {
                return NO_MERGE;
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_key_and_misses_the_rest() {
        let items: Vec<(u64, u64)> = (0..20_000u64)
            .map(|i| ((i * 7919 % 50_000) << 32 | (i * 31 % 977), i))
            .collect();
        let map = PairMap::new(&items);
        let want: std::collections::HashMap<u64, u64> = items.iter().copied().collect();
        for (&k, &v) in &want {
            assert_eq!(map.get(k), v);
        }
        for k in (0..5000u64).map(|i| (i << 32) | 5000) {
            assert_eq!(map.get(k), want.get(&k).copied().unwrap_or(NO_MERGE));
        }
    }
}
