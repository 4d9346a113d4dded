//! The merge loop of BPE training: from word counts to merges.
//!
//! Rule (Stanford CS336's): repeatedly merge the adjacent pair of tokens with the highest count,
//! counted over all positions of all words (a word's count is how often it occurs); ties go to the
//! lexicographically greater `(left_bytes, right_bytes)`. Every occurrence of the chosen pair is
//! replaced, left to right, in every word.
//!
//! Data layout (why it is lean):
//! - words are records in one flat `Vec<u32>` (header: length, stamp, count; then the symbols),
//!   named by their offset; merging shrinks a word in place. The merge loop is bound by memory
//!   latency (each touched word is a cache miss), so a word is one miss, and the loop prefetches
//!   a few words ahead. Words of one byte have no pairs and are dropped up front;
//! - pair counts are `u64` in a map keyed by the pair packed into a `u64`;
//! - pair -> words is an append-only `Vec<u32>` of word indices per pair. A word is appended when
//!   the pair appears in it; entries go stale when a later merge removes the pair from the word, and
//!   are skipped when the word is re-scanned (a per-word stamp also skips repeated entries);
//! - a max-heap of (count, pair) entries with lazy invalidation: counts only change for pairs next to
//!   a merge; a decrease leaves the heap alone (the entry is re-pushed with the current count when it
//!   surfaces), an increase pushes a fresh entry. An entry is trusted only when its count equals the
//!   pair's current count. Since every live pair has an entry whose count is >= its current count,
//!   the first trusted entry is the true maximum.
//! - the tie-break compares token byte strings, but only when counts are equal (the heap's
//!   comparator looks them up); no global order of tokens is needed, which would change as tokens
//!   are added.
//! - only words that contain the chosen pair are touched; the per-word update emits count deltas
//!   (-1 for each vanished pair, +1 for each new one, scaled by the word's count) that are summed per
//!   merge, so overlapping cases (`a a a`, `a b a b`) cancel out exactly.
//! - when a merge touches many words (the first merges touch most of the corpus), the words are
//!   updated in parallel: each rayon task gets a disjoint set of words and returns its own deltas.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::monitor::{Monitor, Unit};
use crate::special::SpecialMatcher;

use super::count::WordCounts;
use super::table::hash_bytes;

/// What to learn.
#[derive(Clone, Debug)]
pub struct MergeOptions {
    /// Total vocabulary size: special tokens + 256 bytes + merged tokens.
    pub vocab_size: usize,
    /// Special tokens; they take ids `0..k` and are never merged.
    pub special_tokens: Vec<String>,
    /// Pairs seen fewer times than this are never merged (0 and 1 both mean "any pair").
    pub min_frequency: u64,
    /// Size of the rayon pool for the parallel parts; `None` uses all cores.
    pub threads: Option<usize>,
}

impl Default for MergeOptions {
    fn default() -> Self {
        MergeOptions {
            vocab_size: 256,
            special_tokens: Vec::new(),
            min_frequency: 0,
            threads: None,
        }
    }
}

/// A trained vocabulary.
///
/// Id layout: special tokens first (ids `0..k`, in the given order), then the 256 single bytes
/// (ids `k..k+256`, in byte-value order), then one id per *new* token, in the order merges created
/// them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trained {
    /// `vocab[id]` is the token's bytes.
    pub vocab: Vec<Vec<u8>>,
    /// Merges in the order they were learned, as (left bytes, right bytes). When a merge produces
    /// bytes that already are a token (possible: `(a, bc)` after `(ab, c)`), it is still listed here,
    /// but gets no second id; so `merges.len()` can exceed `vocab.len() - 256 - k`.
    pub merges: Vec<(Vec<u8>, Vec<u8>)>,
    pub special_tokens: Vec<String>,
    /// True when training stopped before `vocab_size` because no pair was left (or none reached
    /// `min_frequency`).
    pub ran_out: bool,
}

impl Trained {
    /// The merges as pairs of ids into `vocab` (every merge joins two existing tokens).
    pub fn from_learned(l: Learned) -> Self {
        let merges = l
            .merges
            .iter()
            .map(|&(a, b)| (l.vocab[a as usize].clone(), l.vocab[b as usize].clone()))
            .collect();
        Trained {
            vocab: l.vocab,
            merges,
            special_tokens: l.special_tokens,
            ran_out: l.ran_out,
        }
    }
}

/// What [`learn_ids`] returns: like [`Trained`], but each merge is a pair of ids into `vocab`, so
/// the bytes of merged tokens exist once (a corpus of one huge pre-token makes tokens whose total
/// size is many times the corpus; bindings can share one bytes object per token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learned {
    pub vocab: Vec<Vec<u8>>,
    /// `(left id, right id)`, ids in the layout of `vocab`.
    pub merges: Vec<(u32, u32)>,
    pub special_tokens: Vec<String>,
    pub ran_out: bool,
}

#[inline]
fn pack(a: u32, b: u32) -> u64 {
    ((a as u64) << 32) | b as u64
}

#[inline]
fn unpack(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// Token byte strings by internal id (0..256 are the bytes; merges append).
struct Tokens {
    bytes: Vec<Box<[u8]>>,
    /// First 8 bytes of each token, big-endian, zero-padded: a cheap first comparison.
    prefix: Vec<u64>,
    /// Ids by hash of their bytes (the bytes are kept once, in `bytes`).
    ids: FxHashMap<u64, Vec<u32>>,
}

/// First 8 bytes of `b` as a big-endian, zero-padded `u64`. When two prefixes differ, they order
/// as the byte strings do (a zero pad sorts a shorter string first, as it should); when they are
/// equal, the strings must be compared in full.
fn prefix8(b: &[u8]) -> u64 {
    let mut p = [0u8; 8];
    let n = b.len().min(8);
    p[..n].copy_from_slice(&b[..n]);
    u64::from_be_bytes(p)
}

impl Tokens {
    fn new() -> Self {
        let mut t = Tokens {
            bytes: Vec::new(),
            prefix: Vec::new(),
            ids: FxHashMap::default(),
        };
        for b in 0..=255u8 {
            t.push(Box::new([b]));
        }
        t
    }

    fn push(&mut self, bytes: Box<[u8]>) -> u32 {
        let id = self.bytes.len() as u32;
        self.prefix.push(prefix8(&bytes));
        self.ids.entry(hash_bytes(&bytes)).or_default().push(id);
        self.bytes.push(bytes);
        id
    }

    /// The id of the token `left ++ right`, if there is one.
    fn find_concat(&self, hash: u64, merged: &[u8]) -> Option<u32> {
        self.ids
            .get(&hash)?
            .iter()
            .copied()
            .find(|&id| &*self.bytes[id as usize] == merged)
    }

    #[inline]
    fn get(&self, id: u32) -> &[u8] {
        &self.bytes[id as usize]
    }

    #[inline]
    fn entry(&self, count: u64, pair: u64) -> Entry {
        Entry {
            count,
            pair,
            left_prefix: self.prefix[unpack(pair).0 as usize],
        }
    }

    /// `a` is ranked above `b`: higher count, then greater (left bytes, right bytes).
    #[inline]
    fn better(&self, a: &Entry, b: &Entry) -> bool {
        if a.count != b.count {
            return a.count > b.count;
        }
        if a.left_prefix != b.left_prefix {
            return a.left_prefix > b.left_prefix;
        }
        let (al, ar) = unpack(a.pair);
        let (bl, br) = unpack(b.pair);
        match self.get(al).cmp(self.get(bl)) {
            std::cmp::Ordering::Equal => self.get(ar) > self.get(br),
            o => o == std::cmp::Ordering::Greater,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    count: u64,
    pair: u64,
    /// `prefix8` of the left token, so most ties are settled without touching token bytes.
    left_prefix: u64,
}

/// A binary max-heap whose comparator needs the token table (std's `BinaryHeap` needs `Ord`
/// on the entries alone).
struct PairHeap {
    data: Vec<Entry>,
}

impl PairHeap {
    fn from_vec(data: Vec<Entry>, tok: &Tokens) -> Self {
        let mut h = PairHeap { data };
        for i in (0..h.data.len() / 2).rev() {
            h.sift_down(i, tok);
        }
        h
    }

    fn push(&mut self, e: Entry, tok: &Tokens) {
        self.data.push(e);
        let mut i = self.data.len() - 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            if tok.better(&self.data[i], &self.data[parent]) {
                self.data.swap(i, parent);
                i = parent;
            } else {
                break;
            }
        }
    }

    fn pop(&mut self, tok: &Tokens) -> Option<Entry> {
        let last = self.data.pop()?;
        if self.data.is_empty() {
            return Some(last);
        }
        let top = std::mem::replace(&mut self.data[0], last);
        self.sift_down(0, tok);
        Some(top)
    }

    fn sift_down(&mut self, mut i: usize, tok: &Tokens) {
        let n = self.data.len();
        loop {
            let l = 2 * i + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let c = if r < n && tok.better(&self.data[r], &self.data[l]) {
                r
            } else {
                l
            };
            if tok.better(&self.data[c], &self.data[i]) {
                self.data.swap(c, i);
                i = c;
            } else {
                break;
            }
        }
    }
}

/// The words being merged, as records in one flat `u32` array:
/// `[len, stamp, count_lo, count_hi, sym_0, .., sym_len-1]`. A word is named by the offset of its
/// record, so touching a word (header and symbols) costs one cache miss, not one for an index
/// array and another for the symbols. `len` shrinks as merges apply (the record keeps its room);
/// `stamp` is the last merge step that queued the word (dedupes a pair's word list).
struct Words {
    data: Vec<u32>,
    /// Offsets of all records.
    offsets: Vec<u32>,
}

const HDR: usize = 4;

impl Words {
    fn from_counts(counts: &WordCounts) -> Result<Self> {
        // Table order: the result never depends on word order (ties are broken by bytes, and
        // counts are sums), so no sort is needed.
        let all: Vec<(&[u8], u64)> = counts.iter().filter(|(b, _)| b.len() >= 2).collect();
        let total: usize = all.iter().map(|(b, _)| HDR + b.len()).sum();
        if total > u32::MAX as usize {
            return Err(Error::value(
                "too many distinct pre-tokens to train on (over 16 GB of them); raise min_frequency \
                 or train on a sample",
            ));
        }
        let mut w = Words {
            data: Vec::with_capacity(total),
            offsets: Vec::with_capacity(all.len()),
        };
        for (b, n) in all {
            w.offsets.push(w.data.len() as u32);
            w.data
                .extend_from_slice(&[b.len() as u32, 0, n as u32, (n >> 32) as u32]);
            w.data.extend(b.iter().map(|&x| x as u32));
        }
        Ok(w)
    }

    #[inline]
    fn count(rec: &[u32]) -> u64 {
        rec[2] as u64 | (rec[3] as u64) << 32
    }

    /// The record at `off`, header and current symbols.
    #[inline]
    fn record_mut(&mut self, off: u32) -> &mut [u32] {
        let off = off as usize;
        let len = self.data[off] as usize;
        &mut self.data[off..off + HDR + len]
    }

    #[inline]
    fn symbols(&self, off: u32) -> &[u32] {
        let off = off as usize;
        let len = self.data[off] as usize;
        &self.data[off + HDR..off + HDR + len]
    }

    /// Hints the CPU to load the start of a record (the merge loop's cost is memory latency).
    #[inline(always)]
    fn prefetch(&self, off: u32) {
        #[cfg(target_arch = "x86_64")]
        if let Some(p) = self.data.get(off as usize) {
            // SAFETY: a prefetch is only a hint; the pointer is in bounds.
            unsafe {
                std::arch::x86_64::_mm_prefetch(
                    p as *const u32 as *const i8,
                    std::arch::x86_64::_MM_HINT_T0,
                )
            };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = off;
    }
}

/// Replaces every (a, b) in `syms` (left to right) by `n`, in place; returns the new length.
/// Calls `delta(pair, +1/-1)` for each pair that appears/vanishes (before scaling by the word's
/// count), and `new_pair(pair)` for each adjacent pair containing `n` afterwards.
#[inline]
fn merge_word(syms: &mut [u32], a: u32, b: u32, n: u32, delta: &mut impl FnMut(u64, i64)) -> usize {
    let len = syms.len();
    let (mut i, mut j) = (0, 0);
    while i < len {
        if i + 1 < len && syms[i] == a && syms[i + 1] == b {
            if j > 0 {
                let x = syms[j - 1];
                delta(pack(x, a), -1);
                delta(pack(x, n), 1);
            }
            delta(pack(a, b), -1);
            if i + 2 < len {
                let y = syms[i + 2];
                delta(pack(b, y), -1);
                delta(pack(n, y), 1);
            }
            syms[j] = n;
            j += 1;
            i += 2;
        } else {
            syms[j] = syms[i];
            j += 1;
            i += 1;
        }
    }
    j
}

/// Raw access to the words for the parallel update. Each task receives a disjoint set of word
/// indices (deduplicated by the stamp before splitting), so no two tasks touch the same symbols.
/// What one task of a parallel update found: count deltas and (new pair, word) entries.
type Changes = (FxHashMap<u64, i64>, Vec<(u64, u32)>);

struct DataPtr(*mut u32);
unsafe impl Send for DataPtr {}
unsafe impl Sync for DataPtr {}

/// How many words ahead the merge loop prefetches.
const PREFETCH: usize = 8;

/// Merges touching at least this many words update them in parallel (below it, the cost of
/// spawning tasks and merging their delta maps exceeds the gain).
const PAR_WORDS: usize = 2048;

/// Learns merges from word counts.
pub fn learn(counts: &WordCounts, opts: &MergeOptions, monitor: &Monitor) -> Result<Trained> {
    learn_ids(counts, opts, monitor).map(Trained::from_learned)
}

/// [`learn`], with merges as ids (see [`Learned`]).
pub fn learn_ids(counts: &WordCounts, opts: &MergeOptions, monitor: &Monitor) -> Result<Learned> {
    let specials = SpecialMatcher::new(&opts.special_tokens)?;
    let k = specials.tokens().len();
    if opts.vocab_size < 256 + k {
        return Err(Error::value(format!(
            "vocab_size must be at least 256 + the number of special tokens ({}), got {}",
            256 + k,
            opts.vocab_size
        )));
    }
    super::count::with_pool(opts.threads, || learn_in_pool(counts, opts, monitor))?
}

fn learn_in_pool(counts: &WordCounts, opts: &MergeOptions, monitor: &Monitor) -> Result<Learned> {
    let k = opts.special_tokens.len();
    let target = opts.vocab_size - k; // distinct non-special tokens wanted
    let min_count = opts.min_frequency.max(1);
    let mut tok = Tokens::new();
    let mut words = Words::from_counts(counts)?;
    let n_words = words.offsets.len();

    // Initial pair counts and pair -> words index. All symbols are bytes yet, so a pair is an
    // index below 65536 and dense arrays replace hashing. One contiguous range of words per
    // thread, then the per-thread arrays are summed / concatenated.
    let parts = rayon::current_num_threads().clamp(1, n_words.max(1));
    let words_ref = &words;
    let built: Vec<(Vec<u64>, Vec<Vec<u32>>)> = (0..parts)
        .into_par_iter()
        .map(|t| {
            let mut pc = vec![0u64; 1 << 16];
            let mut pw: Vec<Vec<u32>> = vec![Vec::new(); 1 << 16];
            for &w in &words_ref.offsets[(n_words * t / parts)..(n_words * (t + 1) / parts)] {
                let c = Words::count(&words_ref.data[w as usize..]);
                for win in words_ref.symbols(w).windows(2) {
                    let p = ((win[0] << 8) | win[1]) as usize;
                    pc[p] += c;
                    let list = &mut pw[p];
                    if list.last() != Some(&w) {
                        list.push(w);
                    }
                }
            }
            (pc, pw)
        })
        .collect();
    let mut pair_count: FxHashMap<u64, u64> = FxHashMap::default();
    let mut pair_words: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
    for (pc, pw) in built {
        for (p, (c, mut list)) in pc.into_iter().zip(pw).enumerate() {
            if c > 0 {
                let key = pack((p >> 8) as u32, (p & 0xff) as u32);
                *pair_count.entry(key).or_insert(0) += c;
                match pair_words.entry(key) {
                    std::collections::hash_map::Entry::Occupied(mut e) => {
                        e.get_mut().append(&mut list)
                    }
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(list);
                    }
                }
            }
        }
    }

    let mut heap = PairHeap::from_vec(
        pair_count
            .iter()
            .map(|(&pair, &count)| tok.entry(count, pair))
            .collect(),
        &tok,
    );

    let mut merges: Vec<(u32, u32)> = Vec::new();
    let mut new_lists = NewPairLists::default();
    let mut step: u32 = 0;
    let mut deltas: FxHashMap<u64, i64> = FxHashMap::default();
    let mut todo: Vec<u32> = Vec::new();
    let mut ran_out = false;
    monitor.start(
        "merging",
        Unit::Items,
        Some(target.saturating_sub(256) as u64),
    );

    while tok.bytes.len() < target {
        monitor.check()?;
        // Pop the best pair whose entry is current.
        let best = loop {
            let Some(e) = heap.pop(&tok) else { break None };
            let current = pair_count.get(&e.pair).copied().unwrap_or(0);
            if e.count == current {
                break Some(e);
            }
            if e.count > current && current > 0 {
                heap.push(
                    Entry {
                        count: current,
                        ..e
                    },
                    &tok,
                );
            }
        };
        let Some(best) = best.filter(|e| e.count >= min_count) else {
            ran_out = true;
            break;
        };
        let (a, b) = unpack(best.pair);
        let mut merged = Vec::with_capacity(tok.get(a).len() + tok.get(b).len());
        merged.extend_from_slice(tok.get(a));
        merged.extend_from_slice(tok.get(b));
        merges.push((a, b));
        let hash = hash_bytes(&merged);
        let n = match tok.find_concat(hash, &merged) {
            Some(id) => id,
            None => {
                let id = tok.push(merged.into_boxed_slice());
                monitor.add(1)?;
                id
            }
        };

        // The words that may contain (a, b), each once.
        step = step.wrapping_add(1);
        if step == 0 {
            for &off in &words.offsets {
                words.data[off as usize + 1] = u32::MAX;
            }
            step = 1;
        }
        let list = pair_words.remove(&best.pair).unwrap_or_default();
        todo.clear();
        for (i, &w) in list.iter().enumerate() {
            if let Some(&ahead) = list.get(i + PREFETCH) {
                words.prefetch(ahead);
            }
            let stamp = &mut words.data[w as usize + 1];
            if *stamp != step {
                *stamp = step;
                todo.push(w);
            }
        }
        drop(list);

        // Iterating or clearing a hash map costs its capacity, not its length: after one of the
        // first, huge merges, reusing the map would make every later (small) merge pay for it.
        if deltas.capacity() > 4096 {
            deltas = FxHashMap::default();
        } else {
            deltas.clear();
        }
        new_lists.reserve(tok.bytes.len());
        if todo.len() >= PAR_WORDS && rayon::current_num_threads() > 1 {
            let data = DataPtr(words.data.as_mut_ptr());
            let data_len = words.data.len();
            let tasks = rayon::current_num_threads() * 4;
            let parts: Vec<Changes> = todo
                .par_chunks(todo.len().div_ceil(tasks))
                .map(|ws| {
                    let data = &data;
                    let mut d: FxHashMap<u64, i64> = FxHashMap::default();
                    let mut np = Vec::new();
                    // The last word recorded per new pair: a word lists each pair once, so a
                    // huge word (one pre-token of megabytes) adds entries per distinct pair only.
                    let mut last: FxHashMap<u64, u32> = FxHashMap::default();
                    for (i, &w) in ws.iter().enumerate() {
                        // SAFETY: `todo` holds distinct records (stamp), `par_chunks` gives each
                        // task a disjoint subset, and records occupy disjoint ranges of `data`
                        // (offset + HDR + len <= the next offset), so no two tasks alias.
                        let rec = unsafe {
                            if let Some(&ahead) = ws.get(i + PREFETCH) {
                                #[cfg(target_arch = "x86_64")]
                                std::arch::x86_64::_mm_prefetch(
                                    data.0.add(ahead as usize) as *const i8,
                                    std::arch::x86_64::_MM_HINT_T0,
                                );
                                #[cfg(not(target_arch = "x86_64"))]
                                let _ = ahead;
                            }
                            let off = w as usize;
                            debug_assert!(off < data_len);
                            let len = *data.0.add(off) as usize;
                            std::slice::from_raw_parts_mut(data.0.add(off), HDR + len)
                        };
                        update_word(rec, a, b, n, w, &mut d, &mut |p, w| {
                            if last.insert(p, w) != Some(w) {
                                np.push((p, w));
                            }
                        });
                    }
                    (d, np)
                })
                .collect();
            let _ = data_len;
            for (d, np) in parts {
                for (p, v) in d {
                    *deltas.entry(p).or_insert(0) += v;
                }
                for (p, w) in np {
                    new_lists.add(p, w, n);
                }
            }
        } else {
            for (i, &w) in todo.iter().enumerate() {
                if let Some(&ahead) = todo.get(i + PREFETCH) {
                    words.prefetch(ahead);
                }
                let rec = words.record_mut(w);
                update_word(rec, a, b, n, w, &mut deltas, &mut |p, w| {
                    new_lists.add(p, w, n)
                });
            }
        }

        for (&p, &d) in deltas.iter() {
            if d == 0 {
                continue;
            }
            let c = pair_count.entry(p).or_insert(0);
            if d > 0 {
                *c = c.saturating_add(d as u64);
                heap.push(tok.entry(*c, p), &tok);
            } else {
                *c = c.saturating_sub(d.unsigned_abs());
                if *c == 0 {
                    pair_count.remove(&p);
                    pair_words.remove(&p);
                }
            }
        }

        // Word lists of the new pairs.
        new_lists.flush(n, &pair_count, &mut pair_words);
    }
    monitor.finish();

    let mut vocab: Vec<Vec<u8>> = opts
        .special_tokens
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    vocab.extend(tok.bytes.into_iter().map(|b| b.into_vec()));
    // Internal ids put the bytes first; the public layout puts the special tokens first.
    let merges = merges
        .into_iter()
        .map(|(a, b)| (a + k as u32, b + k as u32))
        .collect();
    Ok(Learned {
        vocab,
        merges,
        special_tokens: opts.special_tokens.clone(),
        ran_out,
    })
}

/// Word lists of the pairs a merge creates. They all contain the new token `n`, so they are
/// gathered in dense arrays keyed by the other symbol ((x, n) by x, (n, y) by y): the pair map is
/// then touched once per distinct new pair, not once per occurrence, and a word is listed once per
/// pair (entries for one word arrive together, so comparing with the last entry dedupes).
#[derive(Default)]
struct NewPairLists {
    left_of_n: Vec<Vec<u32>>,
    right_of_n: Vec<Vec<u32>>,
    touched_left: Vec<u32>,
    touched_right: Vec<u32>,
}

impl NewPairLists {
    fn reserve(&mut self, n_tokens: usize) {
        if self.left_of_n.len() < n_tokens {
            self.left_of_n.resize_with(n_tokens, Vec::new);
            self.right_of_n.resize_with(n_tokens, Vec::new);
        }
    }

    #[inline]
    fn add(&mut self, p: u64, w: u32, n: u32) {
        let (l, r) = unpack(p);
        let (list, touched, other) = if r == n {
            (&mut self.left_of_n[l as usize], &mut self.touched_left, l)
        } else {
            (&mut self.right_of_n[r as usize], &mut self.touched_right, r)
        };
        if list.is_empty() {
            touched.push(other);
        }
        if list.last() != Some(&w) {
            list.push(w);
        }
    }

    /// Moves the gathered lists into `pair_words` (pairs whose count cancelled out are dropped).
    fn flush(
        &mut self,
        n: u32,
        pair_count: &FxHashMap<u64, u64>,
        pair_words: &mut FxHashMap<u64, Vec<u32>>,
    ) {
        for (lists, touched, left) in [
            (&mut self.left_of_n, &mut self.touched_left, true),
            (&mut self.right_of_n, &mut self.touched_right, false),
        ] {
            for &x in touched.iter() {
                let list = std::mem::take(&mut lists[x as usize]);
                let p = if left { pack(x, n) } else { pack(n, x) };
                if !pair_count.contains_key(&p) {
                    continue;
                }
                match pair_words.entry(p) {
                    std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().extend(list),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(list);
                    }
                }
            }
            touched.clear();
        }
    }
}

/// Merges (a, b) -> n in the word record `rec` (at offset `w`); records count deltas, and calls
/// `new_pair(pair, w)` for each adjacent pair containing `n` afterwards.
#[inline]
fn update_word(
    rec: &mut [u32],
    a: u32,
    b: u32,
    n: u32,
    w: u32,
    deltas: &mut FxHashMap<u64, i64>,
    new_pair: &mut impl FnMut(u64, u32),
) {
    let c = Words::count(rec) as i64;
    let (head, syms) = rec.split_at_mut(HDR);
    let mut changed = false;
    let new_len = merge_word(syms, a, b, n, &mut |p, s| {
        changed = true;
        *deltas.entry(p).or_insert(0) += s * c;
    });
    if !changed {
        return; // stale entry: the pair had already left this word
    }
    head[0] = new_len as u32;
    let out = &syms[..new_len];
    for (j, &s) in out.iter().enumerate() {
        if s == n {
            if j > 0 {
                new_pair(pack(out[j - 1], n), w);
            }
            if j + 1 < new_len {
                new_pair(pack(n, out[j + 1]), w);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretokenize::Pretokenizer;

    fn counts_of(words: &[(&str, u64)]) -> WordCounts {
        let mut c = WordCounts::new();
        for (w, n) in words {
            c.add(w.as_bytes(), *n);
        }
        c
    }

    fn merges_str(t: &Trained) -> Vec<String> {
        t.merges
            .iter()
            .map(|(a, b)| {
                format!(
                    "{} {}",
                    String::from_utf8_lossy(a),
                    String::from_utf8_lossy(b)
                )
            })
            .collect()
    }

    #[test]
    fn cs336_handout_example() {
        let c = counts_of(&[("low", 5), ("lower", 2), ("widest", 3), ("newest", 6)]);
        let opts = MergeOptions {
            vocab_size: 256 + 1 + 6,
            special_tokens: vec!["<|endoftext|>".into()],
            ..Default::default()
        };
        let t = learn(&c, &opts, &Monitor::silent()).unwrap();
        assert_eq!(
            merges_str(&t),
            vec!["s t", "e st", "o w", "l ow", "w est", "n e"]
        );
        assert_eq!(t.vocab[0], b"<|endoftext|>");
        assert_eq!(t.vocab[1], vec![0u8]);
        assert_eq!(t.vocab[1 + 256], b"st");
        assert!(!t.ran_out);
    }

    /// A direct transcription of the rule on byte strings (slow), for cross-checking.
    fn naive(words: &[(&str, u64)], n_merges: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut ws: Vec<(Vec<Vec<u8>>, u64)> = words
            .iter()
            .map(|(w, c)| (w.bytes().map(|b| vec![b]).collect(), *c))
            .collect();
        let mut out = Vec::new();
        for _ in 0..n_merges {
            let mut pc: std::collections::BTreeMap<(Vec<u8>, Vec<u8>), u64> = Default::default();
            for (w, c) in &ws {
                for p in w.windows(2) {
                    *pc.entry((p[0].clone(), p[1].clone())).or_default() += c;
                }
            }
            let Some((best, _)) = pc.iter().max_by(|x, y| x.1.cmp(y.1).then(x.0.cmp(y.0))) else {
                break;
            };
            let best = best.clone();
            for (w, _) in ws.iter_mut() {
                let mut o: Vec<Vec<u8>> = Vec::new();
                let mut i = 0;
                while i < w.len() {
                    if i + 1 < w.len() && w[i] == best.0 && w[i + 1] == best.1 {
                        o.push([best.0.clone(), best.1.clone()].concat());
                        i += 2;
                    } else {
                        o.push(w[i].clone());
                        i += 1;
                    }
                }
                *w = o;
            }
            out.push(best);
        }
        out
    }

    #[test]
    fn matches_naive_on_tricky_words() {
        let words = [
            ("aaaa", 3u64),
            ("abab", 2),
            ("aaa", 5),
            ("ababab", 1),
            ("ba", 4),
            ("abc", 2),
            ("bcab", 3),
            ("zz", 1),
        ];
        let c = counts_of(&words);
        let expect = naive(&words, 12);
        for threads in [1, 2] {
            let t = learn(
                &c,
                &MergeOptions {
                    vocab_size: 256 + 40,
                    threads: Some(threads),
                    ..Default::default()
                },
                &Monitor::silent(),
            )
            .unwrap();
            // The naive version has no duplicate-bytes rule, so compare the prefix it shares.
            assert_eq!(
                &t.merges[..expect.len().min(t.merges.len())],
                &expect[..expect.len().min(t.merges.len())]
            );
        }
    }

    #[test]
    fn many_words_parallel_equals_serial() {
        let p = Pretokenizer::gpt2();
        let text: String = (0..20000u32)
            .map(|i| format!("w{} {}x{} ", i % 997, (i * 7919) % 1009, i % 13))
            .collect();
        let mut c = WordCounts::new();
        c.count_text(&text, &p, &SpecialMatcher::empty()).unwrap();
        let run = |threads| {
            learn(
                &c,
                &MergeOptions {
                    vocab_size: 256 + 300,
                    threads: Some(threads),
                    ..Default::default()
                },
                &Monitor::silent(),
            )
            .unwrap()
        };
        let one = run(1);
        assert_eq!(one, run(3));
    }

    #[test]
    fn runs_out_and_min_frequency_and_errors() {
        let c = counts_of(&[("ab", 1)]);
        let t = learn(
            &c,
            &MergeOptions {
                vocab_size: 1000,
                ..Default::default()
            },
            &Monitor::silent(),
        )
        .unwrap();
        assert_eq!(t.merges.len(), 1);
        assert_eq!(t.vocab.len(), 257);
        assert!(t.ran_out);
        let t = learn(
            &c,
            &MergeOptions {
                vocab_size: 1000,
                min_frequency: 2,
                ..Default::default()
            },
            &Monitor::silent(),
        )
        .unwrap();
        assert!(t.merges.is_empty());
        assert!(learn(
            &c,
            &MergeOptions {
                vocab_size: 255,
                ..Default::default()
            },
            &Monitor::silent()
        )
        .is_err());
        let dup = MergeOptions {
            vocab_size: 300,
            special_tokens: vec!["x".into(), "x".into()],
            ..Default::default()
        };
        assert!(learn(&c, &dup, &Monitor::silent()).is_err());
        let empty = learn(
            &WordCounts::new(),
            &MergeOptions {
                vocab_size: 300,
                ..Default::default()
            },
            &Monitor::silent(),
        )
        .unwrap();
        assert_eq!(empty.vocab.len(), 256);
    }

    #[test]
    fn duplicate_bytes_get_one_id() {
        // (a, bc) and (ab, c) both make "abc".
        let c = counts_of(&[("bc", 10), ("abc", 3), ("ab", 8), ("xabc", 1), ("ab c", 0)]);
        let t = learn(
            &c,
            &MergeOptions {
                vocab_size: 256 + 10,
                ..Default::default()
            },
            &Monitor::silent(),
        )
        .unwrap();
        let mut seen = std::collections::HashSet::new();
        for v in &t.vocab {
            assert!(seen.insert(v.clone()), "duplicate token {v:?}");
        }
    }
}
