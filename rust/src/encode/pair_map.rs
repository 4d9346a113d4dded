//! The pair table: (left id, right id) -> packed (rank, merged id), built once, read in the
//! merge loops. Keys are `left << 32 | right`.
//!
//! Why not `FxHashMap<u64, u64>`: every merge step looks up one or two pairs; hashbrown's probe
//! (hash, group load, match mask, compare) cost ~25 instructions a lookup. Here a key is hashed
//! by one multiply into open-addressing slots of 8 bytes that hold the whole answer: the left,
//! right and merged ids in 21 bits each, so a hit is one load (after the filter below). The
//! rank comes from the merged id: it is the id in tiktoken's encodings (checked at build), else
//! one load from `ranks`. The first round of every piece (byte + byte) reads a direct 256 x 256
//! table of merged ids instead (`Bpe::byte_merge`).
//!
//! Most lookups are misses: 70% of the 1.4M lookups on 5 MB of multilingual text, 52% on
//! English, 61% on code (GPT-2; the last pair of every finished piece is one). A blocked Bloom
//! filter answers most of them first, from one word of a table of ~8 bits a key (64 KB for
//! GPT-2's 50K canonical pairs, against the slots' 1 MB; 128 KB and 2 MB when every split was
//! kept, before session 10): two bits per key, so ~5% of absent keys pass it and go on to the
//! slots. It never rejects a key that is there (its bits were set at
//! build), so results are unchanged.
//!
//! Performance (pure Rust, 5 MB of each corpus, best of 9 interleaved runs by thread CPU time on
//! the shared 2-core machine, MB/s, English / multilingual / code): flat 16-byte slots 76.1 /
//! 44.7 / 105.2; a `TaggedIndex` (4-byte slots) over rank-ordered 16-byte entries 81.4 / 46.8 /
//! 105.5; with the filter 87.1 / 49.6 / 109.4 (session 6). cachegrind (1 MB last level, as this
//! machine's L2) counted the same L2 misses for those three within 10%: the gain was the
//! smaller footprint in the shared L3 (8 MB of tables, then ~3.5 MB). Session 7: these 8-byte
//! slots instead of index + entries (a hit was two dependent loads, now one; 2.7 MB -> 2 MB),
//! with `small.rs`'s tree minimum and a u32 byte-pair table (512 -> 256 KB): 95.2 / 48.7 /
//! 114.1 -> 109.3 / 64.7 / 127.1 in one interleaved run (the multilingual merges are mostly
//! pair lookups). Kept: the slot prefetched before the filter is read, best of 9 interleaved:
//! 112.0 / 68.0 / 133.5 -> 120.0 / 72.4 / 143.8 (GPT-2); o200k 89.2 / 49.8 / 140.6 -> 98.3 /
//! 51.7 / 141.7 (noisy); cl100k multilingual 60.1 -> 61.0, medians 56.9 -> 60.5. Dropped: a
//! 2048-entry per-thread cache of lookups that passed the filter: best of 7, 119.5 / 71.2 /
//! 140.8 -> 118.5 / 69.6 / 136.0 (the thread-local access and the extra line cost more than
//! the slot loads it saved). With the prefetch, a filter of 4 bits a
//! key (more false positives, half the size) and one of 16 (fewer, twice the size): best of 9 on
//! a quiet machine, multilingual 77.5 -> 75.9 and 77.4 -> 77.5 MB/s, English and code flat or
//! down by 1%; 8 bits a key stays.
//! Dropped (session 9, Intel Xeon, pure Rust, multilingual 5 MB, best of 7 interleaved): the
//! slot read first, the filter asked only when the slot holds another key (no branch on the
//! filter for most lookups): 58.9 -> 49.2 MB/s (a miss then waits for the slot instead of the
//! filter's word); load up to 0.82 (1 MB of slots instead of 2): 64.9 -> 65.6; no prefetch:
//! 62.8 -> 64.0 (both within this machine's noise).
//! Dropped (session 10, with only canonical splits stored, `canonical.rs`): 4-byte slots (an
//! 11-bit tag of the key's hash and the merged id) and the key checked against an array of
//! each merged id's split, so that o200k's slots take 1 MB instead of 4 and fit in L2: best of 5
//! interleaved, o200k multilingual 38.3 -> 39.0, English 73.5 -> 74.0, GPT-2 61.2 -> 63.2 /
//! 105.1 -> 107.5 MB/s, all within noise. The merge loop is not waiting on these loads.
//! Also within noise: load 0.76 instead of 0.38 (o200k 2 MB of slots): best of 9, o200k
//! multilingual 40.5 -> 41.5, GPT-2 60.5 -> 62.6; best of 5, cl100k 55.1 -> 52.7, English
//! 83.7 -> 87.8 MB/s.
//!
use super::{pack, NO_MERGE};

/// Ids the table holds take this many bits (`Bpe::new` refuses larger ids).
pub(super) const ID_BITS: u32 = 21;
const ID_MASK: u64 = (1 << ID_BITS) - 1;
/// A free slot. Real slots have bit 63 clear (three 21-bit fields use bits 0..63).
const FREE: u64 = u64::MAX;

#[derive(Debug, Clone)]
pub(super) struct PairMap {
    /// Two bits per key in one word (a blocked Bloom filter), looked at before the slots.
    filter: Box<[u64]>,
    filter_shift: u32,
    /// Linear probing; a slot is `left << 42 | right << 21 | merged id`, or `FREE`.
    slots: Box<[u64]>,
    /// 64 - log2(slots.len()).
    shift: u32,
    /// The rank of each merged id, when some merged token's rank is not its id; else empty
    /// (tiktoken's encodings: rank = id), and the rank is the id.
    ranks: Box<[u32]>,
}

#[inline(always)]
fn hash(key: u64) -> u64 {
    key.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The filter's hash: another multiplier, so its bits are independent of the slots'.
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

/// `left`, `right` as the slots' key: `left << 21 | right`.
#[inline(always)]
fn slot_key(key: u64) -> u64 {
    (key >> 32) << ID_BITS | (key & 0xFFFF_FFFF)
}

impl PairMap {
    /// From (key, value) pairs with distinct keys whose ids (left, right, merged) are below
    /// 2^`ID_BITS`. `Bpe::new`'s are: it checks the ids, a pair's two ids fix the merged
    /// token's bytes, and two splits of one token differ in their left id.
    pub(super) fn new(items: &[(u64, u64)]) -> PairMap {
        let mut sorted = items.to_vec();
        sorted.sort_unstable_by_key(|&(k, v)| (v, k));
        debug_assert!(sorted.iter().all(|&(k, v)| {
            (k >> 32) <= ID_MASK && (k & 0xFFFF_FFFF) <= ID_MASK && (v & 0xFFFF_FFFF) <= ID_MASK
        }));
        // ~8 bits a key; at least 2 words, so that `filter_shift` < 64.
        let words = (sorted.len() / 8 + 1).next_power_of_two().max(2);
        let filter_shift = 64 - words.trailing_zeros();
        let mut filter = vec![0u64; words].into_boxed_slice();
        for &(k, _) in &sorted {
            let (w, bits) = filter_bits(filter_hash(k), filter_shift);
            filter[w] |= bits;
        }
        // Load 3/8 to 3/4. Keys go in by rank, so the merges text uses most sit at (or next
        // to) the slot their hash picks.
        let bits = (sorted.len() * 4 / 3 + 1)
            .next_power_of_two()
            .max(16)
            .trailing_zeros();
        let mut slots = vec![FREE; 1 << bits].into_boxed_slice();
        let shift = 64 - bits;
        let mask = slots.len() - 1;
        for &(k, v) in &sorted {
            let mut i = (hash(k) >> shift) as usize;
            while slots[i] != FREE {
                debug_assert!(
                    slots[i] >> ID_BITS != slot_key(k),
                    "pair keys must be distinct"
                );
                i = (i + 1) & mask;
            }
            slots[i] = slot_key(k) << ID_BITS | (v & ID_MASK);
        }
        let ranks = if sorted.iter().all(|&(_, v)| v >> 32 == v & 0xFFFF_FFFF) {
            Box::default()
        } else {
            let top = sorted.iter().map(|&(_, v)| v & ID_MASK).max().unwrap_or(0);
            let mut ranks = vec![0u32; top as usize + 1];
            for &(_, v) in &sorted {
                ranks[(v & ID_MASK) as usize] = (v >> 32) as u32;
            }
            ranks.into_boxed_slice()
        };
        PairMap {
            filter,
            filter_shift,
            slots,
            shift,
            ranks,
        }
    }

    /// Packed (rank, id) of a merged id that this table holds.
    #[inline(always)]
    pub(super) fn packed(&self, id: u32) -> u64 {
        let rank = match self.ranks.get(id as usize) {
            Some(&rank) => rank,
            None => id,
        };
        pack(rank, id)
    }

    /// The value of `key`, or `NO_MERGE`.
    #[inline(always)]
    pub(super) fn get(&self, key: u64) -> u64 {
        let mut i = (hash(key) >> self.shift) as usize;
        // Started before the filter is read, so that for a key that passes it the slot's line
        // (in L3: 2 MB for GPT-2) is already on its way; wasted on the ~70% that do not.
        crate::prefetch::prefetch(self.slots.as_ptr().wrapping_add(i));
        let (w, bits) = filter_bits(filter_hash(key), self.filter_shift);
        if self.filter[w] & bits != bits {
            return NO_MERGE;
        }
        let want = slot_key(key);
        let mask = self.slots.len() - 1;
        loop {
            let s = self.slots[i];
            if s >> ID_BITS == want {
                return self.packed((s & ID_MASK) as u32);
            }
            if s == FREE {
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
        // Ranks equal to the merged ids (tiktoken's case: no `ranks` table), ranks that differ
        // from them, and ids at the top of the 21-bit range.
        let top = (1u64 << ID_BITS) - 1;
        let styles: [fn(u64) -> u64; 3] = [
            |i| pack(i as u32 + 300, i as u32 + 300),
            |i| pack(((i * 13) % 20_000) as u32, i as u32 + 300),
            |i| pack(u32::MAX - i as u32, ((1 << ID_BITS) - 1 - i) as u32),
        ];
        for (n, value) in styles.iter().enumerate() {
            let items: Vec<(u64, u64)> = (0..20_000u64)
                .map(|i| {
                    let (l, r) = (i * 7919 % 50_000, i * 31 % 977);
                    let key = if n == 2 {
                        (top - l) << 32 | (top - r)
                    } else {
                        l << 32 | r
                    };
                    (key, value(i))
                })
                .collect();
            let map = PairMap::new(&items);
            assert_eq!(map.ranks.is_empty(), n == 0);
            let want: std::collections::HashMap<u64, u64> = items.iter().copied().collect();
            assert_eq!(want.len(), items.len());
            for (&k, &v) in &want {
                assert_eq!(map.get(k), v);
            }
            for l in 0..3000u64 {
                for k in [l << 32 | 5000, (top - l) << 32 | (top - 5000), l << 32 | l] {
                    assert_eq!(map.get(k), want.get(&k).copied().unwrap_or(NO_MERGE));
                }
            }
        }
    }
}
