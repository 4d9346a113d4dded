"""The core's own UTF-8 of long strs that Python stores 2 or 4 bytes a character
(rust/src/py/text.rs, rust/src/utf8_from_units.rs): exactly `str.encode`'s bytes, and the same
ids as tiktoken, on generated text of every storage width, with and without lone surrogates.
Short strs and 1-byte ones keep Python's conversion; both sides of that threshold are met."""

from __future__ import annotations

import numpy as np
import pytest
from fastbpe import _fastbpe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# 4096 characters: from there the core transcodes (`TRANSCODE_FROM`).
FROM = 4096
SETTINGS = settings(
    max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

# Characters of each UTF-8 width, runs of ASCII (the transcoder's block path) and surrogates.
ALPHABET = st.one_of(
    st.characters(max_codepoint=0x7F),
    st.characters(min_codepoint=0x80, max_codepoint=0x7FF),
    st.characters(min_codepoint=0x800, max_codepoint=0xFFFF, exclude_categories=("Cs",)),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
)
RUNS = st.lists(
    st.one_of(st.text(ALPHABET, max_size=40), st.sampled_from(["a" * 16, " " * 33, "x" * 17])),
    max_size=30,
).map("".join)
# Forces 1 (Latin-1), 2 or 4 bytes a character, or leaves the text's own.
WIDE = st.sampled_from(["", "é", "ā", "日", "😀"])


def outcome(call):
    try:
        return ("ok", call())
    except UnicodeEncodeError as e:
        return ("UnicodeEncodeError", e.reason)


@SETTINGS
@given(text=RUNS, wide=WIDE, surrogate=st.sampled_from([None, "\ud800", "\udfff"]))
def test_core_utf8_is_str_encode(text, wide, surrogate):
    for s in (text + wide, wide + text):
        if surrogate is not None:
            s = s[: len(s) // 2] + surrogate + s[len(s) // 2 :]
        assert outcome(lambda s=s: _fastbpe.utf8_bytes(s)) == outcome(lambda s=s: s.encode())


@SETTINGS
@given(text=RUNS, wide=WIDE, pad=st.sampled_from([0, FROM - 1, FROM]), surrogate=st.booleans())
def test_long_texts_of_every_width_match_tiktoken(
    gpt2_fastbpe, gpt2_tiktoken, text, wide, pad, surrogate
):
    # `pad` brings the text to either side of the threshold; a surrogate sends it to the retry.
    s = "y" * max(0, pad - len(text) - len(wide)) + text + wide
    if surrogate:
        s = s[: len(s) // 2] + "\udc80" + s[len(s) // 2 :]
    assert gpt2_fastbpe.encode_ordinary(s) == gpt2_tiktoken.encode_ordinary(s)
    assert gpt2_fastbpe.encode(s, disallowed_special=()) == gpt2_tiktoken.encode(
        s, disallowed_special=()
    )
    got = gpt2_fastbpe.encode_to_numpy(s, disallowed_special=())
    assert got.tolist() == gpt2_tiktoken.encode(s, disallowed_special=())


@pytest.mark.parametrize("wide", ["ā", "😀"])
def test_specials_and_the_disallowed_check_on_a_transcoded_text(gpt2_fastbpe, gpt2_tiktoken, wide):
    s = (wide + " words <|endoftext|> more ") * 2000
    want = gpt2_tiktoken.encode(s, allowed_special="all")
    assert gpt2_fastbpe.encode(s, allowed_special="all") == want
    assert np.array_equal(gpt2_fastbpe.encode_to_numpy(s, allowed_special="all"), want)
    with pytest.raises(ValueError, match="<\\|endoftext\\|>"):
        gpt2_fastbpe.encode(s)
    with pytest.raises(ValueError, match="<\\|endoftext\\|>"):
        gpt2_tiktoken.encode(s)


def python_utf8(s: str) -> str:
    """`s` after Python has made and kept its UTF-8 (as PyO3's `&str` and tiktoken do), which
    the core then takes instead of transcoding; `sys.getsizeof` shows the kept copy."""
    import ctypes
    import sys

    f = ctypes.pythonapi.PyUnicode_AsUTF8AndSize
    f.restype, f.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_void_p]
    f(s, None)
    top = max(map(ord, s), default=0)
    width = 4 if top > 0xFFFF else 2 if top > 0xFF else 1
    assert sys.getsizeof(s) >= (len(s) + 1) * width + len(s.encode())
    return s


@SETTINGS
@given(
    texts=st.lists(st.tuples(RUNS, WIDE, st.sampled_from([0, FROM])), min_size=1, max_size=5),
    cached=st.booleans(),
    surrogate=st.booleans(),
)
def test_batches_of_long_wide_texts_match_tiktoken(
    gpt2_fastbpe, gpt2_tiktoken, texts, cached, surrogate
):
    batch = [(t + w) * (1 + pad // max(1, len(t + w))) for t, w, pad in texts]
    if cached:
        batch = [python_utf8(s) if len(s) != len(s.encode()) else s for s in batch]
    if surrogate:  # the last text gets a lone surrogate (it then goes to the wrapper's retry)
        batch[-1] = batch[-1][: len(batch[-1]) // 2] + "\udc80" + batch[-1][len(batch[-1]) // 2 :]
    want = [gpt2_tiktoken.encode_ordinary(s) for s in batch]
    assert gpt2_fastbpe.encode_ordinary_batch(batch, num_threads=2) == want
    assert gpt2_fastbpe.encode_batch(batch, disallowed_special=(), num_threads=2) == want
    ids, offsets = gpt2_fastbpe.encode_batch_to_numpy(batch, allowed_special=set(), num_threads=2)
    assert [ids[a:b].tolist() for a, b in zip(offsets, offsets[1:])] == want


@pytest.mark.parametrize("wide", ["ā", "😀"])
def test_a_text_whose_utf8_python_already_made(gpt2_fastbpe, gpt2_tiktoken, wide):
    s = python_utf8((wide + " the cat, " + wide * 3) * 1000)
    assert gpt2_fastbpe.encode_ordinary(s) == gpt2_tiktoken.encode_ordinary(s)


class OddStr(str):
    """A str subclass whose own `__sizeof__` lies or raises and whose `isascii` lies: only
    `str`'s own methods are asked."""

    lie: object

    def __new__(cls, text: str, lie: object) -> OddStr:
        self = super().__new__(cls, text)
        self.lie = lie
        return self

    def __sizeof__(self):  # type: ignore[override]
        if isinstance(self.lie, Exception):
            raise self.lie
        return self.lie

    def isascii(self):  # type: ignore[override]
        return not self.isascii_truth()

    def isascii_truth(self) -> bool:
        return str.isascii(self)


@pytest.mark.parametrize("lie", [0, 10**12, RuntimeError("no")])
@pytest.mark.parametrize("wide", ["é", "ā", "😀"])
def test_str_subclasses_are_read_whatever_their_sizeof_says(gpt2_fastbpe, gpt2_tiktoken, lie, wide):
    s = OddStr(f"{wide} words " * 1000, lie)
    assert gpt2_fastbpe.encode_ordinary(s) == gpt2_tiktoken.encode_ordinary(str(s))
    assert gpt2_fastbpe.encode_ordinary_batch([s, s]) == [gpt2_tiktoken.encode_ordinary(str(s))] * 2
