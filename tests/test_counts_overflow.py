"""Counts near 2**64: one count type, saturating, everywhere (issue 9.6).

Word counts are u64 and saturate at 2**64 - 1 (`WordCounts.add`, `update`); pair counts, which are
sums of word counts, are exact (u128 in the merge loop), so the most frequent pair is the true one
even when the sum passes 2**64 (a u64 sum would wrap and lose it). Checked against the slow Python
reference, whose ints never overflow.
"""

from __future__ import annotations

from fastbpe import training as T
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_bpe import train_from_counts as reference

MAX = 2**64 - 1

counts_near_max = st.one_of(
    st.integers(1, 50),
    st.integers(MAX - 1000, MAX),
    st.integers(2**63 - 5, 2**63 + 5),
    st.integers(2**62, 2**64 - 2),
)
words = st.binary(min_size=1, max_size=6).map(lambda b: bytes(x % 4 + 97 for x in b))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(words, counts_near_max), min_size=1, max_size=12), st.integers(1, 12))
def test_huge_counts_train_like_the_reference(items, n_merges):
    wc = T.WordCounts()
    expect: dict[bytes, int] = {}
    for w, n in items:
        wc.add(w, n)
        expect[w] = min(MAX, expect.get(w, 0) + n)  # saturating, like WordCounts
    assert dict(wc.items()) == expect
    for threads in (1, 2):
        got = T.train_from_counts(wc, 256 + n_merges, [], threads=threads)
        assert got == reference(expect, 256 + n_merges, [])


@given(st.lists(counts_near_max, min_size=1, max_size=6))
def test_word_counts_saturate_on_add_and_update(ns):
    a, b = T.WordCounts(), T.WordCounts()
    for n in ns:
        a.add(b"w", n)
        b.add(b"w", n)
    assert a.get(b"w") == min(MAX, sum(ns))
    a.update(b)
    assert a.get(b"w") == min(MAX, 2 * sum(ns))
    assert a.total() == min(MAX, 2 * sum(ns))


def test_two_words_whose_pair_sum_passes_2_64():
    # (a, b) occurs MAX + MAX times in all: wrapping would make it smaller than (c, d)'s 10.
    wc = T.WordCounts()
    wc.add(b"ab", MAX)
    wc.add(b"abx", MAX)
    wc.add(b"cd", 10)
    _, merges = T.train_from_counts(wc, 257, [])
    assert merges == [(b"a", b"b")]
