//! The order in which pairs are merged: the one home of the training rule's ranking.
//!
//! Rule (Stanford CS336's): the pair with the higher count first; ties go to the lexicographically
//! greater `(left_bytes, right_bytes)` (left compared first, as Python compares tuples of bytes).
//! Another rule (rustbpe's smaller-ids-first, say) is an edit of [`Candidate::cmp`] alone: the
//! heap and the merge loop only ask [`Candidate::outranks`].
//!
//! The tie-break compares token byte strings, and only when counts are equal; no global order of
//! tokens is kept (it would change as tokens are added). The left token's first 8 bytes ride in
//! the candidate, so most ties are settled without touching token bytes.

use std::cmp::Ordering;

use super::pairs::{unpack, Pair, PairCount};
use super::tokens::Tokens;

/// A pair with the count it had when this candidate was made (a heap entry).
#[derive(Clone, Copy, Debug)]
pub(super) struct Candidate {
    pub(super) count: PairCount,
    pub(super) pair: Pair,
    /// `Tokens::prefix` of the left token.
    left_prefix: u64,
}

impl Candidate {
    #[inline]
    pub(super) fn new(count: PairCount, pair: Pair, tok: &Tokens) -> Self {
        Candidate {
            count,
            pair,
            left_prefix: tok.prefix(unpack(pair).0),
        }
    }

    /// The same pair with another count.
    #[inline]
    pub(super) fn with_count(self, count: PairCount) -> Self {
        Candidate { count, ..self }
    }

    /// `Greater` when `self` is merged before `other`.
    #[inline]
    pub(super) fn cmp(&self, other: &Candidate, tok: &Tokens) -> Ordering {
        self.count
            .cmp(&other.count)
            .then_with(|| self.left_prefix.cmp(&other.left_prefix))
            .then_with(|| {
                let (al, ar) = unpack(self.pair);
                let (bl, br) = unpack(other.pair);
                tok.get(al)
                    .cmp(tok.get(bl))
                    .then_with(|| tok.get(ar).cmp(tok.get(br)))
            })
    }

    #[inline]
    pub(super) fn outranks(&self, other: &Candidate, tok: &Tokens) -> bool {
        self.cmp(other, tok) == Ordering::Greater
    }
}
