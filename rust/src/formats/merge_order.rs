//! The merge that makes each token under fastbpe's rule (tiktoken's: repeatedly merge the adjacent
//! pair whose concatenated bytes has the lowest rank, leftmost on ties).
//!
//! Formats that store a merge *list* (`merges.txt`, HF `tokenizer.json`) need it when a tokenizer
//! is defined by ranks only (tiktoken), and HF's encoder needs it to agree with fastbpe.
//!
//! Why one split per token is the whole story (the correctness argument the HF export and the HF
//! load check rely on): take a token `T` and a moment of encoding a word at which two adjacent
//! tokens `x`, `y` with `x + y = T` cover a span of the word. Tokens only ever grow, so the span's
//! ends were token boundaries all along; every merge inside the span used only the span's bytes,
//! and each was the lowest-ranked pair inside the span when it happened (a pair outside the span
//! never changes one inside). So inside the span the word went through exactly the steps of
//! byte-pair merging `T`'s bytes alone, and `x | y` is that run's one state with two parts. Hence
//! fastbpe can only ever build `T` from that split ([`split`]), and a token whose own run never
//! reaches two parts is built only as a whole pre-token. HF's encoder runs the same loop with the
//! pair's position in its merge list as the rank, so a merge list holding exactly these splits,
//! in rank order, gives fastbpe's ids.
//!
//! Cost: a heap of candidate merges with lazy invalidation, so a token of n bytes takes
//! O(n log n) steps (plus hashing the candidates' bytes), not the O(n^2) of rescanning the parts:
//! a hostile file with one megabyte-long token must not hang the reader. GPT-2's 50,000 tokens
//! take about 20 ms.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use crate::encode::RankedToken;
use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// Rank of each ranked token's bytes.
pub struct RankOf<'a>(FxHashMap<&'a [u8], u32>);

impl<'a> RankOf<'a> {
    pub fn new(ranked: &'a [RankedToken]) -> Self {
        RankOf(
            ranked
                .iter()
                .map(|t| (t.bytes.as_slice(), t.rank))
                .collect(),
        )
    }

    /// Where byte-pair merging `token`'s bytes alone reaches two parts: the length of the left
    /// part. None when the run stops earlier (no ranked pair left) or a byte is not ranked.
    pub fn split(&self, token: &[u8]) -> Option<usize> {
        let n = token.len();
        if n < 2 || (0..n).any(|i| !self.0.contains_key(&token[i..=i])) {
            return None;
        }
        // Parts are named by where they start: `end[s]` is where part `s` ends, `prev[s]` the
        // part before it. The heap holds candidate merges (rank, left start, middle, right end),
        // lowest rank first and leftmost on ties; an entry whose parts have changed is stale.
        const NONE: usize = usize::MAX;
        let mut end: Vec<usize> = (1..=n).collect();
        let mut prev: Vec<usize> = (0..n).map(|i| i.checked_sub(1).unwrap_or(NONE)).collect();
        let mut alive = vec![true; n];
        let mut heap = BinaryHeap::new();
        let candidate = |end: &[usize], s: usize| -> Option<Reverse<(u32, usize, usize, usize)>> {
            let m = end[s];
            let e = *end.get(m)?;
            self.0.get(&token[s..e]).map(|&r| Reverse((r, s, m, e)))
        };
        heap.extend((0..n - 1).filter_map(|s| candidate(&end, s)));
        let mut parts = n;
        while parts > 2 {
            let Reverse((_, s, m, e)) = heap.pop()?;
            if !alive[s] || end[s] != m || !alive[m] || end[m] != e {
                continue;
            }
            end[s] = e;
            alive[m] = false;
            if e < n {
                prev[e] = s;
            }
            parts -= 1;
            if prev[s] != NONE {
                heap.extend(candidate(&end, prev[s]));
            }
            heap.extend(candidate(&end, s));
        }
        Some(end[0])
    }
}

/// For each ranked token of two or more bytes, in rank order: the token and its split
/// ([`RankOf::split`]; None for a token fastbpe builds only as a whole pre-token).
pub fn splits(tok: &Tokenizer) -> Vec<(&RankedToken, Option<usize>)> {
    let rank_of = RankOf::new(tok.ranked());
    tok.ranked()
        .iter()
        .filter(|t| t.bytes.len() >= 2)
        .map(|t| (t, rank_of.split(&t.bytes)))
        .collect()
}

/// The merge list of a rank-defined (tiktoken) tokenizer: each token's split, in rank order. It
/// reproduces GPT-2's `vocab.bpe` from `r50k_base.tiktoken` exactly (tested).
///
/// An error when some token is never built by merging (no merge list can express it).
pub fn merges_from_ranks(tok: &Tokenizer) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    splits(tok)
        .into_iter()
        .map(|(t, split)| match split {
            Some(at) => Ok((t.bytes[..at].to_vec(), t.bytes[at..].to_vec())),
            None => Err(Error::value(format!(
                "token {:?} (rank {}) is not what byte-pair merging its own bytes gives, so \
                 this vocabulary has no merge list",
                String::from_utf8_lossy(&t.bytes),
                t.rank
            ))),
        })
        .collect()
}

/// The merges to write for `tok`: the ones it was built from, else [`merges_from_ranks`].
pub fn merges_of(tok: &Tokenizer) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    match tok.merges() {
        Some(m) => Ok(m.to_vec()),
        None => merges_from_ranks(tok),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretokenize::GPT2_PATTERN;

    fn tok(extra: &[&[u8]]) -> Tokenizer {
        let mut ranked: Vec<RankedToken> = (0..=255u8)
            .map(|b| RankedToken {
                bytes: vec![b],
                id: b as u32,
                rank: b as u32,
            })
            .collect();
        for (i, t) in extra.iter().enumerate() {
            let r = 256 + i as u32;
            ranked.push(RankedToken {
                bytes: t.to_vec(),
                id: r,
                rank: r,
            });
        }
        Tokenizer::from_ranked(ranked, vec![], GPT2_PATTERN, None, vec![]).unwrap()
    }

    #[test]
    fn split_follows_the_rank_rule_not_the_listing() {
        // "bc" ranks before "ab": "abc" is built as a + bc.
        let t = tok(&[b"bc", b"ab", b"abc"]);
        let m = merges_from_ranks(&t).unwrap();
        assert_eq!(m[2], (b"a".to_vec(), b"bc".to_vec()));
        // "xyz" with neither "xy" nor "yz" ranked is never built by merging.
        let t = tok(&[b"xyz"]);
        assert!(merges_from_ranks(&t)
            .unwrap_err()
            .to_string()
            .contains("xyz"));
        assert_eq!(splits(&t)[0].1, None);
    }

    #[test]
    fn long_tokens_are_fast_and_split_where_the_naive_loop_does() {
        // "a" * 2^k built by doubling: the split is the middle.
        let mut extra: Vec<Vec<u8>> = Vec::new();
        for k in 1..=17 {
            extra.push(vec![b'a'; 1 << k]);
        }
        let refs: Vec<&[u8]> = extra.iter().map(|v| v.as_slice()).collect();
        let t = tok(&refs);
        let m = merges_from_ranks(&t).unwrap();
        assert_eq!(m.last().unwrap().0.len(), 1 << 16);
        // Leftmost on ties: "aaa" with only "aa" ranked merges the first two.
        let t = tok(&[b"aa", b"aaa"]);
        assert_eq!(
            merges_from_ranks(&t).unwrap()[1],
            (b"aa".to_vec(), b"a".to_vec())
        );
    }
}
