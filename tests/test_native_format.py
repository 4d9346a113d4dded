"""fastbpe's own tokenizer file (docs/format.md): exact round trips, strict validation."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import fastbpe
import pytest
from fastbpe import _fastbpe
from fastbpe.io import load, save

EOT = "<|endoftext|>"


def small_cs336() -> fastbpe.Tokenizer:
    """A CS336-style tokenizer: specials first, then bytes, then merges (one a duplicate)."""
    vocab = {0: EOT.encode(), 1: b"<|pad|>"}
    vocab.update({2 + b: bytes([b]) for b in range(256)})
    merges = [(b"t", b"h"), (b"th", b"e"), (b" ", b"the"), (b"e", b"r"), (b"th", b"er")]
    nxt = 258
    for a, b in merges:
        if a + b not in vocab.values():
            vocab[nxt] = a + b
            nxt += 1
    return fastbpe.Tokenizer(vocab, merges, [EOT, "<|pad|>"])


def same_behaviour(a: fastbpe.Tokenizer, b: fastbpe.Tokenizer, text: str) -> None:
    assert a.encode(text, allowed_special="all") == b.encode(text, allowed_special="all")
    assert a.vocab == b.vocab
    assert a.special_tokens == b.special_tokens
    assert a.pattern == b.pattern
    assert a.n_vocab == b.n_vocab


def test_gpt2_round_trip(tmp_path, gpt2_fastbpe, varied_text):
    p = tmp_path / "gpt2.json"
    save(gpt2_fastbpe, p)
    back = load(p)
    assert back.name == "gpt2"
    same_behaviour(gpt2_fastbpe, back, varied_text[:300_000])
    assert back._core.ranked() == gpt2_fastbpe._core.ranked()
    # Rank-defined (tiktoken) tokenizers have no stored merges; both derive the same ones.
    assert (back._core.merges() is None) == (gpt2_fastbpe._core.merges() is None)
    # Saving again gives the same bytes: the format is deterministic.
    p2 = tmp_path / "again.json"
    save(back, p2)
    assert p.read_bytes() == p2.read_bytes()


def test_cs336_round_trip_keeps_merges_and_ids(tmp_path):
    tok = small_cs336()
    p = tmp_path / "t.json"
    save(tok, p)
    back = load(p)
    same_behaviour(tok, back, f"the other there{EOT}<|pad|> weather")
    assert back.merges == tok.merges
    doc = json.loads(p.read_text())
    assert doc["format"] == "fastbpe" and doc["version"] == 1
    assert doc["special_tokens"] == [{"token": EOT, "id": 0}, {"token": "<|pad|>", "id": 1}]
    assert len(doc["merges"]) == 5 and len(doc["ranks"]) == 256 + 5


def test_trained_tokenizer_round_trip(tmp_path, varied_text):
    train = pytest.importorskip("fastbpe.training").train
    src = tmp_path / "c.txt"
    src.write_text(varied_text[:200_000], encoding="utf-8")
    tok = train([str(src)], 600, [EOT])
    p = tmp_path / "trained.json"
    save(tok, p)
    back = load(p)
    same_behaviour(tok, back, varied_text[200_000:260_000])
    assert back.merges == tok.merges


def test_custom_pattern_round_trip(tmp_path, gpt2_tiktoken):
    pattern = r"\S+|\s+"
    tok = fastbpe.Tokenizer.from_ranks(
        gpt2_tiktoken._mergeable_ranks, {EOT: 50256}, pattern=pattern
    )
    p = tmp_path / "c.json"
    save(tok, p)
    back = load(p)
    assert back.pattern == pattern
    same_behaviour(tok, back, "hello   world\n\n  foo")


def test_hand_written_file_with_merges_only(tmp_path):
    import base64

    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    vocab = {str(i): b64(bytes([i])) for i in range(256)}
    vocab["256"] = b64(b"hi")
    doc = {
        "format": "fastbpe",
        "version": 1,
        "pattern": fastbpe.GPT2_PATTERN,
        "special_tokens": [{"token": EOT, "id": 300}],
        "vocab": vocab,
        "merges": [[b64(b"h"), b64(b"i")]],
    }
    p = tmp_path / "hand.json"
    p.write_text(json.dumps(doc))
    tok = load(p)
    assert tok.encode(f"hi{EOT}") == [256, 300]


# ----------------------------------------------------------------------------- strictness


def good_doc() -> dict:
    return json.loads(_fastbpe.native_to_string(small_cs336()._core, "t"))


def load_text(tmp_path: Path, text: str | bytes) -> fastbpe.Tokenizer:
    p = tmp_path / "bad.json"
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return fastbpe.Tokenizer._from_core(*_fastbpe.load_native(str(p)))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(version=2), "newer"),
        (lambda d: d.update(version="1"), "version"),
        (lambda d: d.pop("version"), "version"),
        (lambda d: d.update(format="tiktoken"), "tiktoken"),
        (lambda d: d.pop("format"), "format"),
        (lambda d: d.pop("pattern"), "pattern"),
        (lambda d: d.pop("vocab"), "vocab"),
        (lambda d: d.pop("special_tokens"), "special_tokens"),
        (lambda d: d.update(ranks=None, merges=None), "ranks"),
        (lambda d: d.update(pattern=7), "pattern"),
        (lambda d: d.update(pattern="(unclosed"), "bad.json"),
        (lambda d: d["vocab"].update({"-1": "YQ=="}), "not a token id"),
        (lambda d: d["vocab"].update({"99999999999": "YQ=="}), "not a token id"),
        (lambda d: d["vocab"].update({"5": "***"}), "base64"),
        (lambda d: d["vocab"].update({"5": ""}), "empty"),
        (lambda d: d["vocab"].pop("5"), "not in vocab"),
        (lambda d: d["ranks"].append(2), "twice"),
        (lambda d: d["special_tokens"].append({"token": "x", "id": 0}), "share id"),
        (lambda d: d["special_tokens"].append({"token": "x", "id": 2}), "vocab gives"),
        (lambda d: d["special_tokens"].append({"token": "x"}), "id"),
        (lambda d: d["merges"].append(["eA==", "eQ=="]), "not in vocab"),
        (lambda d: d.update(extra_field=1), "extra_field"),
    ],
)
def test_invalid_files_are_clear_errors(tmp_path, mutate, message):
    doc = good_doc()
    mutate(doc)
    with pytest.raises(ValueError, match=message) as e:
        load_text(tmp_path, json.dumps(doc))
    assert "bad.json" in str(e.value)


def test_hf_file_and_garbage(tmp_path):
    with pytest.raises(ValueError, match="Hugging Face"):
        load_text(tmp_path, '{"model": {"type": "BPE"}}')
    for junk in ["", "   ", "[]", "null", "{", '{"format": "fastbpe", "version": 1', "\x00\xff"]:
        with pytest.raises(ValueError):
            load_text(tmp_path, junk)


def test_truncations_and_corruptions_never_crash(tmp_path):
    text = _fastbpe.native_to_string(small_cs336()._core, None).encode()
    rng = random.Random(0)
    cuts = sorted(rng.sample(range(len(text)), 60)) + [len(text) - 3]
    for cut in cuts:
        with pytest.raises(ValueError):
            load_text(tmp_path, text[:cut])
    for _ in range(150):
        data = bytearray(text)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            load_text(tmp_path, bytes(data))
        except ValueError:
            pass  # the only acceptable failure


def test_save_is_atomic_and_reports_bad_paths(tmp_path):
    tok = small_cs336()
    save(tok, tmp_path / "ok.json")
    assert sorted(os.listdir(tmp_path)) == ["ok.json"]
    with pytest.raises(FileNotFoundError):
        save(tok, tmp_path / "missing" / "x.json")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.json")


def test_load_detects_every_format(tmp_path, gpt2_fastbpe, gpt2_files):
    text = f"Hello, world! It's 2024.{EOT} ok"
    want = gpt2_fastbpe.encode(text, allowed_special="all")
    save(gpt2_fastbpe, tmp_path / "native.json")
    save(gpt2_fastbpe, tmp_path / "hf.json", format="hf")
    save(gpt2_fastbpe, tmp_path / "vm", format="vocab-merges")
    gpt2_dir = tmp_path / "gpt2"  # GPT-2's own encoder.json + vocab.bpe
    gpt2_dir.mkdir()
    for name in ("encoder.json", "vocab.bpe"):
        (gpt2_dir / name).write_bytes(gpt2_files[name].read_bytes())
    for source in [
        "gpt2",
        tmp_path / "native.json",
        tmp_path / "hf.json",
        tmp_path / "vm",
        gpt2_files["r50k_base.tiktoken"],
        gpt2_dir,
    ]:
        tok = load(source)
        assert tok.encode(text, allowed_special="all") == want, source
    with pytest.raises(ValueError, match="unknown tokenizer file format"):
        p = tmp_path / "x.txt"
        p.write_text("hello\n")
        load(p)
    with pytest.raises(FileNotFoundError, match="gpt3"):
        load("gpt3")
