//! Short byte strings (1 to 16 bytes) as two integers, and a hash table keyed by them.
//!
//! Why: the whole-piece lookup (`piece is a token?`) ran on `FxHashMap<Vec<u8>, u32>`: a hash of
//! the bytes, then a pointer chase to the stored key and a `memcmp` call, one cache miss more
//! per piece. English pieces average under 4 bytes, so almost every piece fits in 16 bytes; held
//! inline as (u64, u64, length) a key compares in two integer compares, and the table is one
//! flat array.
//!
//! Correctness: `ShortKey::new` is one to one on strings of 1 to 16 bytes: bytes 0..8 go to `lo`
//! and 8..16 to `hi`, little-endian, zero-padded, and the length is part of the key (so "a" and
//! "a\0" differ). `loads_every_length_exactly` checks it against a plain copy for every length.
//!
//! Tried and dropped (session 7; pure Rust, 5 MB each, best of 9 interleaved runs, English /
//! multilingual / code MB/s): `ShortMap` as flat 16-byte open-addressing slots holding keys of up
//! to 12 bytes whole with their id (one load a lookup; 13-16-byte keys in a side map): 113.1 /
//! 60.2 / 128.8 -> 113.4 / 59.2 / 124.6 (a noisy run; medians +9% / -3% / -3%); the same 16-byte
//! entries kept behind the tagged index: 127.9 / 74.0 / 150.0 -> 124.5 / 72.1 /
//! 142.7 (GPT-2), 111.8 / 58.4 / 152.1 -> 116.3 / 58.9 / 151.8 (o200k). The rank-ordered
//! entries' locality is what the index buys; denser entries did not add to it.
//! Also dropped: a Bloom filter in front of the index (as the pair table has; the index slot
//! prefetched before the filter is read), so that most pieces that are not tokens skip the
//! index: best of 9 on a quiet machine, English 131.9 -> 130.0, multilingual 77.4 -> 78.1, code
//! 153.9 -> 152.5 MB/s (two thirds or more of all pieces are tokens, and pay for the filter).

use super::tagged_index::TaggedIndex;

/// The longest byte string a `ShortKey` holds.
pub const SHORT: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ShortKey {
    lo: u64,
    hi: u64,
    len: u32,
}

/// Little-endian integer of `b` (1 to 8 bytes), zero-padded, without a variable-length copy:
/// two overlapping fixed-size reads.
#[inline(always)]
fn load_upto8(b: &[u8]) -> u64 {
    let n = b.len();
    debug_assert!((1..=8).contains(&n));
    if n >= 4 {
        let first = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
        let last = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]) as u64;
        // `last` holds bytes n-4..n; bytes 4..n are its top n-4 bytes.
        first | ((last >> (8 * (8 - n))) << 32)
    } else {
        // 1..=3 bytes: first, middle and last (some coincide for n < 3).
        b[0] as u64 | (b[n / 2] as u64) << (8 * (n / 2)) | (b[n - 1] as u64) << (8 * (n - 1))
    }
}

impl ShortKey {
    /// The key of `b`, or None when `b` is empty or longer than `SHORT`.
    #[inline(always)]
    pub fn new(b: &[u8]) -> Option<ShortKey> {
        let n = b.len();
        if n == 0 || n > SHORT {
            return None;
        }
        let (lo, hi) = if n <= 8 {
            (load_upto8(b), 0)
        } else {
            let lo = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            (lo, load_upto8(&b[8..]))
        };
        Some(ShortKey {
            lo,
            hi,
            len: n as u32,
        })
    }

    /// A well-mixed 64-bit hash (multiply-xorshift; the table takes the top bits).
    #[inline(always)]
    pub fn hash(&self) -> u64 {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let h = (self.lo ^ (self.len as u64).rotate_left(59)).wrapping_mul(K);
        (h ^ self.hi).wrapping_mul(K) ^ (h >> 29)
    }
}

/// An immutable map from short keys to u32, built once: the entries in the order given, behind
/// a `TaggedIndex` (see there why: 4 MB of 32-byte slots for GPT-2 became a 512 KB index and
/// the tokens in rank order).
#[derive(Debug, Clone)]
pub struct ShortMap {
    index: TaggedIndex,
    entries: Box<[(ShortKey, u32)]>,
}

impl ShortMap {
    /// From (bytes, value) pairs; bytes longer than `SHORT` are skipped (the caller keeps those
    /// elsewhere). A key given twice keeps its first value. Give the most used keys first: they
    /// are stored in the order given.
    pub fn new<'a>(items: impl Iterator<Item = (&'a [u8], u32)>) -> ShortMap {
        let keys: Vec<(ShortKey, u32)> = items
            .filter_map(|(b, v)| Some((ShortKey::new(b)?, v)))
            .collect();
        let mut index = TaggedIndex::with_capacity(keys.len());
        let mut entries: Vec<(ShortKey, u32)> = Vec::with_capacity(keys.len());
        for (k, v) in keys {
            if let Err(free) = index.find(k.hash(), |e| entries[e].0 == k) {
                index.insert(free, entries.len());
                entries.push((k, v));
            }
        }
        ShortMap {
            index,
            entries: entries.into_boxed_slice(),
        }
    }

    #[inline(always)]
    pub fn get(&self, k: &ShortKey) -> Option<u32> {
        let e = self
            .index
            .find(k.hash(), |e| self.entries[e].0 == *k)
            .ok()?;
        Some(self.entries[e].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(b: &[u8]) -> ShortKey {
        let mut buf = [0u8; 16];
        buf[..b.len()].copy_from_slice(b);
        ShortKey {
            lo: u64::from_le_bytes(buf[..8].try_into().unwrap()),
            hi: u64::from_le_bytes(buf[8..].try_into().unwrap()),
            len: b.len() as u32,
        }
    }

    #[test]
    fn loads_every_length_exactly() {
        let data: Vec<u8> = (1..=40u8).map(|i| i.wrapping_mul(37)).collect();
        for start in 0..8 {
            for n in 1..=SHORT {
                let b = &data[start..start + n];
                assert_eq!(ShortKey::new(b), Some(plain(b)), "{b:?}");
            }
        }
        assert_eq!(ShortKey::new(b""), None);
        assert_eq!(ShortKey::new(&[0u8; 17]), None);
        // Zero bytes are data: the length tells "a" from "a\0".
        assert_ne!(ShortKey::new(b"a"), ShortKey::new(b"a\0"));
    }

    #[test]
    fn map_finds_what_it_holds_and_nothing_else() {
        let keys: Vec<Vec<u8>> = (0..5000u32)
            .map(|i| {
                let n = 1 + (i as usize * 7) % 20;
                (0..n).map(|j| (i >> (j % 3 * 4)) as u8 ^ j as u8).collect()
            })
            .collect();
        let map = ShortMap::new(keys.iter().enumerate().map(|(i, k)| (&k[..], i as u32)));
        let mut first: std::collections::HashMap<&[u8], u32> = Default::default();
        for (i, k) in keys.iter().enumerate() {
            first.entry(&k[..]).or_insert(i as u32);
        }
        for k in &keys {
            let want = if k.len() <= SHORT {
                first.get(&k[..]).copied()
            } else {
                None
            };
            assert_eq!(ShortKey::new(k).and_then(|sk| map.get(&sk)), want);
        }
        for probe in [&b"zz-not-there"[..], b"\0", b"\xff\xff"] {
            if !first.contains_key(probe) {
                assert_eq!(map.get(&ShortKey::new(probe).unwrap()), None);
            }
        }
    }
}
