"""cl100k_base's pre-tokenizer (a hand-written scanner in Rust) gives tiktoken's ids.

Offline, with GPT-2's ranks under cl100k's pattern: the ids depend on every piece boundary, so
equal ids mean equal pieces. With the real cl100k_base file too, when tiktoken's cache has it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import fastbpe
import pytest
import tiktoken
from conftest import gpt2_ranks_under, read_tiktoken_ranks
from fastbpe import _fastbpe, patterns
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_the_scanner_is_selected_for_tiktokens_pattern():
    # The Rust core picks the scanner by string equality; tests/test_registry.py checks
    # patterns.CL100K_PATTERN against the installed tiktoken.
    assert patterns.CL100K_PATTERN == _fastbpe.CL100K_PATTERN


@pytest.fixture(scope="module")
def pair(gpt2_files):
    return gpt2_ranks_under(gpt2_files, patterns.CL100K_PATTERN, "gpt2-ranks-cl100k-pattern")


def test_varied_text(pair, varied_text):
    fast, tik = pair
    assert fast.encode_ordinary(varied_text) == tik.encode_ordinary(varied_text)
    lines = varied_text.splitlines(keepends=True)[:3000]
    assert fast.encode_ordinary_batch(lines) == [tik.encode_ordinary(t) for t in lines]


# The pattern's own corners: case-insensitive contractions (U+017F folds to s, U+212A to k),
# digit groups of three, a non-newline char before letters, Other runs that take \r\n, and the
# `\s*[\r\n]` rule.
FRAGMENTS = [
    "'s",
    "'S",
    "'\u017f",
    "'LL",
    "'lL",
    "'Ve",
    "'RE",
    "'d",
    "'M",
    "'t",
    "'",
    "'x",
    "\u212a",
    "a",
    "Z",
    "é",
    "e\u0301",
    "\u0301",
    "中",
    "я",
    "ª",
    "1",
    "12",
    "1234",
    "٣",
    "²",
    "½",
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\u00a0",
    "\u3000",
    "\u0085",
    "\u2028",
    "\x0b",
    ".",
    "!",
    "(",
    "$",
    "-",
    "/",
    "😀",
    "\u200d",
    "<|endoftext|>",
    "\x00",
]
fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
any_text = st.text(max_size=200)
spacey_text = st.text(st.sampled_from(" \t\n\r\u00a0\u3000a1.'sSL"), max_size=200)


@SETTINGS
@given(st.one_of(fragment_text, any_text, spacey_text))
@example("'\u017fx 'LL  \t\u00a0foo 12345 .\r\n\r\n  \n y")
@example("\n\n  x")
@example("a \n\n b  ")
def test_hypothesis_ids(pair, text):
    fast, tik = pair
    assert fast.encode_ordinary(text) == tik.encode_ordinary(text)


def _cached_cl100k() -> Path | None:
    """The real cl100k_base.tiktoken in tiktoken's cache, if it is there (tests never download)."""
    url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    name = hashlib.sha1(url.encode()).hexdigest()
    for d in (os.environ.get("TIKTOKEN_CACHE_DIR"), os.environ.get("DATA_GYM_CACHE_DIR")):
        if d and (Path(d) / name).is_file():
            return Path(d) / name
    return None


def test_real_cl100k_ranks_when_cached(varied_text):
    path = _cached_cl100k()
    if path is None:
        pytest.skip("cl100k_base.tiktoken is not in tiktoken's cache (tests do not download)")
    ranks = read_tiktoken_ranks(path)
    specials = {"<|endoftext|>": 100257}
    tik = tiktoken.Encoding(
        "cl100k_base",
        pat_str=patterns.CL100K_PATTERN,
        mergeable_ranks=ranks,
        special_tokens=specials,
    )
    fast = fastbpe.Tokenizer.from_ranks(ranks, specials, pattern=patterns.CL100K_PATTERN)
    assert fast.encode_ordinary(varied_text) == tik.encode_ordinary(varied_text)
