//! The pair table: (left id, right id) -> packed (rank, merged id), built once, read in the
//! merge loops. Keys are `left << 32 | right`.
//!
//! Why not `FxHashMap<u64, u64>`: every merge step looks up one or two pairs; hashbrown's probe
//! (hash, group load, match mask, compare) cost ~25 instructions a lookup. Here a key is hashed
//! by one multiply into a `TaggedIndex` over the entries in rank order. The first round of every
//! piece (byte + byte) reads a direct 256 x 256 table instead (`Bpe::byte_merge`).
//!
//! Most lookups are misses: 70% of the 1.4M lookups on 5 MB of multilingual text, 52% on
//! English, 61% on code (GPT-2; the last pair of every finished piece is one). A blocked Bloom
//! filter answers most of them first, from one word of a table of ~8 bits a key (128 KB for
//! GPT-2's 108K pairs, against the index's 1 MB): two bits per key, so ~5% of absent keys pass
//! it and go on to the index. It never rejects a key that is there (its bits were set at
//! build), so results are unchanged.
//!
//! Performance (pure Rust, 5 MB of each corpus, best of 9 interleaved runs by thread CPU time on
//! the shared 2-core machine, MB/s, English / multilingual / code): flat 16-byte slots 76.1 /
//! 44.7 / 105.2; tagged index over rank-ordered entries (and the same for `ShortMap`) 81.4 /
//! 46.8 / 105.5; with the filter 87.1 / 49.6 / 109.4. cachegrind (1 MB last level, as this
//! machine's L2) counts the same L2 misses for all three within 10% and 7-12% more
//! instructions for the tagged forms: the gain is from the smaller footprint in the shared L3
//! (8 MB of tables before, ~3.5 MB after), which that model does not see.

use super::tagged_index::TaggedIndex;
use super::NO_MERGE;

#[derive(Debug, Clone)]
pub(super) struct PairMap {
    /// Two bits per key in one word (a blocked Bloom filter), looked at before the index.
    filter: Box<[u64]>,
    filter_shift: u32,
    index: TaggedIndex,
    /// (key, value), in value order: packed (rank, id) compares by rank first, so the merges
    /// text uses most share cache lines (see `TaggedIndex`).
    entries: Box<[(u64, u64)]>,
}

#[inline(always)]
fn hash(key: u64) -> u64 {
    key.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The filter's hash: another multiplier, so its bits are independent of the index's.
#[inline(always)]
fn filter_hash(key: u64) -> u64 {
    (key ^ key >> 31).wrapping_mul(0xD6E8_FEB8_6659_FD93)
}

/// The filter word of a key whose filter hash is `h`, and the key's two bits in it.
#[inline(always)]
fn filter_bits(h: u64, shift: u32) -> (usize, u64) {
    (
        (h >> shift) as usize,
        1u64 << (h >> 20 & 63) | 1u64 << (h >> 26 & 63),
    )
}

impl PairMap {
    /// From (key, value) pairs with distinct keys. `Bpe::new`'s are: a pair's two ids fix the
    /// merged token's bytes, and two splits of one token differ in their left id.
    pub(super) fn new(items: &[(u64, u64)]) -> PairMap {
        let mut sorted = items.to_vec();
        sorted.sort_unstable_by_key(|&(k, v)| (v, k));
        debug_assert_eq!(
            sorted
                .iter()
                .map(|&(k, _)| k)
                .collect::<std::collections::HashSet<_>>()
                .len(),
            sorted.len(),
            "pair keys must be distinct"
        );
        // ~8 bits a key; at least 2 words, so that `filter_shift` < 64.
        let words = (sorted.len() / 8 + 1).next_power_of_two().max(2);
        let filter_shift = 64 - words.trailing_zeros();
        let mut filter = vec![0u64; words].into_boxed_slice();
        for &(k, _) in &sorted {
            let (w, bits) = filter_bits(filter_hash(k), filter_shift);
            filter[w] |= bits;
        }
        let mut index = TaggedIndex::with_capacity(sorted.len());
        for (e, &(k, _)) in sorted.iter().enumerate() {
            // Keys are distinct: each goes to the free slot its probe ends at.
            if let Err(free) = index.find(hash(k), |_| false) {
                index.insert(free, e);
            }
        }
        PairMap {
            filter,
            filter_shift,
            index,
            entries: sorted.into_boxed_slice(),
        }
    }

    /// The value of `key`, or `NO_MERGE`.
    #[inline(always)]
    pub(super) fn get(&self, key: u64) -> u64 {
        let (w, bits) = filter_bits(filter_hash(key), self.filter_shift);
        if self.filter[w] & bits != bits {
            return NO_MERGE;
        }
        match self.index.find(hash(key), |e| self.entries[e].0 == key) {
            Ok(e) => self.entries[e].1,
            Err(_) => NO_MERGE,
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
