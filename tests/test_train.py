"""Training: fastbpe against the slow reference trainer (tests/reference_bpe.py), plus the API
surface, determinism across threads and chunkings, and bad input."""

from __future__ import annotations

import inspect
import os
import pickle
import random
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_bpe  # noqa: E402
from fastbpe import training as T  # noqa: E402

EOT = "<|endoftext|>"


# ---------------------------------------------------------------------------- corpora (fast, local)


def english_text(n: int = 20_000) -> str:
    """Real English prose: docstrings of stdlib modules."""
    import argparse
    import collections
    import functools
    import json
    import logging
    import pathlib
    import string
    import textwrap

    parts: list[str] = []
    for mod in (textwrap, json, collections, functools, logging, argparse, pathlib, string):
        parts.append(inspect.getdoc(mod) or "")
        for name in sorted(vars(mod)):
            obj = getattr(mod, name)
            if callable(obj) and not name.startswith("_"):
                doc = inspect.getdoc(obj)
                if doc:
                    parts.append(doc)
    text = "\n\n".join(parts)
    return text[:n]


def code_text(n: int = 20_000) -> str:
    import json.decoder
    import textwrap

    return (inspect.getsource(textwrap) + "\n" + inspect.getsource(json.decoder))[:n]


SENTENCES = [
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "我能吞下玻璃而不伤身体。天下没有不散的筵席。",
    "日本語のテキストも少し入れておきます。東京は晴れです。",
    "다람쥐 헌 쳇바퀴에 타고파. 한국어 문장입니다.",
    "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",
    "نص عربي قصير للاختبار، مع بعض الكلمات.",
    "यह एक छोटा हिंदी वाक्य है। नमस्ते दुनिया।",
    "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.",
    "Le cœur déçu mais l'âme plutôt naïve, Louÿs rêva de crapaüter.",
    "emoji 👍🏽 and 👨‍👩‍👧 and flags 🇫🇷🇯🇵 ok",
    "e\u0301 a\u0308 combining marks, numbers 12345 ٣٤٥ ⅔ and tabs\tand  spaces",
    "I'm sure they'll say it's fine; we've done what you'd expect.",
]


def multilingual_text(n: int = 15_000, seed: int = 7) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < n:
        s = rng.choice(SENTENCES)
        sep = rng.choice([" ", " ", "\n", "\n\n", "  "])
        out.append(s + sep)
        size += len(s) + len(sep)
    return "".join(out)


def documents_text(n_docs: int = 120, seed: int = 3) -> str:
    """Short documents separated by <|endoftext|>, as in TinyStories/OpenWebText dumps."""
    rng = random.Random(seed)
    words = english_text(6000).split()
    docs = []
    for _ in range(n_docs):
        k = rng.randint(5, 60)
        docs.append(" ".join(rng.choice(words) for _ in range(k)))
    return ("\n" + EOT + "\n").join(docs) + EOT


def ties_text() -> str:
    """Every pair occurs exactly once: the order of merges is decided by the tie-break alone."""
    letters = "abcdefghijklmnop"
    return "\n".join(a + b for a in letters for b in letters if a != b)


def equal_counts_text() -> str:
    """Many pairs share each count (3 each), across multi-byte characters too."""
    words = ["xy", "yx", "éa", "aé", "zq", "qz", "日本", "本日", "ab", "ba"]
    return " ".join(words * 3)


CORPORA = {
    "english": (english_text, 256 + 220),
    "code": (code_text, 256 + 220),
    "multilingual": (multilingual_text, 256 + 220),
    "documents": (documents_text, 256 + 150),
    "ties": (ties_text, 256 + 120),
    "equal_counts": (equal_counts_text, 256 + 40),
}


def write(tmp_path: Path, text: str, name: str = "corpus.txt") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p


def reference(text: str, vocab_size: int, specials: list[str], pattern: str | None = None, **kw):
    return reference_bpe.train(
        [text], vocab_size, specials, pattern or reference_bpe.GPT2_PATTERN, **kw
    )


def assert_same(got, want):
    (gv, gm), (wv, wm) = got, want
    for i, (a, b) in enumerate(zip(gm, wm)):
        assert a == b, f"merge {i} differs: fastbpe {a!r}, reference {b!r}"
    assert len(gm) == len(wm)
    assert gv == wv


# ----------------------------------------------------------------------------- CS336


def test_cs336_handout_example(tmp_path):
    text = (
        "low low low low low lower lower widest widest widest "
        "newest newest newest newest newest newest"
    )
    path = write(tmp_path, text)
    vocab, merges = T.train_bpe(path, 256 + 1 + 6, [EOT], pattern=r"\S+")
    assert merges == [
        (b"s", b"t"),
        (b"e", b"st"),
        (b"o", b"w"),
        (b"l", b"ow"),
        (b"w", b"est"),
        (b"n", b"e"),
    ]
    assert vocab[0] == EOT.encode()
    assert [vocab[1 + b] for b in range(256)] == [bytes([b]) for b in range(256)]
    assert [vocab[257 + i] for i in range(6)] == [b"st", b"est", b"ow", b"low", b"west", b"ne"]
    assert (vocab, merges) == reference(text, 263, [EOT], r"\S+")


def test_train_bpe_types(tmp_path):
    path = write(tmp_path, documents_text(20))
    vocab, merges = T.train_bpe(str(path), 300, [EOT])
    assert type(vocab) is dict and type(merges) is list
    assert all(type(k) is int and type(v) is bytes for k, v in vocab.items())
    assert all(
        type(m) is tuple and len(m) == 2 and all(type(x) is bytes for x in m) for m in merges
    )
    assert sorted(vocab) == list(range(len(vocab))) and len(vocab) == 300


# ----------------------------------------------------------------------------- vs the reference


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_matches_reference(tmp_path, name):
    make, vocab_size = CORPORA[name]
    text = make()
    specials = [EOT] if name == "documents" else []
    got = T.train_bpe(write(tmp_path, text), vocab_size, specials)
    assert_same(got, reference(text, vocab_size, specials))


def test_matches_reference_with_several_specials(tmp_path):
    # one special is a prefix of another: longest wins
    specials = ["<|a|>", "<|a|><|b|>", "<pad>"]
    rng = random.Random(5)
    words = english_text(3000).split()
    text = "".join(
        rng.choice(words) + rng.choice([" ", "\n", "<|a|>", "<|a|><|b|>", "<pad>", "<|a|>x"])
        for _ in range(1500)
    )
    got = T.train_bpe(write(tmp_path, text), 256 + 3 + 120, specials)
    assert_same(got, reference(text, 256 + 3 + 120, specials))
    assert got[0][1] == b"<|a|><|b|>"


def test_custom_pattern_matches_reference(tmp_path):
    text = multilingual_text(6000) + code_text(4000)
    pattern = r"\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+"
    got = T.train_bpe(write(tmp_path, text), 256 + 150, [], pattern=pattern, _chunk_size=100)
    assert_same(got, reference(text, 256 + 150, [], pattern))


# (Lines: `[^\n]+\n?|\n`, the non-empty matches of `[^\n]*\n?`; a pattern that can match the
# empty string is refused since issue 9.12.)
@pytest.mark.parametrize("pattern", [r"[^\n]+\n?|\n", r"\S+\s*", r"\S+"])
def test_patterns_that_span_newlines_are_still_exact(tmp_path, pattern):
    # Chunks must not be cut where a pattern's match runs across a newline.
    text = "".join(f"line{i % 7} ab{i % 3}\n" + ("\n" if i % 5 == 0 else "") for i in range(300))
    want = reference(text, 256 + 60, [], pattern)
    for chunk in (1, 16, None):
        got = T.train_bpe(write(tmp_path, text), 256 + 60, [], pattern=pattern, _chunk_size=chunk)
        assert_same(got, want)
        tok = T.train(iter([text]), 256 + 60, pattern=pattern, _chunk_size=chunk)
        assert (tok.vocab, tok.merges) == want


@pytest.mark.parametrize(
    "text",
    ["", "a", "ab", "aaaa", " ", "\n\n", "aaaaaaaaaaaaaaaaaaaaa", "abababab", EOT, EOT * 3 + "ab"],
)
def test_tiny_corpora(tmp_path, text):
    got = T.train_bpe(write(tmp_path, text), 300, [EOT])
    assert_same(got, reference(text, 300, [EOT]))


def test_runs_out_of_pairs(tmp_path, capfd):
    text = "hello hello world"
    path = write(tmp_path, text)
    vocab, merges = T.train_bpe(path, 10_000, [])
    assert (vocab, merges) == reference(text, 10_000, [])
    assert len(vocab) < 10_000
    capfd.readouterr()
    # Running out is reported as a ShortVocabularyWarning (training.py), progress on stderr.
    with pytest.warns(T.ShortVocabularyWarning, match="no pair left"):
        T.train_bpe(path, 10_000, [], progress=True)
    err = capfd.readouterr().err
    assert "counting" in err and "merging" in err


def test_min_frequency(tmp_path):
    text = english_text(8000)
    for mf in (0, 1, 3, 20):
        got = T.train_bpe(write(tmp_path, text), 256 + 200, [], min_frequency=mf)
        assert_same(got, reference(text, 256 + 200, [], min_frequency=mf))


def test_duplicate_bytes_merge_rule():
    # After (a, b) and (b, c): "ab c" merges to "abc"; "a bc" also wants to make "abc".
    counts = {b"abc": 1, b"ab": 10, b"bc": 9, b"xabc": 1, b"abcab": 1}
    wc = T.WordCounts()
    for w, n in counts.items():
        wc.add(w, n)
    for vs in range(257, 275):
        got = T.train_from_counts(wc, vs)
        want = reference_bpe.train_from_counts(counts, vs, [])
        assert got == want
        assert len(set(got[0].values())) == len(got[0])


# ----------------------------------------------------------------------------- determinism


def _mixed_text() -> str:
    return (
        documents_text(60)
        + multilingual_text(4000)
        + "a  \n b\n\n  \n" * 20
        + code_text(3000)
        + EOT.join(["x" * 50, "y\n" * 30, ""])
    )


def test_threads_and_chunk_sizes_give_identical_results(tmp_path):
    text = _mixed_text()
    path = write(tmp_path, text)
    base = T.train_bpe(path, 256 + 1 + 200, [EOT], threads=1)
    assert_same(base, reference(text, 256 + 1 + 200, [EOT]))
    for threads in (1, 2, 4):
        for chunk in (1, 7, 64, 1000, None):
            got = T.train_bpe(path, 256 + 1 + 200, [EOT], threads=threads, _chunk_size=chunk)
            assert got == base, (threads, chunk)


def test_iterable_equals_file(tmp_path):
    docs = [documents_text(10, seed=s) for s in range(20)]
    path = write(tmp_path, EOT.join(docs))
    want = T.train_bpe(path, 400, [EOT])
    for threads in (1, 2):
        tok = T.train(iter(docs), 400, [EOT], threads=threads, _chunk_size=50)
        assert (tok.vocab, tok.merges) == want
    # a generator, in small batches of strings, with specials inside items too
    gen = (d for d in [EOT.join(docs)])
    tok = T.train(gen, 400, [EOT], _chunk_size=64)
    assert (tok.vocab, tok.merges) == want


def test_many_files_equal_concatenation_with_separators(tmp_path):
    docs = [multilingual_text(800, seed=s) for s in range(6)]
    paths = [write(tmp_path, d, f"f{i}.txt") for i, d in enumerate(docs)]
    joined = write(tmp_path, EOT.join(docs), "joined.txt")
    a = T.train(paths, 300, [EOT])
    b = T.train(joined, 300, [EOT])
    assert (a.vocab, a.merges) == (b.vocab, b.merges)
    c = T.train(tuple(str(p) for p in paths), 300, [EOT], threads=2)
    assert (c.vocab, c.merges) == (a.vocab, a.merges)


def test_counts_map_reduce(tmp_path):
    docs = [english_text(5000), code_text(5000)]
    whole = T.count_words(iter(docs))
    parts = [T.count_words(write(tmp_path, d, f"p{i}.txt")) for i, d in enumerate(docs)]
    merged = T.WordCounts()
    for p in parts:
        merged.update(pickle.loads(pickle.dumps(p)))
    assert merged.items() == whole.items()
    assert len(merged) == len(whole) and merged.total() == whole.total()
    assert T.train_from_counts(merged, 300) == T.train_from_counts(whole, 300)
    ref_counts = reference_bpe.count_pretokens(docs, [])
    assert dict(whole.items()) == dict(ref_counts)


# ----------------------------------------------------------------------------- the Tokenizer


def test_train_returns_working_tokenizer(tmp_path):
    text = documents_text(80)
    tok = T.train(write(tmp_path, text), 256 + 1 + 100, [EOT])
    vocab, merges = T.train_bpe(write(tmp_path, text), 256 + 1 + 100, [EOT])
    assert tok.vocab == vocab and tok.merges == merges
    sample = "the quick brown fox" + EOT + " jumps"
    ids = tok.encode(sample)
    assert tok.decode(ids) == sample
    assert ids[ids.index(0)] == 0  # the special token has id 0
    assert len(ids) < len(sample.encode())


# ----------------------------------------------------------------------------- bad input


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        T.train_bpe(tmp_path / "nope.txt", 300, [])
    with pytest.raises(IsADirectoryError):
        T.train_bpe(tmp_path, 300, [])
    with pytest.raises(FileNotFoundError, match="iter"):
        T.train(["some text, not a path\n"], 300)


def test_empty_file_gives_specials_and_bytes(tmp_path):
    vocab, merges = T.train_bpe(write(tmp_path, ""), 1000, [EOT])
    assert merges == [] and len(vocab) == 257 and vocab[0] == EOT.encode()


def test_vocab_size_too_small(tmp_path):
    path = write(tmp_path, "abc")
    with pytest.raises(ValueError, match=r"at least 256 \+ .*\(257\), got 256"):
        T.train_bpe(path, 256, [EOT])
    T.train_bpe(path, 257, [EOT])  # exactly enough
    with pytest.raises(ValueError):
        T.train(iter(["abc"]), 100)
    with pytest.raises(TypeError):
        T.train_bpe(path, 300.0, [])


def test_bad_special_tokens(tmp_path):
    path = write(tmp_path, "abc")
    with pytest.raises(ValueError, match="duplicate"):
        T.train_bpe(path, 300, [EOT, EOT])
    with pytest.raises(ValueError, match="empty"):
        T.train_bpe(path, 300, [""])
    with pytest.raises(TypeError, match="list of str"):
        T.train_bpe(path, 300, EOT)
    with pytest.raises(TypeError):
        T.train_bpe(path, 300, [1])


def test_invalid_utf8(tmp_path):
    good = english_text(3000).encode()
    data = good[:1234] + b"\xff\xfe" + good[1234:]
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=r"bad\.txt.*offset 1234"):
        T.train_bpe(path, 300, [], _chunk_size=100)
    got = T.train_bpe(path, 300, [], errors="replace", _chunk_size=100)
    text = data.decode("utf-8", errors="replace")
    assert_same(got, reference(text, 300, []))
    with pytest.raises(ValueError, match="errors"):
        T.train_bpe(path, 300, [], errors="ignore")


def test_lone_surrogates_in_iterable():
    with pytest.raises(ValueError, match="surrogate"):
        T.train(iter(["ok", "bad \ud800 text"]), 300)
    tok = T.train(iter(["ok", "bad \ud800 text"]), 300, errors="replace")
    assert "\ufffd".encode() in b"".join(tok.vocab.values()) or tok.n_vocab >= 256


def test_wrong_types():
    with pytest.raises(TypeError, match="str"):
        T.train(iter(["ok", b"bytes"]), 300)
    with pytest.raises(TypeError):
        T.train(12345, 300)
    with pytest.raises(TypeError):
        T.train([1, 2], 300)
    with pytest.raises(TypeError):
        T.train(b"path-as-bytes", 300)
    with pytest.raises(TypeError):
        T.train_bpe(["a.txt"], 300, [])
    with pytest.raises(ValueError):
        T.train(iter(["a"]), 300, threads=0)
    with pytest.raises(TypeError):
        T.train(iter(["a"]), 300, pattern=1)
    with pytest.raises(ValueError, match="pattern"):
        T.train(iter(["a"]), 300, pattern="(unclosed")


def test_iterable_errors_propagate():
    def gen():
        yield "some text"
        raise RuntimeError("boom from the dataset")

    with pytest.raises(RuntimeError, match="boom"):
        T.train(gen(), 300)


# ----------------------------------------------------------------------------- Ctrl-C


def _interrupt_soon(delay: float) -> threading.Timer:
    t = threading.Timer(delay, lambda: os.kill(os.getpid(), signal.SIGINT))
    t.start()
    return t


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery")
def test_ctrl_c_stops_iterable_training():
    def forever():
        line = english_text(2000)
        while True:
            yield line

    t = _interrupt_soon(0.3)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        T.train(forever(), 1000)
    t.join()
    assert time.monotonic() - start < 5


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery")
def test_ctrl_c_stops_file_training(tmp_path):
    # Random words over six letters: ~280K distinct words, so training takes well over a second
    # (1.5 s on the 2-core machine) and the signal lands mid-training. (Repeated English trained
    # in 0.15 s, before the signal came.)
    table = bytes((b"abcdef  \n" * 29)[:256])
    path = tmp_path / "big.txt"
    path.write_bytes(os.urandom(40_000_000).translate(table))
    t = _interrupt_soon(0.1)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        T.train_bpe(path, 5000, [], threads=2)
    t.join()
    assert time.monotonic() - start < 5


def test_update_with_itself_doubles():
    """`counts.update(counts)` doubles every count (it used to raise "Already mutably borrowed")."""
    wc = T.WordCounts()
    for w, n in [(b"ab", 3), (b" hello", 7), (b"x", 1)]:
        wc.add(w, n)
    before = dict(wc.items())
    wc.update(wc)
    assert dict(wc.items()) == {w: 2 * n for w, n in before.items()}


def test_vocab_size_bounds_checked_once_before_any_counting():
    """The vocab_size rule lives in Rust (MergeOptions::check); every entry point applies it before
    it reads anything (the iterable below would fail if it were read)."""

    def never_read():
        raise AssertionError("the corpus was read before the arguments were checked")
        yield ""  # pragma: no cover

    for size, msg in [(255, r"at least 256 \+ .*\(256\), got 255"), (2**32 + 1, "at most")]:
        with pytest.raises(ValueError, match=msg):
            T.train(never_read(), size)
        with pytest.raises(ValueError, match=msg):
            T.train_from_counts(T.WordCounts(), size)
    with pytest.raises(ValueError, match=r"\(258\), got 257"):
        T.train(never_read(), 257, ["<a>", "<b>"])
