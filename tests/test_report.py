"""fastbpe report / train --report: the numbers behind the page. The pair counts recomputed by
replaying merges equal, on the training corpus, the counts a naive trainer saw at each merge."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import fastbpe
import pytest
import reference_bpe
from fastbpe.report import build_report, render_report
from hypothesis import given, settings
from hypothesis import strategies as st


def naive_counts_at_merge(
    text: str, specials: list[str], merges: list[tuple[bytes, bytes]]
) -> list[int]:
    """For each merge in order: the count of its pair over the corpus's pre-tokens (overlaps
    counted, as training counts) just before it is applied; then it is applied everywhere."""
    counts = reference_bpe.count_pretokens([text], specials)
    words = {tuple(bytes([b]) for b in w): n for w, n in counts.items()}
    out = []
    for left, right in merges:
        c = 0
        for w, n in words.items():
            c += n * sum(1 for i in range(len(w) - 1) if (w[i], w[i + 1]) == (left, right))
        out.append(c)
        new: Counter[tuple[bytes, ...]] = Counter()
        for w, n in words.items():
            parts, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == (left, right):
                    parts.append(left + right)
                    i += 2
                else:
                    parts.append(w[i])
                    i += 1
            new[tuple(parts)] += n
        words = dict(new)
    return out


words = st.sampled_from(["the", " cat", " sat", "aaa", " aa", "  ", "\n", "é", "猫猫", "!!", " 12"])


@settings(max_examples=25, deadline=None)
@given(st.lists(words, min_size=5, max_size=80).map("".join), st.integers(260, 320))
def test_replayed_counts_equal_training_counts(tmp_path_factory, text: str, vocab: int) -> None:
    f = tmp_path_factory.mktemp("rep") / "c.txt"
    doc = text + "<|endoftext|>" + text[::-1]
    f.write_text(doc, encoding="utf-8")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a small corpus may run out of pairs
        tok = fastbpe.train(str(f), vocab, ["<|endoftext|>"])
    d = build_report(tok, f, compare_gpt2=False)
    got = [m[3] for m in d.merges]
    assert got == naive_counts_at_merge(doc, ["<|endoftext|>"], tok.merges)
    assert all(a >= b for a, b in zip(got, got[1:]))  # BPE's chosen counts never grow
    assert sum(d.lengths.values()) == tok.n_vocab - 1
    used = set(tok.encode(doc))
    assert {i for i, _ in d.unused} == set(tok.vocab) - used - {tok.special_tokens["<|endoftext|>"]}


def test_gpt2_comparison_and_page(tmp_path: Path, gpt2_fastbpe) -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 100
    f = tmp_path / "s.txt"
    f.write_text(text)
    tok = fastbpe.train(iter([text]), 285)
    d = build_report(tok, f)
    assert d.gpt2_tokens == len(gpt2_fastbpe.encode(text)) and d.tokens == len(tok.encode(text))
    page = render_report(d)
    assert (
        page.count("<svg") == 2
        and "<script" not in page
        and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert "Compression on the sample" in page and "never uses" in page


def test_cli_report_offline_without_gpt2(tmp_path: Path) -> None:
    """No GPT-2 files and no network: the page says so instead of failing."""
    tok = tmp_path / "tok.json"
    out = tmp_path / "report.html"
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path / "empty-cache")}
    env.update(https_proxy="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")  # unreachable
    run = [sys.executable, "-m", "fastbpe"]
    p = subprocess.run(
        [*run, "train", "--vocab-size", "400", "-o", str(tok), "--report", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    page = out.read_text()
    assert "No GPT-2 comparison" in page and "not available" in page
    q = subprocess.run(
        [*run, "report", "-t", str(tok), "-o", str(tmp_path / "r2.html")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert q.returncode == 0 and "no GPT-2 comparison" in q.stderr


@pytest.mark.parametrize("args,message", [(["--sample", "/no/such.txt"], "No such sample file")])
def test_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "fastbpe",
            "report",
            "-t",
            "gpt2",
            "-o",
            str(tmp_path / "r.html"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 1 and message in p.stderr and not (tmp_path / "r.html").exists()
