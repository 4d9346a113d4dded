"""Long single pieces (>= 128 bytes: the Rust heap encoder, rust/src/encode/heap.rs) give
tiktoken's ids: uniform runs of every length in a range (the run-length path, heap/runs.rs),
pieces of a few long runs, random digit and letter pieces (the rank queue), and toy
vocabularies whose merge ranks fall (the binary-heap fallback), all against tiktoken with the
same ranks. GPT-2's ranks work offline; cl100k_base's real file is used when the tests'
tiktoken cache has it (conftest seeds it from the bpe-openai wheel)."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import fastbpe
import pytest
import tiktoken
from conftest import assert_same_ids, read_tiktoken_ranks
from fastbpe import patterns
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LONG_PIECE = 128  # rust/src/encode/mod.rs: pieces this long go to the heap encoder
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ONE_PIECE = r"(?s).+"  # a pattern that keeps the whole text as one piece (toy vocabularies)


LENGTHS = range(LONG_PIECE - 8, 400)
# Around powers of two (the queue's buckets and the Ctrl-C poll interval) and long ones.
LONG_LENGTHS = [n + d for n in (1024, 4096, 65536) for d in (-1, 0, 1)] + [10_007, 100_001]
LONG_CHARS = " \n\ta=-_0^*#."


def _check_runs(fast, tik, chars: list[str], what: str) -> None:
    """Every length in LENGTHS for each of `chars`; LONG_LENGTHS for those in LONG_CHARS."""
    for c in chars:
        for n in [*LENGTHS, *(LONG_LENGTHS if c in LONG_CHARS else [])]:
            assert_same_ids(c * n, fast.encode_ordinary, tik.encode_ordinary, f"{what} {c!r}*{n}")


def _run_chars(ranks: dict[bytes, int]) -> list[str]:
    """ASCII characters with at least one multi-character run token (where runs merge at all),
    plus a few without."""
    with_runs = [chr(b) for b in range(128) if bytes([b]) * 2 in ranks]
    without = [chr(b) for b in range(128) if bytes([b]) * 2 not in ranks][:4]
    return with_runs + without


@pytest.fixture(scope="module")
def gpt2_ranks(gpt2_files) -> dict[bytes, int]:
    return read_tiktoken_ranks(gpt2_files["r50k_base.tiktoken"])


def test_uniform_runs_gpt2(gpt2_fastbpe, gpt2_tiktoken, gpt2_ranks):
    _check_runs(gpt2_fastbpe, gpt2_tiktoken, _run_chars(gpt2_ranks), "gpt2")


def _cached_cl100k() -> Path | None:
    url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    name = hashlib.sha1(url.encode()).hexdigest()
    d = os.environ.get("TIKTOKEN_CACHE_DIR")
    return Path(d) / name if d and (Path(d) / name).is_file() else None


def test_uniform_runs_cl100k_real_ranks(gpt2_files):
    path = _cached_cl100k()
    if path is None:
        pytest.skip("cl100k_base.tiktoken is not in the tests' tiktoken cache (no bpe-openai)")
    ranks = read_tiktoken_ranks(path)
    fast = fastbpe.get_encoding("cl100k_base")
    tik = tiktoken.get_encoding("cl100k_base")
    _check_runs(fast, tik, _run_chars(ranks), "cl100k")
    # A million: tiktoken's regex overflows its stack on these, so its ids come from its
    # regex-free single-piece entry (each text below is one piece under cl100k's pattern).
    for text in (" " * 999_999, "\n" * 1_000_000, "^" * 1_000_000, "a" * 100_000):
        assert fast.encode_ordinary(text) == tik._encode_single_piece(text.encode())


def _toy(merges: list[str]) -> tuple[fastbpe.Tokenizer, tiktoken.Encoding]:
    """All 256 bytes (ranks 0..255), then `merges` in rank order; one piece per text."""
    ranks = {bytes([b]): b for b in range(256)}
    for i, m in enumerate(merges):
        ranks[m.encode()] = 256 + i
    fast = fastbpe.Tokenizer.from_ranks(ranks, {}, pattern=ONE_PIECE)
    tik = tiktoken.Encoding("toy", pat_str=ONE_PIECE, mergeable_ranks=ranks, special_tokens={})
    return fast, tik


# Growing ranks; falling ranks ("aaaa" before "aa": the rank queue gives up, the binary heap
# runs); runs where odd lengths merge first; pairs across run borders ("ab", "ba").
TOY_VOCABULARIES = [
    ["aa", "aaaa", "aaaaaaaa"],
    ["aa", "aaaa", "aaa", "aaaaaaaa", "aaaaaaa", "aaaaa", "aaaaaa"],
    ["aaaa", "aa", "aaaaaaaa", "aaa"],
    ["aaa", "aaaaaa", "aa", "aaaaaaaaa"],
    ["aa", "aaaaa", "aaa", "aaaaaaaaaa", "aaaa"],
    ["aaaa", "aaaaaaaaaa", "aaaaaaaa", "aaaaaaaaaaa", "aa"],  # needs runs.rs's (T, T) check
    ["bab", "bbaba", "ba"],  # needs the check of a border merge's right neighbour
    ["ab", "aa", "bb", "aab", "abb", "abab", "aaaa", "bbbb", "ba", "baba"],
    ["aaaa", "bb", "aa", "ab", "ba", "bab", "aba", "abab", "bbbb", "aab"],
]


@pytest.mark.parametrize("merges", TOY_VOCABULARIES)
def test_toy_uniform_runs_every_length(merges):
    fast, tik = _toy(merges)
    for n in range(0, 2500):
        assert_same_ids("a" * n, fast.encode_ordinary, tik.encode_ordinary, f"{merges} a*{n}")


def _few_runs(alphabet: str):
    """Texts of 1-8 runs of one character each, runs of 1-400."""
    run = st.tuples(st.sampled_from(alphabet), st.integers(1, 400)).map(lambda t: t[0] * t[1])
    return st.lists(run, min_size=1, max_size=8).map("".join)


@pytest.mark.parametrize("merges", TOY_VOCABULARIES[6:])
@SETTINGS
@given(data=st.data())
def test_toy_few_runs(merges, data):
    fast, tik = _toy(merges)
    text = data.draw(_few_runs("abc"))
    assert_same_ids(text, fast.encode_ordinary, tik.encode_ordinary)


@SETTINGS
@given(text=_few_runs(" \n=-_*#.0aZ"))
def test_gpt2_few_runs(gpt2_fastbpe, gpt2_tiktoken, text):
    assert_same_ids(text, gpt2_fastbpe.encode_ordinary, gpt2_tiktoken.encode_ordinary)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(LONG_PIECE, 5000), kind=st.integers(0, 2))
def test_gpt2_random_long_pieces(gpt2_fastbpe, gpt2_tiktoken, seed, n, kind):
    # One piece each under GPT-2's pattern: digits (` ?\p{N}+`), letters from a small
    # alphabet (many merges), punctuation (` ?[^\s\p{L}\p{N}]+`).
    alphabet = ["0123456789", "etaoinsh", "=-_*#.!?"][kind]
    rnd = random.Random(seed)
    text = "".join(rnd.choice(alphabet) for _ in range(n))
    assert_same_ids(text, gpt2_fastbpe.encode_ordinary, gpt2_tiktoken.encode_ordinary)


def test_gpt2_one_million_digits(gpt2_fastbpe, gpt2_tiktoken):
    rnd = random.Random(7)
    text = "".join(rnd.choice("0123456789") for _ in range(1_000_000))
    assert gpt2_fastbpe.encode_ordinary(text) == gpt2_tiktoken.encode_ordinary(text)


def test_cl100k_pattern_gpt2_ranks_runs(gpt2_ranks):
    # cl100k's pattern (whitespace and newline runs split differently) with GPT-2's ranks:
    # offline, so it runs everywhere.
    fast = fastbpe.Tokenizer.from_ranks(gpt2_ranks, {}, pattern=patterns.CL100K_PATTERN)
    tik = tiktoken.Encoding(
        "gpt2-cl100k",
        pat_str=patterns.CL100K_PATTERN,
        mergeable_ranks=gpt2_ranks,
        special_tokens={},
    )
    _check_runs(fast, tik, [" ", "\n", "a", "=", "-"], "gpt2 ranks, cl100k pattern")
