"""fastbpe.baselines: byte, character and word tokenizers (CS336 lecture 1) with Tokenizer's
surface; vocabularies from files, streamed; properties on generated text."""

from __future__ import annotations

import fastbpe
import regex
from fastbpe.baselines import ByteTokenizer, CharTokenizer, WordTokenizer
from fastbpe.text_stream import cut_stream, read_blocks
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_bpe import GPT2_PATTERN

# Text without lone surrogates (those become U+FFFD, tested separately).
clean_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
words_text = st.lists(
    st.sampled_from(["the", " cat", "sat", "  ", "\n", "on", " mat", "é", "猫", "!", "\t", "42"]),
    max_size=60,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(clean_text)
def test_byte_round_trip(s: str) -> None:
    b = ByteTokenizer()
    ids = b.encode(s)
    assert ids == list(s.encode("utf-8"))
    assert b.decode_bytes(ids) == s.encode("utf-8") and b.decode(ids) == s
    assert b.encode_to_numpy(s).tolist() == ids
    assert b.n_vocab == 256


@settings(max_examples=200, deadline=None)
@given(clean_text)
def test_char_full_range_round_trip(s: str) -> None:
    c = CharTokenizer()
    ids = c.encode(s)
    assert ids == [ord(ch) for ch in s]
    assert c.decode(ids) == s
    assert c.n_vocab == 0x110000 and c.unk_id is None


def test_lone_surrogates_become_replacement() -> None:
    for tok in (ByteTokenizer(), CharTokenizer()):
        assert tok.decode(tok.encode("a\ud800b")) == "a\ufffdb"


@settings(max_examples=100, deadline=None)
@given(clean_text, clean_text, st.integers(2, 20))
def test_char_vocab_from_corpus(corpus: str, text: str, max_size: int) -> None:
    c = CharTokenizer.from_texts([corpus], max_size=max_size)
    assert c.n_vocab <= max_size and c.unk_id == 0
    vocab = set(c.decode_tokens_bytes(range(1, c.n_vocab)))
    ids = c.encode(text)
    assert len(ids) == len(text)
    for ch, i in zip(text, ids):
        assert (i == 0) == (ch.encode() not in vocab)
        if i:
            assert c.decode([i]) == ch
    want = sum(ch.encode() not in vocab for ch in text) / len(text) if text else 0.0
    assert c.unk_rate(text) == want


def test_char_vocab_keeps_the_most_frequent(tmp_path) -> None:
    f = tmp_path / "c.txt"
    f.write_text("aaaa bbb cc d")
    c = CharTokenizer.from_file(f, max_size=4)  # UNK + a, b, ' ' (3 each? no: ' ' is 3)
    assert c.decode_tokens_bytes([1, 2, 3]) == [b"a", b" ", b"b"]  # ties by code point
    assert c.encode("dab") == [0, 1, 3]


@settings(max_examples=100, deadline=None)
@given(words_text, words_text)
def test_word_gpt2_matches_regex(corpus: str, text: str) -> None:
    w = WordTokenizer.from_texts([corpus], max_size=10_000)
    known = set(regex.findall(GPT2_PATTERN, corpus))
    pieces = regex.findall(GPT2_PATTERN, text)
    ids = w.encode(text)
    assert len(ids) == len(pieces)
    for p, i in zip(pieces, ids):
        assert (i == 0) == (p not in known)
        if i:
            assert w.decode([i]) == p
    assert w.oov_rate(text) == (
        sum(p not in known for p in pieces) / len(pieces) if pieces else 0.0
    )
    # On its own corpus with room for every word: an exact round trip.
    assert w.decode(w.encode(corpus)) == corpus


@settings(max_examples=100, deadline=None)
@given(words_text)
def test_word_whitespace_mode(text: str) -> None:
    w = WordTokenizer.from_texts([text], mode="whitespace")
    assert w.decode(w.encode(text)) == " ".join(regex.findall(r"\S+", text))


def test_word_vocab_size_and_order(tmp_path) -> None:
    f = tmp_path / "w.txt"
    f.write_text("a a a b b c " * 10 + "\n")
    w = WordTokenizer.from_file(f, max_size=3, mode="whitespace")
    assert w.n_vocab == 3
    assert w.decode([1, 2]) == "a b"
    assert w.encode("a b c") == [1, 2, 0]
    assert w.oov_rate("a b c") == 1 / 3
    g = WordTokenizer.from_file(f, max_size=50)
    assert g.n_vocab == len({*regex.findall(GPT2_PATTERN, f.read_text())}) + 1


def test_from_file_equals_from_texts(tmp_path) -> None:
    text = "Hello world, hello fastbpe!\n" * 30 + "naïve café 猫\n"
    f = tmp_path / "t.txt"
    f.write_text(text)
    for mode in ("gpt2", "whitespace"):
        a = WordTokenizer.from_file(f, max_size=20, mode=mode)
        b = WordTokenizer.from_texts([text], max_size=20, mode=mode)
        assert a.decode_tokens_bytes(range(a.n_vocab)) == b.decode_tokens_bytes(range(b.n_vocab))
    assert CharTokenizer.from_file(f).encode(text) == CharTokenizer.from_texts([text]).encode(text)


@settings(max_examples=100, deadline=None)
@given(clean_text, st.integers(1, 9))
def test_read_blocks_splits_characters_safely(tmp_path_factory, s: str, block: int) -> None:
    f = tmp_path_factory.mktemp("blocks") / "b.txt"
    f.write_bytes(s.encode("utf-8") + b"\xff")  # and one invalid byte at the end
    assert "".join(read_blocks(f, block_bytes=block)) == s + "\ufffd"


_tok: list[fastbpe.Tokenizer] = []


def _small_tokenizer() -> fastbpe.Tokenizer:
    if not _tok:
        _tok.append(fastbpe.train(iter(["the cat sat on the mat\n" * 20]), vocab_size=265))
    return _tok[0]


@settings(max_examples=100, deadline=None)
@given(st.lists(words_text, max_size=8))
def test_cut_stream_keeps_ids(blocks: list[str]) -> None:
    tok = _small_tokenizer()
    text = "".join(blocks)
    pieces = list(cut_stream(iter(blocks), tok._safe_cut))
    assert "".join(pieces) == text
    assert [i for p in pieces for i in tok.encode(p)] == tok.encode(text)
    w = WordTokenizer.from_texts([text or "x"])
    pieces = list(cut_stream(iter(blocks), w._safe_cut))
    assert [i for p in pieces for i in w.encode(p)] == w.encode(text)


def test_bad_ids_and_arguments() -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown token id 256"):
        ByteTokenizer().decode([256])
    with pytest.raises(ValueError, match="max_size"):
        WordTokenizer.from_texts(["a"], max_size=1)
    with pytest.raises(ValueError, match="mode"):
        WordTokenizer.from_texts(["a"], mode="bpe")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ByteTokenizer().encode(b"bytes")  # type: ignore[arg-type]
