"""Conversions: tiktoken, vocab.json + merges.txt, HF tokenizer.json: each gives the same ids."""

from __future__ import annotations

import json
import os

import fastbpe
import pytest
from fastbpe import convert
from fastbpe.io import load, save

EOT = "<|endoftext|>"


@pytest.fixture(scope="module")
def gpt2_from_ranks(gpt2_files) -> fastbpe.Tokenizer:
    """GPT-2 loaded from r50k_base.tiktoken: ranks, no merge list."""
    return fastbpe.Tokenizer.from_tiktoken_file(
        gpt2_files["r50k_base.tiktoken"], {EOT: 50256}, name="gpt2"
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory, varied_text) -> fastbpe.Tokenizer:
    """A fastbpe-trained tokenizer (special tokens get the first ids)."""
    training = pytest.importorskip("fastbpe.training")
    d = tmp_path_factory.mktemp("trained")
    src = d / "c.txt"
    src.write_text(varied_text[:300_000], encoding="utf-8")
    return training.train([str(src)], 1500, [EOT, "<|pad|>"])


@pytest.fixture(scope="module")
def sample(varied_text) -> str:
    return varied_text[1_000_000:1_150_000]


def test_merges_from_ranks_reproduces_vocab_bpe(gpt2_from_ranks, gpt2_files):
    merges = convert.merges_from_ranks(gpt2_from_ranks)
    lines = gpt2_files["vocab.bpe"].read_text(encoding="utf-8").splitlines()[1:]
    m = convert.bytes_to_unicode()
    got = ["".join(m[b] for b in a) + " " + "".join(m[b] for b in b_) for a, b_ in merges]
    assert got == [x for x in lines if x]
    assert gpt2_from_ranks.merges == merges  # Tokenizer.merges falls back to it


def test_to_tiktoken_gpt2(gpt2_from_ranks, gpt2_tiktoken, sample):
    enc = convert.to_tiktoken(gpt2_from_ranks)
    assert enc.encode(sample, allowed_special="all") == gpt2_tiktoken.encode(
        sample, allowed_special="all"
    )
    assert enc.n_vocab == 50257 and enc.eot_token == 50256


def test_to_tiktoken_trained(trained, sample):
    enc = convert.to_tiktoken(trained, name="mine")
    assert enc.name == "mine"
    assert enc.encode(sample, allowed_special="all") == trained.encode(sample)
    assert enc.decode(trained.encode(sample)) == sample


def test_tiktoken_file_round_trip(tmp_path, trained, gpt2_from_ranks, gpt2_files, sample):
    p = tmp_path / "gpt2.tiktoken"
    save(gpt2_from_ranks, p)  # .tiktoken name -> tiktoken format
    assert p.read_bytes() == gpt2_files["r50k_base.tiktoken"].read_bytes()
    p2 = tmp_path / "mine.tiktoken"
    convert.save_tiktoken(trained, p2)
    back = convert.load_tiktoken(p2, trained.special_tokens)
    assert back.encode(sample) == trained.encode(sample)


def test_vocab_merges_round_trip(tmp_path, gpt2_from_ranks, trained, gpt2_files, sample):
    v, m = convert.save_vocab_merges(gpt2_from_ranks, tmp_path / "gpt2")
    assert json.loads(v.read_text(encoding="utf-8")) == json.loads(
        gpt2_files["encoder.json"].read_text(encoding="utf-8")
    )
    assert (
        m.read_text(encoding="utf-8").split("\n")[1:]
        == gpt2_files["vocab.bpe"].read_text(encoding="utf-8").split("\n")[1:]
    )
    v, m = convert.save_vocab_merges(trained, tmp_path / "mine")
    back = fastbpe.Tokenizer.from_files(v, m, list(trained.special_tokens))
    assert back.encode(sample) == trained.encode(sample)
    assert back.special_tokens == trained.special_tokens


def _hf_ids(path, text: str) -> list[int]:
    tokenizers = pytest.importorskip("tokenizers")
    return tokenizers.Tokenizer.from_file(str(path)).encode(text).ids


def test_hf_gpt2(tmp_path, gpt2_fastbpe, gpt2_tiktoken, varied_text):
    p = tmp_path / "tokenizer.json"
    convert.save_hf(gpt2_fastbpe, p)
    text = varied_text[:400_000]
    want = gpt2_tiktoken.encode(text, allowed_special="all")
    assert _hf_ids(p, text) == want
    back = load(p)
    assert back.encode(text) == want


def test_hf_trained_and_custom_pattern(tmp_path, trained, sample):
    p = tmp_path / "trained.json"
    convert.save_hf(trained, p)
    assert _hf_ids(p, sample) == trained.encode(sample)
    assert load(p).encode(sample) == trained.encode(sample)
    # A non-GPT-2 pattern goes through a Split pre-tokenizer.
    pattern = (
        r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}"
        r"| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"
    )
    custom = fastbpe.Tokenizer(
        trained.vocab, trained.merges, list(trained.special_tokens), pattern=pattern
    )
    p2 = tmp_path / "custom.json"
    convert.save_hf(custom, p2)
    doc = json.loads(p2.read_text(encoding="utf-8"))
    assert doc["pre_tokenizer"]["type"] == "Sequence"
    assert _hf_ids(p2, sample) == custom.encode(sample)
    assert load(p2).pattern == pattern


def test_hf_special_tokens_are_added_tokens(tmp_path, trained):
    p = tmp_path / "t.json"
    convert.save_hf(trained, p)
    text = f"a{EOT}b<|pad|>{EOT}"
    assert _hf_ids(p, text) == trained.encode(text)
    tokenizers = pytest.importorskip("tokenizers")
    hf = tokenizers.Tokenizer.from_file(str(p))
    assert hf.decode(trained.encode("hello there"), skip_special_tokens=False) == "hello there"


def test_transformers_accepts_tokenizer_json(tmp_path, gpt2_fastbpe, sample):
    import transformers  # in the test extra: a missing install is a failure, not a skip

    p = tmp_path / "tokenizer.json"
    convert.save_hf(gpt2_fastbpe, p)
    hf = transformers.PreTrainedTokenizerFast(tokenizer_file=str(p), eos_token=EOT)
    assert hf(sample)["input_ids"] == gpt2_fastbpe.encode(sample, allowed_special="all")
    assert hf.decode(hf(sample)["input_ids"]) == sample


def test_tiktoken_refuses_what_it_cannot_express():
    # Ids that do not increase with merge order ("the" merges after "th" but has a smaller id).
    vocab = {b: bytes([b]) for b in range(256)}
    vocab.update({256: b"the", 257: b"th"})
    tok = fastbpe.Tokenizer(vocab, [(b"t", b"h"), (b"th", b"e")])
    with pytest.raises(ValueError, match="increase"):
        convert.to_tiktoken(tok)
    # The other formats still work for it.
    assert convert.hf_tokenizer_json(tok)["model"]["vocab"]["the"] == 256


def test_load_hf_rejects_other_models(tmp_path):
    p = tmp_path / "wp.json"
    p.write_text(json.dumps({"model": {"type": "WordPiece", "vocab": {}}}))
    with pytest.raises(ValueError, match="BPE"):
        load(p)
    p.write_text(
        json.dumps(
            {
                "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                "pre_tokenizer": {"type": "Whitespace"},
            }
        )
    )
    with pytest.raises(ValueError, match="pre_tokenizer"):
        load(p)
    assert not [x for x in os.listdir(tmp_path) if x.endswith(".tmp")]


def test_hf_merges_follow_fastbpe_rule_not_merge_list(tmp_path):
    """fastbpe merges (a, bc) -> abc although the merge list only has (ab, c); so must HF."""
    vocab = {b: bytes([b]) for b in range(256)}
    vocab.update({256: b"bc", 257: b"ab", 258: b"abc"})
    tok = fastbpe.Tokenizer(vocab, [(b"b", b"c"), (b"a", b"b"), (b"ab", b"c")])
    assert tok.encode("abcd") == [258, ord("d")]
    p = tmp_path / "t.json"
    convert.save_hf(tok, p)
    assert _hf_ids(p, "abcd xabcd") == tok.encode("abcd xabcd")
