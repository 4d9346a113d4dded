//! A counting hash table for byte strings: the hot loop of counting is one lookup per pre-token.
//!
//! Performance notes (measured on 10 MB of code and English, one thread): with `std`'s
//! `HashMap<Box<[u8]>, u64>` + FxHash, the lookup (hash, control-byte probe, `memcmp` through
//! `Borrow<[u8]>`) cost more than the GPT-2 scanner itself. This table:
//! - stores the full 64-bit hash in each slot, so a probe compares one word before touching keys,
//!   and growing never re-hashes bytes;
//! - stores keys of up to 8 bytes (most pre-tokens) inside the slot, compared as one `u64`;
//!   longer keys live in an arena (`Vec<u8>`), so there is no allocation per key at all;
//! - is a flat `Vec` of 32-byte slots with linear probing (one cache line per probe, usually one
//!   probe at load <= 0.5..0.75);
//! - is fed pieces in batches (`add_batch`): all slots of a batch are prefetched before any is
//!   probed, so the cache misses of a large table (500 K words: 32 MB) overlap;
//! - each key is hashed and (when short) packed once (`prepare`); the probe loops are inlined into
//!   `add_batch`, and long keys are compared with two 8-byte loads up to 16 bytes.
//!
//! The hash is one folded 64x64->128-bit multiply for keys of up to 8 bytes (packed bytes and
//! length), one per 8-byte word for longer keys; results never depend on it (only speed does),
//! and there is no per-process seed.
//!
//! Measured (session 6, `english_10M.txt`, 1 thread, counting only, callgrind instructions):
//! 659 M -> 444 M instructions (-33%) from: hash and pack once per key instead of twice (the old
//! hash was a multiply-rotate loop with a splitmix finalizer, ~25 instructions for a 4-byte key),
//! `add_hashed` inlined (it was a call with a grow check per key), and `eq_long`'s byte-by-byte
//! loads replaced by word loads (3.2% of all instructions before). Same counts, same merges on
//! `english_100M.txt`.
//!
//! Keys of 1..=7 bytes (most occurrences) live in a table of their own with 16-byte slots (the
//! key with its length in the last byte, and the count), so twice as many frequent words' slots
//! fit in cache. `english_100M.txt`, table alone on 1 thread (25.8 M pieces, best of 6):
//! 0.438 -> 0.373 s; whole count phase on 2 threads, 8 interleaved runs each under load:
//! 0.503..0.594 -> 0.491..0.577 s (a 2-3% gain at every rank).

use crate::prefetch::prefetch;

const EMPTY: u64 = 0;

/// Keys per `add_batch` call (the callers' batch size): enough to overlap the misses.
pub const BATCH: usize = 32;

#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Slot {
    hash: u64,
    /// Keys of <= 8 bytes: the bytes, zero-padded. Longer keys: the arena offset, little-endian.
    key: [u8; 8],
    count: u64,
    len: u32,
}

/// Counts per distinct byte string.
#[derive(Clone, Default)]
pub struct ByteCounter {
    /// Keys of 1..=7 bytes (most occurrences), in 16-byte slots.
    short: ShortTable,
    /// The other keys (the empty key, and 8 bytes or more).
    slots: Vec<Slot>,
    arena: Vec<u8>,
    len: usize,
}

/// Keys of at most [`SHORT`] bytes: the slot is the key's bytes with its length in the last byte
/// (so a key is one `u64`, never 0) and its count. Half the size of a [`Slot`], so twice as many
/// of the frequent words' slots stay in cache.
#[derive(Clone, Default)]
struct ShortTable {
    slots: Vec<ShortSlot>,
    len: usize,
}

/// Longest key of the short table.
const SHORT: usize = 7;

#[derive(Clone, Copy, Default)]
struct ShortSlot {
    /// The key's bytes, zero-padded, and its length in byte 7; all zero: empty.
    key: [u8; 8],
    count: u64,
}

/// The short-table key of `b` (1..=SHORT bytes).
#[inline(always)]
fn short_key(b: &[u8]) -> [u8; 8] {
    (pack8(b) | (b.len() as u64) << 56).to_le_bytes()
}

#[inline(always)]
fn hash_short_key(k: [u8; 8]) -> u64 {
    fold_mul(u64::from_le_bytes(k) ^ K0, K1)
}

const NO_KEY: [u8; 8] = [0; 8];

#[inline(always)]
fn is_short(key: &[u8]) -> bool {
    (1..=SHORT).contains(&key.len())
}

impl ShortTable {
    #[inline(always)]
    fn reserve(&mut self, extra: usize) {
        while (self.len + extra) * 4 > self.slots.len() * 3 {
            self.grow();
        }
    }

    fn grow(&mut self) {
        let new_cap = (self.slots.len() * 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![ShortSlot::default(); new_cap]);
        let mask = new_cap - 1;
        for s in old.into_iter().filter(|s| s.key != NO_KEY) {
            let mut i = hash_short_key(s.key) as usize & mask;
            while self.slots[i].key != NO_KEY {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    /// Adds `n` to key `k` (hash `h`); the caller has reserved room.
    #[inline(always)]
    fn add(&mut self, k: [u8; 8], h: u64, n: u64) {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let s = &mut self.slots[i];
            if s.key == k {
                s.count = s.count.saturating_add(n);
                return;
            }
            if s.key == NO_KEY {
                *s = ShortSlot { key: k, count: n };
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn get(&self, k: [u8; 8]) -> u64 {
        if self.slots.is_empty() {
            return 0;
        }
        let mask = self.slots.len() - 1;
        let mut i = hash_short_key(k) as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.key == k {
                return s.count;
            }
            if s.key == NO_KEY {
                return 0;
            }
            i = (i + 1) & mask;
        }
    }

    /// (key bytes, count) of every entry.
    fn iter(&self) -> impl Iterator<Item = (&[u8], u64)> + '_ {
        self.slots
            .iter()
            .filter(|s| s.key != NO_KEY)
            .map(|s| (&s.key[..s.key[7] as usize], s.count))
    }
}

/// The bytes of `b` (at most 8) as a zero-padded little-endian `u64`, without a `memcpy` call:
/// two overlapping 4-byte loads cover lengths 4..=8, three single bytes cover 1..=3.
#[inline]
fn pack8(b: &[u8]) -> u64 {
    let len = b.len();
    debug_assert!(len <= 8);
    if len >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
        let hi = u32::from_le_bytes([b[len - 4], b[len - 3], b[len - 2], b[len - 1]]) as u64;
        lo | (hi << (8 * (len - 4)))
    } else if len > 0 {
        (b[0] as u64)
            | ((b[len / 2] as u64) << (8 * (len / 2)))
            | ((b[len - 1] as u64) << (8 * (len - 1)))
    } else {
        0
    }
}

/// The 8 bytes of `b` at `i` as a little-endian `u64` (one unaligned load).
#[inline(always)]
fn word_at(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// Equality of two keys of the same length > 8, without a `memcmp` call for lengths up to 16
/// (two overlapping 8-byte words cover them).
#[inline]
fn eq_long(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if (8..=16).contains(&len) && b.len() == len {
        word_at(a, 0) == word_at(b, 0) && word_at(a, len - 8) == word_at(b, len - 8)
    } else {
        a == b
    }
}

/// The high and low halves of the 128-bit product, xored: one multiply that mixes every bit of
/// both operands into the low bits (which pick the slot).
#[inline(always)]
pub(super) fn fold_mul(a: u64, b: u64) -> u64 {
    let p = (a as u128) * (b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

const K0: u64 = 0x243F_6A88_85A3_08D3;
const K1: u64 = 0x9E37_79B9_7F4A_7C15;

/// Hash of a key of at most 8 bytes from its packed bytes and length (the length tells `"a"`
/// from `"a\0"`).
#[inline(always)]
fn hash_short(packed: u64, len: usize) -> u64 {
    fold_mul(packed ^ K0, K1 ^ ((len as u64) << 56))
}

/// Hash of a key of more than 8 bytes: one multiply per 8-byte word, the last word overlapping
/// the one before it (no tail loop).
#[inline]
fn hash_long(b: &[u8]) -> u64 {
    let len = b.len();
    let mut h = K1 ^ len as u64;
    let mut i = 0;
    while i + 8 < len {
        h = fold_mul(h ^ word_at(b, i), K0);
        i += 8;
    }
    fold_mul(h ^ word_at(b, len - 8), K1)
}

/// Hash of a byte string. Results never depend on it, only speed does.
#[inline]
pub fn hash_bytes(b: &[u8]) -> u64 {
    if b.len() <= 8 {
        hash_short(pack8(b), b.len())
    } else {
        hash_long(b)
    }
}

/// A key ready for lookup: its hash, and for short keys the packed bytes (computed once).
#[derive(Clone, Copy, Default)]
struct Prepared {
    hash: u64,
    packed: u64,
}

#[inline(always)]
fn prepare(key: &[u8]) -> Prepared {
    if key.len() <= 8 {
        let packed = pack8(key);
        Prepared {
            hash: hash_short(packed, key.len()),
            packed,
        }
    } else {
        Prepared {
            hash: hash_long(key),
            packed: 0,
        }
    }
}

impl ByteCounter {
    pub fn new() -> Self {
        ByteCounter::default()
    }

    /// Number of distinct keys.
    #[inline]
    pub fn len(&self) -> usize {
        self.len + self.short.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn key_of<'a>(&'a self, s: &'a Slot) -> &'a [u8] {
        let len = s.len as usize;
        if len <= 8 {
            &s.key[..len]
        } else {
            let off = u64::from_le_bytes(s.key) as usize;
            &self.arena[off..off + len]
        }
    }

    /// Adds `n` to the count of `key`.
    #[inline]
    pub fn add(&mut self, key: &[u8], n: u64) {
        if n == 0 {
            return;
        }
        if is_short(key) {
            let k = short_key(key);
            self.short.reserve(1);
            self.short.add(k, hash_short_key(k), n);
        } else {
            self.reserve(1);
            self.add_prepared(prepare(key), key, n)
        }
    }

    /// Makes room for `extra` more keys (grows at 3/4 load, and on first use).
    #[inline(always)]
    fn reserve(&mut self, extra: usize) {
        while (self.len + extra) * 4 > self.slots.len() * 3 {
            self.grow();
        }
    }

    /// Adds `n` (> 0) to the count of `key`; the caller has reserved room for it.
    #[inline(always)]
    fn add_prepared(&mut self, p: Prepared, key: &[u8], n: u64) {
        let mask = self.slots.len() - 1;
        let hash = p.hash;
        let mut i = hash as usize & mask;
        let len = key.len();
        if len <= 8 {
            let k = p.packed.to_le_bytes();
            loop {
                let s = &mut self.slots[i];
                if s.count == EMPTY {
                    *s = Slot {
                        hash,
                        key: k,
                        count: n,
                        len: len as u32,
                    };
                    self.len += 1;
                    return;
                }
                if s.hash == hash && s.key == k && s.len as usize == len {
                    s.count = s.count.saturating_add(n);
                    return;
                }
                i = (i + 1) & mask;
            }
        }
        loop {
            let s = self.slots[i];
            if s.count == EMPTY {
                let off = self.arena.len() as u64;
                self.arena.extend_from_slice(key);
                self.slots[i] = Slot {
                    hash,
                    key: off.to_le_bytes(),
                    count: n,
                    len: len as u32,
                };
                self.len += 1;
                return;
            }
            if s.hash == hash && s.len as usize == len && eq_long(self.key_of(&s), key) {
                self.slots[i].count = s.count.saturating_add(n);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds 1 to each key of a batch. Hashes [`BATCH`] keys and prefetches their slots first,
    /// then inserts: the lookups' cache misses overlap instead of queueing one after another.
    #[inline]
    pub fn add_batch(&mut self, keys: &[&[u8]]) {
        for chunk in keys.chunks(BATCH) {
            self.add_chunk(chunk);
        }
    }

    #[inline(always)]
    fn add_chunk(&mut self, keys: &[&[u8]]) {
        self.reserve(keys.len());
        self.short.reserve(keys.len());
        let mask = self.slots.len() - 1;
        let short_mask = self.short.slots.len() - 1;
        let mut prepared = [Prepared::default(); BATCH];
        for (p, k) in prepared.iter_mut().zip(keys) {
            if is_short(k) {
                let sk = short_key(k);
                let hash = hash_short_key(sk);
                *p = Prepared {
                    hash,
                    packed: u64::from_le_bytes(sk),
                };
                prefetch(
                    self.short
                        .slots
                        .as_ptr()
                        .wrapping_add(hash as usize & short_mask),
                );
            } else {
                *p = prepare(k);
                prefetch(self.slots.as_ptr().wrapping_add(p.hash as usize & mask));
            }
        }
        for (&p, k) in prepared.iter().zip(keys) {
            if is_short(k) {
                self.short.add(p.packed.to_le_bytes(), p.hash, 1);
            } else {
                self.add_prepared(p, k, 1);
            }
        }
    }

    fn grow(&mut self) {
        let new_cap = (self.slots.len() * 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); new_cap]);
        let mask = new_cap - 1;
        for s in old.into_iter().filter(|s| s.count != EMPTY) {
            let mut i = s.hash as usize & mask;
            while self.slots[i].count != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    /// The count of `key` (0 when absent).
    pub fn get(&self, key: &[u8]) -> u64 {
        if is_short(key) {
            return self.short.get(short_key(key));
        }
        if self.slots.is_empty() {
            return 0;
        }
        let hash = hash_bytes(key);
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.count == EMPTY {
                return 0;
            }
            if s.hash == hash && self.key_of(s) == key {
                return s.count;
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds every count of `other` (keeps hashes: no re-hashing). Batching these lookups with
    /// prefetches, as `add_batch` does, was tried: reducing two thread tables of english_100M.txt
    /// (286 K + 295 K words) took 27.9 ms instead of 30.8 ms for one `add` per entry, and
    /// prefetching the other table's long keys too changed nothing; dropped as not worth the code.
    pub fn merge_from(&mut self, other: &ByteCounter) {
        for s in other.short.slots.iter().filter(|s| s.key != NO_KEY) {
            self.short.reserve(1);
            self.short.add(s.key, hash_short_key(s.key), s.count);
        }
        for s in other.slots.iter().filter(|s| s.count != EMPTY) {
            self.reserve(1);
            let key = other.key_of(s);
            let packed = if key.len() <= 8 {
                u64::from_le_bytes(s.key)
            } else {
                0
            };
            let p = Prepared {
                hash: s.hash,
                packed,
            };
            self.add_prepared(p, key, s.count);
        }
    }

    /// (key, count) of every entry, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], u64)> + '_ {
        self.short.iter().chain(
            self.slots
                .iter()
                .filter(|s| s.count != EMPTY)
                .map(move |s| (self.key_of(s), s.count)),
        )
    }

    /// Bytes of memory held (slots and arena).
    pub fn memory(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.short.slots.capacity() * std::mem::size_of::<ShortSlot>()
            + self.arena.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn matches_std_hashmap() {
        let mut t = ByteCounter::new();
        let mut m: HashMap<Vec<u8>, u64> = HashMap::new();
        let mut x: u64 = 1;
        for i in 0..50_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (x >> 60) as usize + (i % 3) as usize * 7; // 0..=29 bytes
            let key: Vec<u8> = (0..len)
                .map(|j| b"ab\0c"[((x >> (j * 2)) & 3) as usize])
                .collect();
            t.add(&key, 1 + i % 2);
            *m.entry(key).or_default() += 1 + i % 2;
        }
        assert_eq!(t.len(), m.len());
        for (k, v) in &m {
            assert_eq!(t.get(k), *v);
        }
        let mut a: Vec<_> = t.iter().map(|(k, v)| (k.to_vec(), v)).collect();
        let mut b: Vec<_> = m.into_iter().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_eq!(t.get(b"not there at all, long key"), 0);
        let mut u = ByteCounter::new();
        u.merge_from(&t);
        u.merge_from(&t);
        for (k, v) in t.iter() {
            assert_eq!(u.get(k), 2 * v);
        }
    }

    #[test]
    fn pack8_is_padded_le() {
        for len in 0..=8usize {
            let b: Vec<u8> = (1..=len as u8).map(|x| x * 17).collect();
            let mut want = [0u8; 8];
            want[..len].copy_from_slice(&b);
            assert_eq!(pack8(&b), u64::from_le_bytes(want), "len {len}");
        }
    }

    #[test]
    fn batch_equals_single() {
        let keys: Vec<Vec<u8>> = (0..5000u32)
            .map(|i| format!("k{}", i % 777).into_bytes())
            .collect();
        let mut a = ByteCounter::new();
        let mut b = ByteCounter::new();
        for chunk in keys.chunks(37) {
            let refs: Vec<&[u8]> = chunk.iter().map(|k| k.as_slice()).collect();
            a.add_batch(&refs);
        }
        for k in &keys {
            b.add(k, 1);
        }
        let mut x: Vec<_> = a.iter().collect();
        let mut y: Vec<_> = b.iter().collect();
        x.sort();
        y.sort();
        assert_eq!(x, y);
    }

    #[test]
    fn empty_key_and_zero_bytes() {
        let mut t = ByteCounter::new();
        t.add(b"", 2);
        t.add(b"\0", 1);
        t.add(b"\0\0", 1);
        assert_eq!(t.get(b""), 2);
        assert_eq!(t.get(b"\0"), 1);
        assert_eq!(t.get(b"\0\0"), 1);
        assert_eq!(t.len(), 3);
    }
}
