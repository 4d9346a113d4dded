"""Batches of generated texts give the ids of encoding each text alone, in order, on any thread
count: empty texts, many tiny ones, and texts large enough to be cut into parts at safe cuts
and spread over several chunks (rust/src/tokenizer/batch/plan.rs; parts start past 32 KB)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Pieces that meet at every kind of boundary the cut rule decides on: whitespace runs, \r\n,
# letters, digits, contractions, non-ASCII letters and spaces, and special-token text (whole and
# broken), so cuts land next to all of them.
PIECES = [
    "a",
    "bc",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    " x",
    "'s",
    "'ll",
    "é",
    "日本",
    "🙂",
    "1",
    "234",
    "<|endoftext|>",
    "<|endof",
    "text|>",
    "\u00a0",
    "\u3000",
    "!?",
    "...",
    " \n ",
]
piece = st.lists(st.sampled_from(PIECES), max_size=24).map("".join)
# A repeated piece: up to ~400 KB, past the size from which batches split a text.
large = st.tuples(piece, st.integers(1, 12_000)).map(lambda p: p[0] * p[1])
text = st.one_of(piece, piece, large)
batches = st.one_of(
    st.lists(text, max_size=12),
    st.lists(piece, min_size=900, max_size=2500),  # many tiny texts (and the GC pause)
    st.tuples(large, st.lists(piece, max_size=30)).map(lambda p: [p[0] * 3, *p[1]]),
)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(batch=batches, threads=st.sampled_from([1, 2, 3]))
def test_ordinary_batch_equals_each_text(gpt2_fastbpe, batch, threads):
    want = [gpt2_fastbpe.encode_ordinary(t) for t in batch]
    assert gpt2_fastbpe.encode_ordinary_batch(batch, num_threads=threads) == want


@SETTINGS
@given(batch=batches, threads=st.sampled_from([1, 2, 3]))
def test_batch_with_special_tokens_equals_each_text(gpt2_fastbpe, batch, threads):
    # Special tokens recognized: no cut may fall inside one.
    want = [gpt2_fastbpe.encode(t, allowed_special="all") for t in batch]
    got = gpt2_fastbpe.encode_batch(batch, num_threads=threads, allowed_special="all")
    assert got == want


@SETTINGS
@given(batch=batches, threads=st.sampled_from([1, 2]))
def test_numpy_batch_equals_each_text(gpt2_fastbpe, batch, threads):
    ids, offsets = gpt2_fastbpe.encode_batch_to_numpy(
        batch, num_threads=threads, disallowed_special=()
    )
    assert len(offsets) == len(batch) + 1
    got = [ids[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
    assert got == [gpt2_fastbpe.encode_ordinary(t) for t in batch]
    assert offsets.dtype == np.int64


def test_one_huge_text_among_small_ones(gpt2_fastbpe, varied_text):
    # ~4 MB: cut into many parts over chunks of shrinking size, beside tiny and empty texts.
    huge = (varied_text * (4_000_000 // len(varied_text) + 1))[:4_000_000]
    batch = ["", "x", huge, "", huge[:70_000], " "]
    want = [gpt2_fastbpe.encode_ordinary(t) for t in batch]
    for threads in (1, 2, 4):
        assert gpt2_fastbpe.encode_ordinary_batch(batch, num_threads=threads) == want


class _Str(str):
    pass


# Batch items of every kind: text, text with a lone surrogate (which UTF-8 cannot hold, so the
# core refuses it and the wrapper retries with U+FFFD), a str subclass, and things that are not
# text. The core checks the types as it takes the texts (rust/src/py/args.rs, `texts`).
_ITEMS = st.one_of(
    st.text(max_size=8),
    st.text(max_size=4).map(lambda t: t + "\ud800"),
    st.text(max_size=4).map(_Str),
    st.sampled_from([3, b"ab", None, 1.5, ["a"]]),
)


@SETTINGS
@given(items=st.lists(_ITEMS, max_size=12))
def test_batch_item_types_are_checked_whatever_comes_first(gpt2_fastbpe, items):
    bad = [i for i in items if not isinstance(i, str)]
    calls = [
        lambda: gpt2_fastbpe.encode_ordinary_batch(items),
        lambda: gpt2_fastbpe.encode_batch_to_numpy(items, disallowed_special=()),
    ]
    for call in calls:
        if bad:
            with pytest.raises(TypeError, match=f"got {type(bad[0]).__name__}$"):
                call()
    if not bad:
        want = [gpt2_fastbpe.encode_ordinary(t) for t in items]
        assert gpt2_fastbpe.encode_ordinary_batch(items) == want
