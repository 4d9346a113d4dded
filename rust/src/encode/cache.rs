//! A per-thread cache of short pieces that are not single tokens: piece bytes -> ids.
//!
//! Why: pre-tokens repeat heavily in real text (the same words, the same indentation), and a
//! piece that is not itself a token costs a BPE merge loop of several pair-table lookups; a
//! cache hit costs one. Profile before it (`perf record`, 5 MB each, GPT-2): `small::merge`
//! took 24-38% of `encode_ordinary` on English, multilingual text and code.
//!
//! Shape: direct-mapped (a piece's hash picks one slot, a new piece overwrites it), so it is
//! bounded (`SLOTS` x 64 bytes per thread), needs no eviction bookkeeping, and a lookup is one
//! cache line. Each slot records which `Bpe` filled it (`Bpe::uid`, unique per construction), so
//! tokenizers used in turn on one thread never see each other's entries and nothing needs
//! clearing. Pieces of more than `IDS` ids are not cached there.
//!
//! Pieces longer than `SHORT` bytes (up to `LONG_MAX` bytes) go to a small hash map instead,
//! emptied when it reaches `LONG_ENTRIES` or another `Bpe` uses it. Why: 17-127-byte pieces
//! (underlines `=====`, rules `-----`, indentation in code) are rare but each costs the O(n^2)
//! short-piece merge: on 1 MB of Python's documentation 2,156 of them cost 30 M instructions,
//! a third of all encoding work, before this map (callgrind).
//!
//! Dropped (session 7): prefetching a short piece's slot here before its whole-piece lookup
//! (so that a piece that is not a token finds its slot loaded): best of 9 interleaved, English
//! 129.1 -> 122.4, multilingual 76.8 -> 73.3, code 151.9 -> 148.1 MB/s (most pieces are tokens,
//! and their wasted prefetches pushed out other lines).
//! Also dropped: asking this cache before the token table for pieces with non-ASCII bytes only
//! (on 5 MB of multilingual text they are 4x as often cached non-tokens as tokens, GPT-2):
//! best of 9, multilingual 77.5 -> 77.3 (GPT-2) and 66.5 -> 66.6 (cl100k), code 154.0 -> 151.1.
//!
//! Also dropped (session 8): the long-piece map as direct-mapped slots (2^12) over two arenas
//! that are emptied together, so that no piece allocates (perf had `malloc`/`free` at ~3% on
//! multilingual text, whose long pieces rarely repeat): pure Rust, best of 5 interleaved,
//! multilingual (40 MB) 68.2 -> 70.5 (GPT-2), 50.2 -> 53.4 (o200k), 59.2 -> 60.2 (cl100k) MB/s,
//! but English 129.7 -> 124.6 (GPT-2; its repeated long pieces then collide) and code 143.6 ->
//! 141.5; with 2^14 slots, all within noise (multilingual 68.3 -> 69.5, English 120.6 -> 121.3).
//! And this cache two-way set-associative at the same size (a new piece goes to its set's first
//! slot, the first's entry to the second): best of 7, multilingual 76.1 -> 74.3 (GPT-2), 55.7
//! -> 57.1 (o200k), English 127.9 -> 125.2, code 145.7 -> 144.0 MB/s.
//!
//! And (session 9) 2^16 slots with the cache warm from an earlier 5 MB on the same thread:
//! multilingual best of 7, 59.3 -> 59.0 MB/s (the misses are first occurrences).
//!
//! Correctness: an entry holds exactly the ids the uncached encoder gave for that piece under
//! that `Bpe`, which is immutable, so a hit returns what a miss would compute.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

use super::short_key::ShortKey;

/// Ids a slot holds (keeps a slot at 64 bytes).
pub(super) const IDS: usize = 7;
/// log2 of the number of slots: 2^13 x 64 B = 512 KiB per thread. 2^15 was tried: 1-2% fewer
/// instructions on new text (multilingual 136 -> 133 a byte), for 4x the memory and L2 misses.
const BITS: u32 = 13;
/// Longest piece the long-piece map keeps.
pub(super) const LONG_MAX: usize = 512;
/// The long-piece map is emptied when it holds this many pieces.
const LONG_ENTRIES: usize = 4096;

#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Slot {
    key: ShortKey,
    owner: u64,
    n: u32,
    ids: [u32; IDS],
}

pub(super) struct PieceCache {
    slots: Box<[Slot]>,
    long: FxHashMap<Box<[u8]>, Box<[u32]>>,
    /// The `Bpe` whose pieces `long` holds.
    long_owner: u64,
}

impl PieceCache {
    fn new() -> Self {
        PieceCache {
            slots: vec![Slot::default(); 1 << BITS].into_boxed_slice(),
            long: FxHashMap::default(),
            long_owner: 0,
        }
    }

    /// The cached ids of a long piece under `owner`, if any.
    pub(super) fn get_long(&mut self, owner: u64, piece: &[u8]) -> Option<&[u32]> {
        if self.long_owner != owner {
            self.long.clear();
            self.long_owner = owner;
        }
        self.long.get(piece).map(|ids| &ids[..])
    }

    /// Records the ids of a long piece (after `get_long` with the same owner).
    pub(super) fn put_long(&mut self, piece: &[u8], ids: &[u32]) {
        if piece.len() <= LONG_MAX {
            if self.long.len() >= LONG_ENTRIES {
                self.long.clear();
            }
            self.long.insert(piece.into(), ids.into());
        }
    }

    #[inline(always)]
    fn slot(&mut self, key: &ShortKey) -> &mut Slot {
        &mut self.slots[(key.hash() >> (64 - BITS)) as usize]
    }

    /// The cached ids of `key` under `owner`, if any.
    #[inline(always)]
    pub(super) fn get(&mut self, owner: u64, key: &ShortKey) -> Option<&[u32]> {
        let s = self.slot(key);
        if s.owner == owner && s.key == *key {
            Some(&s.ids[..s.n as usize])
        } else {
            None
        }
    }

    /// Records the ids of `key` under `owner` (ignored when there are more than `IDS`).
    #[inline(always)]
    pub(super) fn put(&mut self, owner: u64, key: ShortKey, ids: &[u32]) {
        if ids.len() <= IDS {
            let s = self.slot(&key);
            s.key = key;
            s.owner = owner;
            s.n = ids.len() as u32;
            s.ids[..ids.len()].copy_from_slice(ids);
        }
    }
}

thread_local! {
    static CACHE: RefCell<Option<PieceCache>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's cache (made on first use), or with None when it is already in
/// use further up this thread's stack or the thread is exiting. `f` runs exactly once.
pub(super) fn with<R>(mut f: impl FnMut(Option<&mut PieceCache>) -> R) -> R {
    CACHE
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut guard) => f(Some(guard.get_or_insert_with(PieceCache::new))),
            Err(_) => f(None),
        })
        .unwrap_or_else(|_| f(None))
}
