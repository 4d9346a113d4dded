"""Stanford CS336's tokenizer interface: `Tokenizer(vocab, merges, special_tokens)`,
`Tokenizer.from_files`, `encode`, `encode_iterable`, `decode`.

GPT-2's vocabulary is turned into CS336's format here the way CS336's own tests do it (bytes via
GPT-2's printable-character mapping), and the ids are compared with tiktoken.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
import regex
from conftest import bytes_to_unicode
from fastbpe import GPT2_PATTERN, Tokenizer

EOT = "<|endoftext|>"


def cs336_vocab_merges(encoder_json, vocab_bpe, special_tokens=None):
    """CS336's test helper: GPT-2's files -> (vocab: {id: bytes}, merges: [(bytes, bytes)])."""
    decoder = {v: k for k, v in bytes_to_unicode().items()}
    with open(encoder_json, encoding="utf-8") as f:
        gpt2_vocab = json.load(f)
    merges_str = []
    with open(vocab_bpe, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip()
            if line and not line.startswith("#version") and len(line.split(" ")) == 2:
                merges_str.append(tuple(line.split(" ")))
    vocab = {i: bytes(decoder[c] for c in tok) for tok, i in gpt2_vocab.items()}
    for s in special_tokens or []:
        if s.encode() not in set(vocab.values()):
            vocab[len(vocab)] = s.encode()
    merges = [(bytes(decoder[c] for c in a), bytes(decoder[c] for c in b)) for a, b in merges_str]
    return vocab, merges


@pytest.fixture(scope="module")
def vocab_merges(gpt2_files):
    return cs336_vocab_merges(gpt2_files["encoder.json"], gpt2_files["vocab.bpe"], [EOT])


@pytest.fixture(scope="module")
def tok(vocab_merges):
    vocab, merges = vocab_merges
    return Tokenizer(vocab, merges, special_tokens=[EOT])


@pytest.fixture(scope="module")
def tok_plain(vocab_merges):
    vocab, merges = vocab_merges
    return Tokenizer(vocab, merges)


@pytest.fixture(scope="module")
def sample(varied_text):
    return varied_text[1_000_000:2_000_000]


def tik_ids(gpt2_tiktoken, text):
    return gpt2_tiktoken.encode(text, allowed_special={EOT})


# ----------------------------------------------------------------------------- encode / decode

CASES = [
    "",
    "s",
    "🙃",
    "Hello, how are you?",
    "Héllò hôw are ü? 🙃",
    "Héllò hôw <|endoftext|><|endoftext|> are ü? 🙃<|endoftext|>",
    "The end.<|endoftext|>\n\n\n\n<|endoftext|>\n\nOnce upon a time\n\n",
    "a\n\n<|endoftext|>b\n\nc\n \n",
    "  leading and trailing  \n",
]


@pytest.mark.parametrize("text", CASES)
def test_encode_matches_tiktoken(tok, gpt2_tiktoken, text):
    ids = tok.encode(text)
    assert ids == tik_ids(gpt2_tiktoken, text)
    assert tok.decode(ids) == text
    assert "".join(tok.decode([i]) for i in ids) == text or any(ord(c) > 127 for c in text)


def test_special_token_kept_whole(tok):
    text = "Héllò hôw <|endoftext|><|endoftext|> are ü? 🙃<|endoftext|>"
    pieces = [tok.decode([i]) for i in tok.encode(text)]
    assert pieces.count(EOT) == 3


def test_without_special_tokens_eot_is_text(tok_plain, gpt2_tiktoken):
    text = "a<|endoftext|>b"
    assert tok_plain.encode(text) == gpt2_tiktoken.encode_ordinary(text)


def test_varied_text_matches_tiktoken(tok, gpt2_tiktoken, sample):
    assert tok.encode(sample) == tik_ids(gpt2_tiktoken, sample)


def test_interface_types(tok):
    ids = tok.encode("hello world")
    assert isinstance(ids, list) and all(type(i) is int for i in ids)
    assert isinstance(tok.decode(ids), str)
    it = tok.encode_iterable(["hello", " world"])
    assert isinstance(it, Iterator)
    assert list(it) == ids


def test_decode_replaces_invalid_utf8(tok):
    e4 = tok.encode_single_token(b"\xe4")
    b8 = tok.encode_single_token(b"\xb8")
    a = tok.encode("a")
    assert tok.decode([e4]) == "\ufffd"
    assert tok.decode([e4, b8] + a) == b"\xe4\xb8a".decode("utf-8", errors="replace")
    assert tok.decode(a + [b8, b8] + a) == "a\ufffd\ufffda"
    ids = tok.encode("🙃")  # several byte-level tokens for one character
    assert len(ids) > 1 and tok.decode(ids) == "🙃"
    assert all(tok.decode([i]) == "\ufffd" for i in ids)
    assert tok.decode([]) == ""


# ----------------------------------------------------------------------------- from_files


def test_from_files_gpt2_files(gpt2_files, tok, sample):
    t = Tokenizer.from_files(gpt2_files["encoder.json"], gpt2_files["vocab.bpe"], [EOT])
    assert t.encode(sample) == tok.encode(sample)
    assert t.vocab == tok.vocab


def test_from_files_cs336_written_files(tmp_path, vocab_merges, tok, sample):
    """vocab.json / merges.txt as a CS336 solution writes them (no #version header), path objects
    and str paths, special tokens, some missing from the vocabulary."""
    vocab, merges = vocab_merges
    enc = bytes_to_unicode()
    vocab_path = tmp_path / "vocab.json"
    merges_path = tmp_path / "merges.txt"
    vocab_path.write_text(
        json.dumps({"".join(enc[b] for b in v): k for k, v in vocab.items()}), encoding="utf-8"
    )
    merges_path.write_text(
        "".join(f"{''.join(enc[x] for x in a)} {''.join(enc[x] for x in b)}\n" for a, b in merges),
        encoding="utf-8",
    )
    for vp, mp in [(vocab_path, merges_path), (str(vocab_path), str(merges_path))]:
        t = Tokenizer.from_files(vp, mp, special_tokens=[EOT, "<|pad|>"])
        assert t.special_tokens == {EOT: 50256, "<|pad|>": 50257}
        assert t.encode(sample) == tok.encode(sample)
        assert t.encode("x<|pad|>") == tok.encode("x") + [50257]


# ----------------------------------------------------------------------------- encode_iterable


def test_encode_iterable_over_text_file(tmp_path, tok, gpt2_tiktoken, sample):
    path = tmp_path / "sample.txt"
    path.write_bytes(sample.encode("utf-8"))
    want = tik_ids(gpt2_tiktoken, path.read_text(encoding="utf-8"))
    with open(path, encoding="utf-8") as f:
        assert list(tok.encode_iterable(f)) == want
    # newline="" keeps \r\n; the default text mode turns it into \n: either way, same as encode
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    with open(path, encoding="utf-8", newline="") as f:
        assert list(tok.encode_iterable(f)) == tok.encode(text)


def _odd_splits(text: str, seed: int) -> list[str]:
    """Cuts `text` at random places, many of them awkward: inside special tokens, \\r\\n,
    whitespace runs, contractions, and next to combining marks."""
    rng = random.Random(seed)
    cuts = set()
    for needle in (EOT, "\r\n", "  ", "'s", "\u0301", "\n\n", " \n"):
        start = 0
        while (k := text.find(needle, start)) != -1 and len(cuts) < 200_000:
            cuts.add(k + rng.randint(0, len(needle)))
            start = k + 1
    pos = 0
    while pos < len(text):
        pos += rng.choice([1, 2, 3, 7, 50, 1000, 70_000])
        cuts.add(pos)
    bounds = sorted(c for c in cuts if 0 < c < len(text))
    return [text[a:b] for a, b in zip([0] + bounds, bounds + [len(text)])]


@pytest.mark.parametrize("seed", [1, 2])
def test_encode_iterable_odd_splits(tok, sample, seed):
    chunks = _odd_splits(sample, seed)
    assert "".join(chunks) == sample and len(chunks) > 1000
    assert list(tok.encode_iterable(chunks)) == tok.encode(sample)


@pytest.mark.parametrize(
    "chunks",
    [
        ["^" * 300_000, "a"],  # no whitespace: nothing can be cut
        [" " * 200_000, "x", " " * 100_000],
        ["a" * 100_000 + " "] * 3,
        ["<|endoftext|" * 10_000, ">" * 10_000],
        ["x" + EOT] * 20_000,
        ["x\n"] * 50_000,
        ["".join(chr(0x4E00 + i % 20000) for i in range(100_000))] * 2,
        ["", "", "a", ""],
        [],
    ],
    ids=lambda c: repr(c[:1])[:20] if c else "empty",
)
def test_encode_iterable_hard_chunks(tok, chunks):
    assert list(tok.encode_iterable(chunks)) == tok.encode("".join(chunks))


@pytest.mark.parametrize("unit", ["\n", "^"])
def test_encode_iterable_many_small_chunks_without_cut_points(gpt2_files, unit):
    """A stream with no place to cut (all whitespace, or no whitespace at all) arriving one
    character at a time must stay linear: 200,000 chunks take well under a second when it is.
    Run in a child process so a quadratic buffer scan fails after 20 s instead of hanging."""
    script = textwrap.dedent(
        f"""
        from fastbpe import Tokenizer
        tok = Tokenizer.from_files({str(gpt2_files["encoder.json"])!r},
                                   {str(gpt2_files["vocab.bpe"])!r}, ["<|endoftext|>"])
        chunks = [{unit!r}] * 200_000
        assert list(tok.encode_iterable(chunks)) == tok.encode("".join(chunks))
        """
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"encode_iterable on 200,000 chunks of {unit!r} did not finish in 20 s")
    assert out.returncode == 0, out.stderr


def test_encode_iterable_is_lazy(tok):
    consumed = 0
    n_lines = 100_000
    line = "the quick brown fox jumps over the lazy dog's back\n"

    def lines():
        nonlocal consumed
        for _ in range(n_lines):
            consumed += 1
            yield line

    it = tok.encode_iterable(lines())
    first = next(it)
    assert first == tok.encode(line)[0]
    assert consumed < n_lines // 10, f"consumed {consumed} of {n_lines} lines before the first id"
    rest = list(it)
    assert consumed == n_lines
    assert [first] + rest == tok.encode(line * n_lines)


def test_encode_iterable_generator_of_str_io(tok, sample):
    assert list(tok.encode_iterable(io.StringIO(sample))) == tok.encode(sample)


def test_encode_iterable_constant_memory(tmp_path, gpt2_files):
    """40 MB streamed through encode_iterable in a child process grows its peak RSS far less than
    the text itself would take."""
    script = textwrap.dedent(
        f"""
        import resource, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from fastbpe import Tokenizer
        tok = Tokenizer.from_files({str(gpt2_files["encoder.json"])!r},
                                   {str(gpt2_files["vocab.bpe"])!r}, ["<|endoftext|>"])
        line = "It's a truth universally acknowledged, that 1234 tokens<|endoftext|> cost\\n"
        tok.encode(line * 1000)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        n = 0
        for _ in tok.encode_iterable(line for _ in range(40_000_000 // len(line))):
            n += 1
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(n, (after - before) // 1024)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    n, grew_mb = map(int, out.stdout.split())
    assert n > 5_000_000
    assert grew_mb < 20, f"peak RSS grew by {grew_mb} MB while streaming 40 MB"


def test_encode_iterable_rejects_str_and_bytes(tok):
    with pytest.raises(TypeError):
        list(tok.encode_iterable("a plain string"))
    with pytest.raises(TypeError):
        list(tok.encode_iterable([b"bytes"]))


# ----------------------------------------------------------------------------- merges semantics


def reference_encode(vocab, merges, special_tokens, text):
    """CS336's rule, slowly: split on special tokens (longest first), pre-tokenize, then within each
    pre-token repeatedly apply the earliest merge (in list order) present among adjacent pairs."""
    inv = {v: k for k, v in vocab.items()}
    rank = {pair: i for i, pair in enumerate(merges)}
    specials = sorted(special_tokens, key=len, reverse=True)
    parts = (
        regex.split("(" + "|".join(map(regex.escape, specials)) + ")", text) if specials else [text]
    )
    out = []
    for part in parts:
        if part in specials:
            out.append(inv[part.encode()])
            continue
        for piece in regex.findall(GPT2_PATTERN, part):
            syms = [bytes([b]) for b in piece.encode()]
            while len(syms) > 1:
                best = min(
                    range(len(syms) - 1), key=lambda i: rank.get((syms[i], syms[i + 1]), 1 << 60)
                )
                if (syms[best], syms[best + 1]) not in rank:
                    break
                syms[best : best + 2] = [syms[best] + syms[best + 1]]
            out.extend(inv[s] for s in syms)
    return out


@pytest.mark.parametrize("n_merges", [0, 300, 3000])
def test_truncated_gpt2_merges_match_reference(vocab_merges, sample, n_merges):
    """A CS336-layout vocabulary (special first, then the 256 bytes, then merges) from GPT-2's
    first merges: ids equal the slow reference encoder's."""
    _, merges = vocab_merges
    merges = merges[:n_merges]
    vocab = {0: EOT.encode()}
    for b in range(256):
        vocab[1 + b] = bytes([b])
    for a, b in merges:
        vocab[len(vocab)] = a + b
    t = Tokenizer(vocab, merges, [EOT])
    assert t.special_tokens == {EOT: 0}
    text = sample[:60_000] + EOT + "it's done" + EOT
    assert t.encode(text) == reference_encode(vocab, merges, [EOT], text)
    assert t.decode(t.encode(text)) == text
