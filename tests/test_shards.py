"""Shards (`fastbpe.shards`, `--shard I/N`): boundaries only at safe points, and N shards together
give exactly the single-process counts and ids, for generated texts, special tokens and N."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile

import fastbpe
import numpy as np
import pytest
from fastbpe import shards
from fastbpe.cli import main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SPECIAL_SETS = [(), ("<|e|>",), ("<|e|>", "<|e|><|e|>", "<x>")]
ALPHABET = [
    "a",
    "b",
    "é",
    "世",
    "😀",
    " ",
    "  ",
    "\n",
    "\t",
    "\r\n",
    "1",
    ".",
    "'s",
    "<|e|>",
    "<x>",
    "<|",
]


# GPT-2's pattern (the hand-written scanner) and a cl100k-style one (fancy-regex; the cut rule
# verifies each candidate against it).
PATTERNS = [
    None,
    r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+",
]


@functools.cache
def tokenizer(specials: tuple[str, ...], pattern: str | None = None) -> fastbpe.Tokenizer:
    text = "".join(ALPHABET) * 30
    return fastbpe.train(iter([text, "a b ab ba aab"]), 300, list(specials), pattern=pattern)


texts = st.lists(
    st.lists(st.sampled_from(ALPHABET), max_size=60).map("".join), min_size=1, max_size=3
)


def write(d: str, contents: list[str]) -> list[str]:
    paths = []
    for i, c in enumerate(contents):
        p = os.path.join(d, f"f{i}.txt")
        with open(p, "w", encoding="utf-8", newline="") as f:
            f.write(c)
        paths.append(p)
    return paths


@pytest.fixture
def small_blocks(monkeypatch):
    """Tiny blocks and windows, so that inputs of a few hundred bytes exercise every path."""
    monkeypatch.setattr(shards, "BLOCK", 7)
    monkeypatch.setattr(shards, "_WINDOW", 5)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    contents=texts,
    n=st.integers(1, 9),
    which=st.integers(0, len(SPECIAL_SETS) - 1),
    by_docs=st.booleans(),
    pattern=st.sampled_from(PATTERNS),
)
def test_shards_equal_one_process(small_blocks, contents, n, which, by_docs, pattern):
    specials = list(SPECIAL_SETS[which])
    tok = tokenizer(SPECIAL_SETS[which], pattern)
    with tempfile.TemporaryDirectory() as d:
        paths = write(d, contents)
        plan = shards.plan(paths, n_shards=n, pattern=pattern, special_tokens=specials)
        assert len(plan) == n
        assert plan == shards.plan(paths, n_shards=n, pattern=pattern, special_tokens=specials)
        # Every byte exactly once, in order.
        covered = [(p.file_index, p.start, p.end) for s in plan for p in s.pieces]
        for i, path in enumerate(paths):
            mine = [(a, b) for f, a, b in covered if f == i]
            size = os.path.getsize(path)
            assert mine[0][0] == 0 and mine[-1][1] == size
            assert all(x[1] == y[0] for x, y in zip(mine, mine[1:]))
        # No boundary inside a character or a special token.
        for s in plan:
            for p in s.pieces:
                data = open(p.path, "rb").read()
                for cut in (p.start, p.end):
                    assert cut == len(data) or (data[cut] & 0xC0) != 0x80
                    for sp in specials:
                        b = sp.encode()
                        starts = [i for i in range(len(data)) if data.startswith(b, i)]
                        assert not any(i < cut < i + len(b) for i in starts), (sp, cut)
        # Counts: merged shards == the whole.
        merged = fastbpe.WordCounts()
        for s in plan:
            merged.update(shards.count_shard(s, specials, pattern=pattern))
        assert merged.items() == fastbpe.count_words(paths, specials, pattern=pattern).items()
        # Ids: shards concatenated == encode_file (separator between files included).
        whole = os.path.join(d, "whole.npy")
        sep = specials[0] if specials else None
        fastbpe.encode_file(tok, paths, whole, separator=sep)
        doc = "<|e|>" if by_docs and specials else None  # boundaries after documents
        eplan = shards.plan(
            paths,
            n_shards=n,
            pattern=tok.pattern,
            special_tokens=sorted(tok.special_tokens),
            doc_token=doc,
        )
        parts = []
        for s in eplan:
            out = os.path.join(d, f"s{s.index}.npy")
            shards.encode_shard(tok, s, out, separator=sep)
            parts.append(np.load(out))
        assert np.array_equal(np.concatenate(parts), np.load(whole))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(contents=texts, size=st.integers(1, 50))
def test_shard_bytes_drops_empty_shards_and_texts_are_whole(small_blocks, contents, size):
    with tempfile.TemporaryDirectory() as d:
        paths = write(d, contents)
        plan = shards.plan(paths, shard_bytes=size, special_tokens=["<|e|>"])
        assert all(s.nbytes > 0 for s in plan) or len(plan) == 1
        cuts = shards.cutter(None, ["<|e|>"])
        got = ["".join(shards.iter_texts(p, cuts)) for s in plan for p in s.pieces]
        by_file: dict[int, str] = {}
        for s in plan:
            for p, t in zip(s.pieces, got[: len(s.pieces)]):
                by_file[p.file_index] = by_file.get(p.file_index, "") + t
            got = got[len(s.pieces) :]
        assert [by_file.get(i, "") for i in range(len(paths))] == contents


def test_independent_processes_agree_on_the_plan(tmp_path):
    paths = write(str(tmp_path), ["ab cd\n" * 5000 + "é世 " * 3000, "x" * 100 + " y\n" * 999])
    mine = shards.plan(paths, n_shards=7, special_tokens=["<|e|>"])
    code = (
        "import sys, fastbpe.shards as s; "
        "print([[(p.file_index, p.start, p.end) for p in x.pieces] "
        "for x in s.plan(sys.argv[1:], n_shards=7, special_tokens=['<|e|>'])])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = subprocess.run(
        [sys.executable, "-c", code, *paths], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == str(
        [[(p.file_index, p.start, p.end) for p in x.pieces] for x in mine]
    )


def test_invalid_utf8_names_file_and_offset(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"hello world\n" * 100 + b"\xff tail\n")
    plan = shards.plan([str(p)], n_shards=3)
    with pytest.raises(ValueError, match=r"bad.txt: invalid UTF-8 at byte offset 1200"):
        for s in plan:
            shards.count_shard(s)
    with pytest.raises(ValueError, match=r"bad.txt: invalid UTF-8 at byte offset 1200"):
        fastbpe.count_words(str(p))


def test_bad_specs_and_paths(tmp_path):
    for spec in ["1", "a/b", "3/3", "-1/2", "0/0"]:
        with pytest.raises(ValueError, match="I/N"):
            shards.parse_shard_spec(spec)
    assert shards.parse_shard_spec("2/8") == (2, 8)
    with pytest.raises(FileNotFoundError):
        shards.plan([str(tmp_path / "missing.txt")], n_shards=2)
    with pytest.raises(IsADirectoryError):
        shards.plan([str(tmp_path)], n_shards=2)


@pytest.mark.parametrize(
    "fmt, flags",
    [(None, ["--separator", "<|endoftext|>"]), ("megatron", []), (None, ["--no-special"])],
)
def test_cli_encode_shards_concatenate_to_the_whole(tmp_path, fmt, flags):
    paths = write(
        str(tmp_path),
        ["The cat sat.\n<|endoftext|>A dog ran.\n" * 400, "", "tail é世 words " * 300],
    )
    whole = str(tmp_path / "whole.npy")
    assert main(["encode", "-t", "gpt2", *paths, "-o", whole, "-q", *flags]) == 0
    parts = []
    for i in range(4):
        out = str(tmp_path / (f"s{i}" if fmt else f"s{i}.bin"))
        extra = ["--format", fmt] if fmt else []
        args = ["encode", "-t", "gpt2", *paths, "--shard", f"{i}/4", "-o", out, "-q"]
        assert main(args + flags + extra) == 0
        parts.append(fastbpe.token_formats.load_tokens(out + ".bin" if fmt else out))
    assert np.array_equal(np.concatenate(parts), np.load(whole))


def test_doc_token_puts_boundaries_after_documents(tmp_path):
    eot = "<|endoftext|>"
    docs = [f"story {i} " + "word " * (i % 37) + "end." for i in range(400)]
    (tmp_path / "a.txt").write_text(eot.join(docs) + eot, encoding="utf-8")
    path = str(tmp_path / "a.txt")
    plan = shards.plan([path], n_shards=6, special_tokens=[eot], doc_token=eot)
    data = open(path, "rb").read()
    ends = [s.pieces[-1].end for s in plan[:-1]]
    assert all(data[:e].endswith(eot.encode()) for e in ends), ends
    without = shards.plan([path], n_shards=6, special_tokens=[eot])
    assert not all(data[: s.pieces[-1].end].endswith(eot.encode()) for s in without[:-1])
    with pytest.raises(ValueError, match="doc_token"):
        shards.plan([path], n_shards=2, special_tokens=[], doc_token=eot)
