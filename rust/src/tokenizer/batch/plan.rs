//! Cutting a batch into chunks: runs of consecutive texts (the first and last possibly parts of
//! a text, split at safe cuts) that are encoded as one job each.
//!
//! Why chunks of many texts: a job per text cost ~200 ns of scheduling and two allocations per
//! text, which on a batch of 130K lines was as much as encoding them. Why sizes that shrink
//! ("guided" scheduling): the calling thread turns finished chunks into Python lists in order, so
//! whatever is encoded last is converted last; large early chunks keep per-chunk costs low, small
//! late ones keep the tail (the time one thread works while the other waits) short. Each chunk
//! holds about `remaining / (GUIDE * threads)` of the work still unplanned, between `MIN_CHUNK`
//! and `MAX_CHUNK`. Work is bytes plus `PER_TEXT` per text (an empty text still costs a call and
//! a list).

use std::ops::Range;

/// Work units per chunk at most (bytes; a text that cannot be cut may make a chunk larger).
pub const MAX_CHUNK: usize = 1 << 20;
/// Work units per chunk at least, the last chunk excepted (~0.3 ms of encoding).
pub const MIN_CHUNK: usize = 32 << 10;
/// Chunks per thread for the remaining work: more gives a shorter tail, fewer cheaper chunks.
const GUIDE: usize = 4;
/// The work of one text besides its bytes (its encode call and its list), in bytes.
const PER_TEXT: usize = 64;

/// Texts `first..=last`: text `first` from byte `from`, text `last` up to byte `to`. Chunks of
/// one plan tile the batch in order: the next one starts at `(last, to)`, or at `(last + 1, 0)`
/// when `to` ends text `last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub first: usize,
    pub from: usize,
    pub last: usize,
    pub to: usize,
}

impl Chunk {
    /// The bytes of text `t` (of length `len`, `first <= t <= last`) that this chunk holds.
    pub fn segment(&self, t: usize, len: usize) -> Range<usize> {
        let start = if t == self.first { self.from } else { 0 };
        let end = if t == self.last { self.to } else { len };
        start..end
    }

    /// The bytes this chunk holds, `len` giving text lengths.
    pub fn bytes(&self, len: impl Fn(usize) -> usize) -> usize {
        (self.first..=self.last)
            .map(|t| self.segment(t, len(t)).len())
            .sum()
    }

    /// Whether text `t`'s last bytes are in this chunk.
    pub fn ends(&self, t: usize, len: usize) -> bool {
        t < self.last || self.to == len
    }
}

/// The chunks for `n` texts whose lengths `len` gives, for `threads` threads. `cut(t, lo, want)`
/// is a safe cut `p` of text `t` with `want <= p < len(t)` (`lo` is its start or a safe cut at
/// or before `want`), or None when there is none.
pub fn plan(
    n: usize,
    len: impl Fn(usize) -> usize,
    threads: usize,
    mut cut: impl FnMut(usize, usize, usize) -> Option<usize>,
) -> Vec<Chunk> {
    let total: usize = (0..n).map(|t| len(t).saturating_add(PER_TEXT)).sum();
    let target = |left: usize| (left / (GUIDE * threads.max(1))).clamp(MIN_CHUNK, MAX_CHUNK);
    let mut chunks = Vec::new();
    let mut left = total;
    // The open chunk starts at (first, from) and holds `fill` units so far.
    let (mut first, mut from, mut fill) = (0, 0, 0);
    let (mut t, mut off) = (0, 0);
    while t < n {
        let l = len(t);
        let head = if off == 0 { PER_TEXT } else { 0 };
        let rest = l - off + head;
        let goal = target(left);
        if fill + rest < goal {
            fill += rest;
            (t, off) = (t + 1, 0);
            continue;
        }
        // Text t fills the chunk. Cut it where the chunk is full if what it leaves is more than
        // a chunk's worth; otherwise the chunk takes all of it (at most twice `goal`).
        let want = off + goal.saturating_sub(fill + head).max(1);
        let end = if rest > goal + goal / 2 {
            cut(t, off, want).filter(|&p| p > off && p < l)
        } else {
            None
        };
        let end = end.unwrap_or(l);
        chunks.push(Chunk {
            first,
            from,
            last: t,
            to: end,
        });
        left = left.saturating_sub(fill + end - off + head);
        fill = 0;
        if end == l {
            (t, off) = (t + 1, 0);
        } else {
            off = end;
        }
        (first, from) = (t, off);
    }
    if first < n {
        chunks.push(Chunk {
            first,
            from,
            last: n - 1,
            to: len(n - 1),
        });
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that `chunks` tile texts of lengths `lens` in order, each byte once, and returns
    /// the parts of each text.
    fn check_tiling(lens: &[usize], chunks: &[Chunk]) -> Vec<Vec<Range<usize>>> {
        let mut parts: Vec<Vec<Range<usize>>> = vec![Vec::new(); lens.len()];
        let mut at = (0, 0);
        for c in chunks {
            assert_eq!((c.first, c.from), at, "chunks tile in order: {chunks:?}");
            assert!(c.first <= c.last && c.last < lens.len());
            for (t, part) in parts.iter_mut().enumerate().take(c.last + 1).skip(c.first) {
                let seg = c.segment(t, lens[t]);
                assert!(seg.start <= seg.end && seg.end <= lens[t]);
                let expected_start = part.last().map_or(0, |r| r.end);
                assert_eq!(seg.start, expected_start);
                part.push(seg);
                assert_eq!(c.ends(t, lens[t]), part.last().unwrap().end == lens[t]);
            }
            at = if c.to == lens[c.last] {
                (c.last + 1, 0)
            } else {
                (c.last, c.to)
            };
        }
        assert_eq!(at, (lens.len(), 0), "every text is planned");
        parts
    }

    /// A small deterministic generator (no dependency for the tests).
    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn plans_tile_every_batch() {
        let mut seed = 7;
        for case in 0..400 {
            let n = (lcg(&mut seed) % 40) as usize;
            let lens: Vec<usize> = (0..n)
                .map(|_| match lcg(&mut seed) % 4 {
                    0 => 0,
                    1 => (lcg(&mut seed) % 100) as usize,
                    2 => (lcg(&mut seed) % 200_000) as usize,
                    _ => (lcg(&mut seed) % 5_000_000) as usize,
                })
                .collect();
            let threads = 1 + case % 4;
            // Cuts every 1000 bytes, but none in texts of odd length (like text without spaces).
            let chunks = plan(
                n,
                |t| lens[t],
                threads,
                |t, lo, want| {
                    assert!(lo <= want && want < lens[t]);
                    let p = want.div_ceil(1000) * 1000;
                    (lens[t].is_multiple_of(2) && p < lens[t]).then_some(p)
                },
            );
            let parts = check_tiling(&lens, &chunks);
            for (t, p) in parts.iter().enumerate() {
                if !lens[t].is_multiple_of(2) {
                    assert_eq!(p.len(), 1, "an uncuttable text stays whole");
                }
                for r in &p[1..] {
                    assert!(r.start.is_multiple_of(1000), "parts start at cuts");
                }
            }
        }
    }

    #[test]
    fn chunks_shrink_and_split_large_texts() {
        let lens = vec![20_000_000];
        let chunks = plan(1, |t| lens[t], 2, |_, _, want| Some(want));
        check_tiling(&lens, &chunks);
        assert!(chunks.len() > 8);
        let sizes: Vec<usize> = chunks.iter().map(|c| c.to - c.from).collect();
        assert!(sizes[0] <= MAX_CHUNK + PER_TEXT);
        assert!(sizes[sizes.len() - 2] < sizes[0] / 4, "{sizes:?}");
        // Many short texts: a few chunks, not one per text.
        let lens = vec![40; 150_000];
        let chunks = plan(lens.len(), |t| lens[t], 2, |_, _, _| None);
        check_tiling(&lens, &chunks);
        assert!((8..200).contains(&chunks.len()), "{}", chunks.len());
        assert!(plan(0, |_| 0, 2, |_, _, _| None).is_empty());
    }
}
