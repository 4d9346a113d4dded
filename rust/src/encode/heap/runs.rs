//! Long pieces made of a few runs of one repeated token (`"a" * 100_000`, a million spaces,
//! `"====..."`): BPE on the run-length encoding, one step per rank, in O(runs) a step.
//!
//! State: the piece's parts as runs `(token, count)`. A step takes the lowest rank `r` among
//! all adjacent pairs (inside a run of count >= 2, and across run borders) and, in one sweep
//! left to right, merges every pair of rank `r`, the leftmost first: inside a run of `X` whose
//! pair `X X` has rank `r`, `X^k` becomes `(XX)^(k/2)` and one `X` when `k` is odd.
//!
//! Why this is tiktoken's order: say every pair that a merge creates during the sweep has a
//! rank above `r` (checked, for each merge, at the moment tiktoken would push it: the new
//! token with its left neighbour then, and with its right neighbour then). Then while the
//! sweep runs, the lowest candidate is always of rank `r`, so tiktoken takes exactly the rank-r
//! pairs, leftmost first, each one still there when it is reached (a merge only removes pairs
//! that overlap it, which are to its right), i.e. the greedy sweep. Different pairs can have
//! rank `r` (splits of one token: `aa|aa` and `a|aaa`); the sweep takes them all. A pair the
//! sweep creates cannot have rank `r`: it holds the rank-r token and more bytes.
//! When a check fails, or the runs get too many to be worth it, `merge` returns false and the
//! caller runs the general queue; nothing was written to `out` then.
//!
//! Cost: every step is one rank, larger than the last (the check above), and O(runs) pair
//! lookups; 999,999 spaces under cl100k take 12 steps over at most 4 runs, then writes
//! the ids.

use super::super::{merged_id, Bpe, NO_MERGE};

/// Runs above this: not worth it (pieces of many short runs go to the queue at once).
const MAX_RUNS: usize = 32;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Run {
    id: u32,
    count: usize,
}

/// Encodes `piece` by runs and returns true, or returns false (`out` untouched) when the
/// piece is not a few runs or a step breaks the premise above.
pub(super) fn merge(bpe: &Bpe, piece: &[u8], out: &mut Vec<u32>) -> bool {
    let Some(mut runs) = byte_runs(bpe, piece) else {
        return false;
    };
    let mut next = Vec::with_capacity(MAX_RUNS + 2);
    loop {
        let best = lowest_pair(bpe, &runs);
        if best == NO_MERGE {
            break;
        }
        // A few steps per piece (a new, larger rank each), never thousands: no Ctrl-C poll
        // needed (at most MAX_RUNS lookups a step, and fewer steps than the vocabulary has ranks).
        if !sweep(bpe, &runs, best, &mut next) || next.len() > MAX_RUNS {
            return false;
        }
        std::mem::swap(&mut runs, &mut next);
    }
    for r in &runs {
        out.extend(std::iter::repeat_n(r.id, r.count));
    }
    true
}

/// The piece's runs of equal bytes as byte-token runs, or None past `MAX_RUNS` runs.
fn byte_runs(bpe: &Bpe, piece: &[u8]) -> Option<Vec<Run>> {
    let mut runs = Vec::with_capacity(MAX_RUNS + 2);
    let mut rest = piece;
    while let Some(&b) = rest.first() {
        if runs.len() == MAX_RUNS {
            return None;
        }
        let len = rest.iter().position(|&c| c != b).unwrap_or(rest.len());
        runs.push(Run {
            id: bpe.byte_id(b),
            count: len,
        });
        rest = &rest[len..];
    }
    Some(runs)
}

/// The lowest packed (rank, id) over all adjacent pairs, or `NO_MERGE`.
fn lowest_pair(bpe: &Bpe, runs: &[Run]) -> u64 {
    let mut best = NO_MERGE;
    for (i, r) in runs.iter().enumerate() {
        if r.count >= 2 {
            best = best.min(bpe.merge_of(r.id, r.id));
        }
        if let Some(n) = runs.get(i + 1) {
            best = best.min(bpe.merge_of(r.id, n.id));
        }
    }
    best
}

/// The runs after one step: output of the sweep that merges every pair of packed merge `m`
/// (rank r, token t), leftmost first. False when a merge creates a pair of rank <= r.
struct Sweep<'a> {
    bpe: &'a Bpe,
    /// The step's packed merge; a created pair must compare above `limit`.
    m: u64,
    limit: u64,
    out: &'a mut Vec<Run>,
    /// Whether the last part of `out` is an original (not merged this step) part, which may
    /// still merge with the next part.
    free: bool,
}

impl Sweep<'_> {
    fn push(&mut self, id: u32, count: usize, free: bool) {
        if count == 0 {
            return;
        }
        match self.out.last_mut() {
            Some(last) if last.id == id => last.count += count,
            _ => self.out.push(Run { id, count }),
        }
        self.free = free;
    }

    /// A new pair (left, right) is acceptable: its rank is above the step's.
    fn above(&self, left: Option<u32>, right: Option<u32>) -> bool {
        match (left, right) {
            (Some(l), Some(r)) => self.bpe.merge_of(l, r) > self.limit,
            _ => true,
        }
    }

    fn last_id(&self) -> Option<u32> {
        self.out.last().map(|r| r.id)
    }
}

/// One step: every pair with packed merge `m` merged, leftmost first, into `next`. False when
/// a created pair ranks at or below `m`'s rank (the caller then gives up on runs).
fn sweep(bpe: &Bpe, runs: &[Run], m: u64, next: &mut Vec<Run>) -> bool {
    next.clear();
    let t = merged_id(m);
    let mut s = Sweep {
        bpe,
        m,
        limit: m | 0xFFFF_FFFF,
        out: next,
        free: false,
    };
    for (i, run) in runs.iter().enumerate() {
        let x = run.id;
        let right_of_run = runs.get(i + 1).map(|r| r.id);
        let mut k = run.count;
        // Across the border: the last part so far (if still original) with this run's first.
        if s.free && s.last_id().is_some_and(|l| bpe.merge_of(l, x) == s.m) {
            let last = s.out.last_mut().expect("free implies a last part");
            last.count -= 1;
            if last.count == 0 {
                s.out.pop();
            }
            k -= 1;
            let right = if k > 0 { Some(x) } else { right_of_run };
            if !s.above(s.last_id(), Some(t)) || !s.above(Some(t), right) {
                return false;
            }
            s.push(t, 1, false);
        }
        // Inside the run: `X^k` -> `T^(k/2) X^(k%2)` when `X X` merges at this step.
        if k >= 2 && bpe.merge_of(x, x) == s.m {
            let pairs = k / 2;
            let after_last = if k % 2 == 1 { Some(x) } else { right_of_run };
            let ok = s.above(s.last_id(), Some(t))
                && (k < 3 || s.above(Some(t), Some(x)))
                && (k < 4 || s.above(Some(t), Some(t)))
                && s.above(Some(t), after_last);
            if !ok {
                return false;
            }
            s.push(t, pairs, false);
            s.push(x, k % 2, true);
        } else {
            s.push(x, k, true);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::super::tests::toy;
    use super::super::merge_binary;
    use super::super::tests::rng;
    use super::*;

    /// `merge` (when it takes the piece) equals the binary-heap queue.
    fn check(bpe: &Bpe, piece: &[u8]) -> bool {
        let mut got = vec![7];
        let took = merge(bpe, piece, &mut got);
        if !took {
            assert_eq!(got, [7], "a refused piece leaves out alone");
            return false;
        }
        let mut want = vec![7];
        merge_binary(bpe, piece, &mut want);
        assert_eq!(got, want, "{:?}", String::from_utf8_lossy(piece));
        true
    }

    #[test]
    fn uniform_runs_equal_the_queue_for_every_length() {
        // Growing ranks, falling ranks (odd lengths first, "aaaa" before "aa"), gaps.
        let vocabularies: &[&[&str]] = &[
            &["aa", "aaaa", "aaaaaaaa"],
            &[
                "aa", "aaa", "aaaa", "aaaaa", "aaaaaa", "aaaaaaa", "aaaaaaaa",
            ],
            &[
                "aa", "aaaa", "aaa", "aaaaaaaa", "aaaaaaa", "aaaaa", "aaaaaa",
            ],
            &["aaa", "aaaaaa", "aaaaaaaaa", "aa"],
            &["aaaa", "aa", "aaaaaaaa", "aaa"],
            &["aa", "aaaaa", "aaa", "aaaaaaaaaa", "aaaa"],
            &[
                "aa",
                "aaaaaa",
                "aaaa",
                "aaaaaaaaaaaa",
                "aaa",
                "aaaaaaaaaaaaaaaa",
            ],
        ];
        for merges in vocabularies {
            let bpe = toy(merges);
            let mut taken = 0;
            for n in 0..3000 {
                taken += check(&bpe, &vec![b'a'; n]) as usize;
            }
            assert!(taken > 0, "{merges:?}: runs never took a piece");
        }
    }

    /// Up to `runs` runs of bytes from `alphabet`, short (1-4) or long (1-`long`) at random.
    fn few_runs(
        rnd: &mut impl FnMut(u64) -> u64,
        alphabet: &[u8],
        runs: u64,
        long: u64,
    ) -> Vec<u8> {
        let mut piece = Vec::new();
        for _ in 0..1 + rnd(runs) {
            let b = alphabet[rnd(alphabet.len() as u64) as usize];
            let most = if rnd(2) == 0 { 4 } else { long };
            let len = 1 + rnd(most) as usize;
            piece.extend(std::iter::repeat_n(b, len));
        }
        piece
    }

    #[test]
    fn few_runs_equal_the_queue() {
        let vocabularies: &[&[&str]] = &[
            &[
                "ab", "aa", "bb", "aab", "abb", "abab", "aaaa", "bbbb", "ba", "baba",
            ],
            &[
                "aaaa", "bb", "aa", "ab", "ba", "bab", "aba", "abab", "bbbb", "aab",
            ],
            &[
                "ba", "aa", "ab", "bbb", "bb", "aaab", "bbba", "ca", "ac", "cc",
            ],
        ];
        let mut rnd = rng(0x2545F4914F6CDD1D);
        for merges in vocabularies {
            let bpe = toy(merges);
            let mut taken = 0;
            for _ in 0..3000 {
                taken += check(&bpe, &few_runs(&mut rnd, b"abc", 8, 300)) as usize;
            }
            assert!(taken > 1000, "{merges:?}: runs took only {taken}");
        }
    }

    #[test]
    fn random_vocabularies_and_few_runs_equal_the_queue() {
        // Random merge lists over "ab" / "abc" in any order (ranks fall as often as they grow)
        // and pieces of a few short runs. Each check in `sweep`, left out alone, fails here
        // within the first few hundred vocabularies (tried one by one); the cases below are
        // ones this search found.
        let found: &[(&[&str], &str)] = &[
            (
                &["aaaa", "aaaaaaaaaa", "aaaaaaaa", "aaaaaaaaaaa", "aa"],
                "aaaaaaaaaaaa",
            ),
            (&["bab", "bbaba", "ba"], "bbbbbbabaaa"),
            (
                &[
                    "ababb", "aaba", "bbbba", "bba", "aab", "baaab", "aa", "bbbbb", "abbab",
                ],
                "aaaaaaaaaaaabaaaabbbbbbbbbb",
            ),
        ];
        for (merges, piece) in found {
            // Refused by the right checks (each breaks the premise); taken wrongly without.
            check(&toy(merges), piece.as_bytes());
        }
        let mut rnd = rng(0x9E3779B97F4A7C15);
        let mut taken = 0;
        for i in 0..3000 {
            let alphabet: &[u8] = if i % 2 == 0 { b"ab" } else { b"abc" };
            let mut merges: Vec<String> = Vec::new();
            for _ in 0..2 + rnd(12) {
                let len = 2 + rnd(5);
                let m: String = (0..len)
                    .map(|_| alphabet[rnd(alphabet.len() as u64) as usize] as char)
                    .collect();
                if !merges.contains(&m) {
                    merges.push(m);
                }
            }
            let merges: Vec<&str> = merges.iter().map(|m| m.as_str()).collect();
            let bpe = toy(&merges);
            for _ in 0..20 {
                taken += check(&bpe, &few_runs(&mut rnd, alphabet, 6, 12)) as usize;
            }
        }
        assert!(taken > 30_000, "runs took only {taken}");
    }

    #[test]
    fn many_runs_go_to_the_queue() {
        let bpe = toy(&["ab"]);
        let mut out = Vec::new();
        assert!(!merge(&bpe, &b"ab".repeat(MAX_RUNS), &mut out));
        assert!(out.is_empty());
        assert!(merge(&bpe, &b"ab".repeat(MAX_RUNS / 2), &mut out));
        assert_eq!(out, vec![256; MAX_RUNS / 2]);
    }
}
