//! BPE encoding of one pre-tokenized piece, with tiktoken's rule.
//!
//! Rule: within a piece, repeatedly merge the adjacent pair whose *concatenated bytes* has the
//! lowest rank, leftmost on ties; a piece that is itself a ranked token is that one token.
//!
//! Correctness of working on ids instead of byte strings: every part of a piece is always a ranked
//! token (parts start as single bytes, and a merge only happens when the concatenation is ranked),
//! and bytes -> ranked token is one to one. So "rank of concat(part_i, part_i+1)" is a function of
//! the two parts' ids, which the pair table (`pair_map.rs`) stores for the one split of each token
//! that BPE can make (`canonical.rs` proves the others are never needed). Looking up a u64 key
//! replaces hashing byte strings in the hot loop.
//!
//! Performance notes (issue 10; instruction counts by `valgrind --tool=callgrind` on the busy
//! 2-core machine, per byte of one `encode_ordinary` call from Python on 1 MB of GPT-2 text:
//! Python documentation / libreoffice help in ~30 languages / Python stdlib; wall-clock tables in
//! docs/encoding.md):
//! - Where the time went before (perf record, 5 MB each): the short-piece merge 24-38%, the
//!   whole-piece hash lookup and its `memcmp` 20-26%, handing ids to Python 8-10%, the scanner
//!   only ~4% (it is inlined into the piece loop). 134 / 162 / 120 instructions a byte.
//! - Kept: whole-piece lookup of pieces <= 16 bytes as two integers in a flat table
//!   (`short_key.rs`) + a per-thread piece cache (`cache.rs`: direct-mapped for short pieces, a
//!   bounded map for 17-512-byte ones, which were a third of all work on documentation text:
//!   `=====` underlines) + short-piece arrays sized to the piece: 66 / 68 / 73 (repeated text;
//!   75 / 140 / 86 on new 1 MB slices of the real corpora).
//! - Kept: pair table as a flat open-addressing map hashed by one multiply, and a direct
//!   256 x 256 table for every piece's first (byte + byte) round (`pair_map.rs`): multilingual
//!   140 -> 126, English 75 -> 73, code 86 -> 83.
//! - Kept: long pieces grouped by rank (`rank_queue.rs`) instead of a radix heap, whose pops
//!   moved each key down up to 64 buckets: `"a" * 100_000` 20 -> 7 ms, 1M digits 0.50 -> 0.25 s.
//! - Dropped: a tournament tree (min in O(log n) per merge) for 17-127-byte pieces: 8.7K
//!   instructions a piece against the linear scan's 8.0K (the pair lookups dominate, not the scan).
//! - Dropped (session 5): a prefetching window over the piece loop (each piece's token-table and
//!   piece-cache slots prefetched 4-8 pieces ahead of its lookup, since `perf annotate` put half of
//!   `CachedEncoder::encode_piece` on the token-table load): 5-25% slower end to end on English
//!   and code (pure Rust, 5 MB, interleaved runs); the hot tokens' slots are in cache anyway, and
//!   the ring cost more than the misses it hid. A piece cache of 2^14 or 2^15 slots: simulated
//!   misses on new multilingual text 11.8% -> 9.4% of pieces (2^15), wall clock within noise.
//! - Kept (session 6): both lookup tables as a 4-byte tagged index over rank-ordered entries,
//!   and a Bloom filter in front of the pair table (`tagged_index.rs`, `pair_map.rs`: 8 MB of
//!   tables -> ~3.5 MB for GPT-2; +14% / +11% / +4% on English / multilingual / code).
//! - Dropped (session 6): pieces taken in groups of 16 whose whole-piece index slots (and then
//!   entries) were prefetched before any was encoded, with the tables above: 15-30% slower
//!   (pure Rust, 5 MB, 9 interleaved runs each: English best 90.4 vs 69.7 one-stage / 57.9
//!   two-stage MB/s, code 102.5 vs 77.1 / 69.5). As in session 5, buffering pieces cost more
//!   than the overlapped misses won; `perf annotate`'s time on those loads is mostly skid.
//!   Also dropped: the piece cache asked before the token table (one load instead of two for a
//!   cached token): best of 9, English 87.4 vs 80.1, code 106.3 vs 95.2 MB/s (the cache's slots
//!   then hold tokens too and evict the pieces that need merging).
//! - Kept (session 7): pieces of one or two bytes by direct index (`Bpe::encode_tiny`), before
//!   the whole-piece table: best of 9 interleaved, English 109.8 -> 111.0, multilingual 70.2
//!   -> 71.1, code 128.9 -> 138.3 MB/s (code is 37% one-byte pieces, 22% two-byte ones).
//! - Not tried: rust-gems' linear backtracking encoder (it needs every GPT-2 token reachable by
//!   BPE from its own bytes). The run-length path (`heap/runs.rs`) took `"a" * 100_000` from
//!   2.9 to 0.06 ms instead, and wordchipper's edge there with it.
//! - What is left (English, per byte): scanner ~13, piece lookups and cache ~20, merges of new
//!   pieces ~10-30, Python list ~14, UTF-8 copy of non-ASCII `str` by Python ~12.
//! - Short pieces (< LONG_PIECE bytes) search a small array for the lowest pair (`small.rs`);
//!   long pieces go to `heap.rs`: a few runs of one byte merge on their run-length form
//!   (`heap/runs.rs`), the rest on a priority queue with lazy invalidation (a binary heap under
//!   2 KB; above, a rank queue while merge ranks only grow, else the binary heap), so
//!   `"a" * 100_000` or one 100 MB pre-token is not quadratic.

mod cache;
mod canonical;
mod heap;
mod pair_map;
mod rank_queue;
pub mod short_key;
mod small;
mod tagged_index;

use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;

use pair_map::PairMap;
use short_key::{ShortKey, ShortMap};

use crate::error::{Error, Result};

/// Pieces at least this long use the heap encoder. Below it the O(n^2) scan is faster because
/// n is tiny and the arrays stay in registers/L1.
pub const LONG_PIECE: usize = 128;

/// A ranked (mergeable) token: its bytes, its id, and its merge priority (lower merges first).
#[derive(Debug, Clone)]
pub struct RankedToken {
    pub bytes: Vec<u8>,
    pub id: u32,
    pub rank: u32,
}

/// Everything needed to BPE-encode pieces: ranked tokens by bytes, the pair table, byte ids.
#[derive(Debug, Clone)]
pub struct Bpe {
    /// Ranked tokens of up to `short_key::SHORT` bytes -> id (almost every piece is this short).
    short_ids: ShortMap,
    /// Longer ranked tokens -> id.
    long_ids: FxHashMap<Vec<u8>, u32>,
    pairs: PairMap,
    /// The merged id of `byte_id(a)` then `byte_id(b)` at `a << 8 | b`, or `u32::MAX` for none:
    /// every piece's first round (`byte_merge`), and the two-byte pieces (`encode_tiny`).
    byte_pairs: Box<[u32]>,
    byte_ids: [u32; 256],
    /// Unique per construction (clones share it: same contents); tags piece-cache entries.
    uid: u64,
}

/// Source of `Bpe::uid`.
static NEXT_UID: AtomicU64 = AtomicU64::new(1);

#[inline]
fn pair_key(left: u32, right: u32) -> u64 {
    ((left as u64) << 32) | right as u64
}

/// Packs (rank, merged id) so that comparing packed values compares ranks first.
#[inline]
fn pack(rank: u32, id: u32) -> u64 {
    ((rank as u64) << 32) | id as u64
}

/// "No merge": compares greater than every packed (rank, id).
pub(crate) const NO_MERGE: u64 = u64::MAX;

impl Bpe {
    /// Builds the encoder from ranked tokens. All 256 single bytes must be ranked; ranks must be
    /// distinct. When two ranked tokens have the same bytes, the lower rank wins.
    pub fn new(tokens: &[RankedToken]) -> Result<Self> {
        let mut by_bytes: FxHashMap<&[u8], (u32, u32)> = FxHashMap::default();
        by_bytes.reserve(tokens.len());
        for t in tokens {
            if t.bytes.is_empty() {
                return Err(Error::value(format!("token id {} has empty bytes", t.id)));
            }
            if t.id >= 1 << pair_map::ID_BITS {
                // The pair table packs three ids in a u64 (`pair_map.rs`); no vocabulary is
                // that big. (This also keeps every packed (rank, id) below `NO_MERGE`.)
                return Err(Error::value(format!(
                    "token id {} is too large: ranked token ids must be below {}",
                    t.id,
                    1u32 << pair_map::ID_BITS
                )));
            }
            let keep = match by_bytes.get(&t.bytes[..]) {
                Some(&(rank, _)) => t.rank < rank,
                None => true,
            };
            if keep {
                by_bytes.insert(&t.bytes, (t.rank, t.id));
            }
        }
        let mut byte_ids = [0u32; 256];
        for (b, slot) in byte_ids.iter_mut().enumerate() {
            match by_bytes.get(&[b as u8][..]) {
                Some(&(_, id)) => *slot = id,
                None => {
                    return Err(Error::value(format!(
                    "the vocabulary lacks the single byte 0x{b:02x}; byte-level BPE needs all 256"
                )))
                }
            }
        }
        let pairs = canonical::pairs(&byte_ids, &by_bytes)?;
        // Rank order: the tokens text uses most come first (see `ShortMap`).
        let mut short: Vec<(&[u8], u32, u32)> = by_bytes
            .iter()
            .filter(|(b, _)| b.len() <= short_key::SHORT)
            .map(|(&b, &(rank, id))| (b, rank, id))
            .collect();
        short.sort_unstable_by_key(|&(_, rank, _)| rank);
        let short_ids = ShortMap::new(short.iter().map(|&(b, _, id)| (b, id)));
        let long_ids = by_bytes
            .into_iter()
            .filter(|(b, _)| b.len() > short_key::SHORT)
            .map(|(b, (_, id))| (b.to_vec(), id))
            .collect();
        let byte_pairs = (0..1usize << 16)
            .map(
                |ab| match pairs.get(pair_key(byte_ids[ab >> 8], byte_ids[ab & 0xFF])) {
                    NO_MERGE => u32::MAX,
                    m => merged_id(m),
                },
            )
            .collect();
        Ok(Bpe {
            short_ids,
            long_ids,
            pairs,
            byte_pairs,
            byte_ids,
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// The id of a ranked token with exactly these bytes.
    #[inline]
    pub fn token_id(&self, bytes: &[u8]) -> Option<u32> {
        match ShortKey::new(bytes) {
            Some(key) => self.short_ids.get(&key),
            None => self.long_ids.get(bytes).copied(),
        }
    }

    #[inline]
    pub(crate) fn byte_id(&self, b: u8) -> u32 {
        self.byte_ids[b as usize]
    }

    /// Packed (rank, merged id) of merging `left` then `right`, or `NO_MERGE`.
    #[inline]
    pub(crate) fn merge_of(&self, left: u32, right: u32) -> u64 {
        self.pairs.get(pair_key(left, right))
    }

    /// `merge_of(byte_id(a), byte_id(b))`, by direct index.
    #[inline]
    pub(crate) fn byte_merge(&self, a: u8, b: u8) -> u64 {
        match self.byte_pairs[(a as usize) << 8 | b as usize] {
            u32::MAX => NO_MERGE,
            id => self.pairs.packed(id),
        }
    }

    /// Pieces of one or two bytes (about half of all pieces in English and code) by direct
    /// index, without hashing: one byte is its byte token; two bytes are the token of their
    /// pair when there is one, else two byte tokens. That is the rule: a two-byte token's only
    /// split is its two bytes, which the pair table keeps (`canonical.rs`), so it is the merge
    /// of its bytes, and a two-byte piece has no other merge. Returns false for longer (and
    /// empty) pieces.
    #[inline(always)]
    fn encode_tiny(&self, piece: &[u8], out: &mut Vec<u32>) -> bool {
        match *piece {
            [a] => out.push(self.byte_ids[a as usize]),
            [a, b] => match self.byte_pairs[(a as usize) << 8 | b as usize] {
                u32::MAX => out.extend_from_slice(&[self.byte_id(a), self.byte_id(b)]),
                id => out.push(id),
            },
            _ => return false,
        }
        true
    }

    /// Appends the ids of one piece to `out` (no cache; see `with_cache`).
    #[inline]
    pub fn encode_piece(&self, piece: &[u8], out: &mut Vec<u32>) {
        if self.encode_tiny(piece, out) {
            return;
        }
        match ShortKey::new(piece) {
            Some(key) => match self.short_ids.get(&key) {
                Some(id) => out.push(id),
                None => small::merge(self, piece, out),
            },
            None => self.encode_long(piece, out),
        }
    }

    /// A piece longer than `short_key::SHORT` bytes.
    #[inline(never)]
    fn encode_long(&self, piece: &[u8], out: &mut Vec<u32>) {
        match self.long_ids.get(piece) {
            Some(&id) => out.push(id),
            None => self.merge_long(piece, out),
        }
    }

    /// A piece longer than `short_key::SHORT` bytes that is not a token.
    #[inline]
    fn merge_long(&self, piece: &[u8], out: &mut Vec<u32>) {
        if piece.len() < LONG_PIECE {
            small::merge(self, piece, out);
        } else {
            heap::merge(self, piece, out);
        }
    }

    /// Runs `f` with an encoder that uses this thread's piece cache (`cache.rs`). Use it around
    /// a loop over many pieces: getting the cache costs a thread-local access.
    pub fn with_cache<R>(&self, mut f: impl FnMut(&mut CachedEncoder<'_>) -> R) -> R {
        cache::with(|cache| f(&mut CachedEncoder { bpe: self, cache }))
    }
}

/// `Bpe::encode_piece` with a piece cache; made by `Bpe::with_cache`. Same ids, always.
pub struct CachedEncoder<'a> {
    bpe: &'a Bpe,
    cache: Option<&'a mut cache::PieceCache>,
}

impl CachedEncoder<'_> {
    /// Appends the ids of one piece to `out`.
    #[inline]
    pub fn encode_piece(&mut self, piece: &[u8], out: &mut Vec<u32>) {
        let bpe = self.bpe;
        if bpe.encode_tiny(piece, out) {
            return;
        }
        let Some(key) = ShortKey::new(piece) else {
            return self.encode_long(piece, out);
        };
        if let Some(id) = bpe.short_ids.get(&key) {
            return out.push(id);
        }
        let Some(cache) = self.cache.as_deref_mut() else {
            return small::merge(bpe, piece, out);
        };
        if let Some(ids) = cache.get(bpe.uid, &key) {
            return out.extend_from_slice(ids);
        }
        let start = out.len();
        small::merge(bpe, piece, out);
        cache.put(bpe.uid, key, &out[start..]);
    }

    #[inline(never)]
    fn encode_long(&mut self, piece: &[u8], out: &mut Vec<u32>) {
        let bpe = self.bpe;
        if let Some(&id) = bpe.long_ids.get(piece) {
            return out.push(id);
        }
        let cache = match self.cache.as_deref_mut() {
            Some(cache) if piece.len() <= cache::LONG_MAX => cache,
            _ => return bpe.merge_long(piece, out),
        };
        if let Some(ids) = cache.get_long(bpe.uid, piece) {
            return out.extend_from_slice(ids);
        }
        let start = out.len();
        bpe.merge_long(piece, out);
        cache.put_long(piece, &out[start..]);
    }
}

#[inline]
pub(crate) fn merged_id(packed: u64) -> u32 {
    packed as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy vocabulary: all bytes (rank = byte value + 1000), then the given merges in rank order.
    pub(crate) fn toy(merges: &[&str]) -> Bpe {
        let mut tokens = byte_tokens(1000);
        for (i, m) in merges.iter().enumerate() {
            tokens.push(RankedToken {
                bytes: m.as_bytes().to_vec(),
                id: 256 + i as u32,
                rank: i as u32,
            });
        }
        Bpe::new(&tokens).unwrap()
    }

    /// The 256 single bytes, id = byte, rank = `rank_base` + byte.
    fn byte_tokens(rank_base: u32) -> Vec<RankedToken> {
        (0..256u32)
            .map(|b| RankedToken {
                bytes: vec![b as u8],
                id: b,
                rank: rank_base + b,
            })
            .collect()
    }

    /// The rule, written plainly on byte strings (the test oracle).
    fn reference(merges: &[&str], piece: &[u8]) -> Vec<Vec<u8>> {
        let rank = |b: &[u8]| merges.iter().position(|m| m.as_bytes() == b);
        let mut parts: Vec<Vec<u8>> = piece.iter().map(|&b| vec![b]).collect();
        loop {
            let mut best: Option<(usize, usize)> = None;
            for i in 0..parts.len().saturating_sub(1) {
                let cat = [parts[i].clone(), parts[i + 1].clone()].concat();
                if let Some(r) = rank(&cat) {
                    if best.is_none_or(|(br, _)| r < br) {
                        best = Some((r, i));
                    }
                }
            }
            let Some((_, i)) = best else { break };
            let right = parts.remove(i + 1);
            parts[i].extend(right);
        }
        parts
    }

    #[derive(Clone, Copy)]
    enum Encoder {
        Small,
        Heap,
        BinaryHeap,
    }

    fn encode_to_bytes(
        bpe: &Bpe,
        merges: &[&str],
        piece: &[u8],
        force: Option<Encoder>,
    ) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        match force {
            Some(Encoder::Small) => small::merge(bpe, piece, &mut out),
            Some(Encoder::Heap) => heap::merge(bpe, piece, &mut out),
            Some(Encoder::BinaryHeap) => heap::merge_binary(bpe, piece, &mut out),
            None => bpe.encode_piece(piece, &mut out),
        }
        out.iter()
            .map(|&id| {
                if id < 256 {
                    vec![id as u8]
                } else {
                    merges[id as usize - 256].as_bytes().to_vec()
                }
            })
            .collect()
    }

    #[test]
    fn small_and_heap_match_reference() {
        // The first list keeps ranks growing while a piece merges (the rank queue's case); in
        // the second, "abc" (rank 0) can only form after "bc" (rank 1): ranks go down, and the
        // heap encoder starts over with a binary heap.
        for merges in [
            &["ab", "bc", "abc", "aa", "aaaa", "ca", "cab", "bb", "bcab"][..],
            &["abc", "bc", "ab", "cab", "aa", "ca", "bcab", "aaaa", "bb"][..],
        ] {
            check_encoders_on_random_pieces(merges);
        }
    }

    #[test]
    fn random_vocabularies_match_reference() {
        // Vocabularies of random strings in random rank order: many tokens have several splits
        // (only one kept, `canonical.rs`), and some cannot be reached by BPE from their bytes.
        let mut seed = 0xD1B5_4A32_D192_ED03u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..12 {
            let mut merges: Vec<String> = Vec::new();
            while merges.len() < 30 {
                let len = 2 + (next() % 5) as usize;
                let m: String = (0..len)
                    .map(|_| b"abcx"[(next() % 3) as usize] as char)
                    .collect();
                if !merges.contains(&m) {
                    merges.push(m);
                }
            }
            let merges: Vec<&str> = merges.iter().map(|m| m.as_str()).collect();
            check_encoders_on_random_pieces(&merges);
        }
    }

    fn check_encoders_on_random_pieces(merges: &[&str]) {
        let bpe = toy(merges);
        let mut seed = 0x2545F4914F6CDD1Du64;
        for len in 0..200 {
            for _ in 0..20 {
                let piece: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        b"abcx"[(seed % 4) as usize]
                    })
                    .collect();
                let want = reference(merges, &piece);
                if piece.len() < LONG_PIECE {
                    let small = encode_to_bytes(&bpe, merges, &piece, Some(Encoder::Small));
                    assert_eq!(small, want);
                }
                for encoder in [Encoder::Heap, Encoder::BinaryHeap] {
                    assert_eq!(encode_to_bytes(&bpe, merges, &piece, Some(encoder)), want);
                }
            }
        }
    }

    #[test]
    fn cached_encoder_equals_uncached_with_two_tokenizers_in_turn() {
        // Two vocabularies that split the same pieces differently share one thread's cache:
        // every answer must still be the uncached one (entries are tagged with their owner).
        let a = toy(&["ab", "bc", "abc", "aa", "aaaa", "ca", "cab", "bb", "bcab"]);
        let b = toy(&["bc", "ca", "ab", "aa", "bcab", "cab"]);
        let mut seed = 0x9E3779B97F4A7C15u64;
        let mut pieces = Vec::new();
        for i in 0..3000 {
            // Short and long pieces (the long-piece map too), many repeated.
            let len = if i % 10 == 0 {
                17 + i % 120
            } else {
                1 + i % 16
            };
            let piece: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    b"abcx"[(seed % 4) as usize]
                })
                .collect();
            pieces.push(piece);
        }
        for round in 0..3 {
            for (i, piece) in pieces.iter().enumerate() {
                let bpe = if (i + round) % 2 == 0 { &a } else { &b };
                let mut want = Vec::new();
                bpe.encode_piece(piece, &mut want);
                let mut got = vec![7];
                bpe.with_cache(|enc| enc.encode_piece(piece, &mut got));
                assert_eq!(got[1..], want[..], "{:?}", String::from_utf8_lossy(piece));
            }
        }
        // Nested use on one thread runs uncached and still agrees.
        let mut outer = Vec::new();
        a.with_cache(|enc| {
            enc.encode_piece(b"abcabc", &mut outer);
            let mut inner = Vec::new();
            a.with_cache(|enc2| enc2.encode_piece(b"abcabc", &mut inner));
            assert_eq!(inner, outer);
        });
    }

    #[test]
    fn long_runs_are_not_quadratic_and_correct() {
        let merges = ["aa", "aaaa", "aaaaaaaa"];
        let bpe = toy(&merges);
        let piece = vec![b'a'; 1_000_001];
        let got = encode_to_bytes(&bpe, &merges, &piece, None);
        let total: usize = got.iter().map(|t| t.len()).sum();
        assert_eq!(total, piece.len());
        assert_eq!(got.len(), 1_000_000 / 8 + 1);
    }

    #[test]
    fn ids_beyond_the_pair_table_are_an_error() {
        let mut tokens = byte_tokens(0);
        for id in [
            (1 << pair_map::ID_BITS) - 1,
            1 << pair_map::ID_BITS,
            u32::MAX,
        ] {
            tokens.push(RankedToken {
                bytes: b"ab".to_vec(),
                id,
                rank: 300,
            });
            let made = Bpe::new(&tokens);
            tokens.pop();
            assert_eq!(made.is_ok(), id < 1 << pair_map::ID_BITS, "{id}");
            if let Ok(bpe) = made {
                // Through the pair tables, not the whole-piece lookup.
                let mut out = Vec::new();
                small::merge(&bpe, b"ab", &mut out);
                heap::merge(&bpe, b"ab", &mut out);
                assert_eq!(out, [id, id]);
            }
        }
    }

    #[test]
    fn missing_byte_is_an_error() {
        let tokens = vec![RankedToken {
            bytes: b"a".to_vec(),
            id: 0,
            rank: 0,
        }];
        assert!(Bpe::new(&tokens).is_err());
    }
}
