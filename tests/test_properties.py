"""Property tests (hypothesis): parity with tiktoken on arbitrary text, round trips, streaming,
and training that does not depend on threads or chunking.

Strategies cover what breaks tokenizers: lone surrogates, astral characters, combining marks,
every Unicode whitespace, contractions, special-token text, long runs.
"""

from __future__ import annotations

import os
import tempfile

import fastbpe
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

SETTINGS = settings(
    max_examples=int(os.environ.get("FASTBPE_HYPOTHESIS_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

EOT = "<|endoftext|>"

# Every code point, surrogates included (hypothesis leaves out category Cs unless asked).
any_char = st.characters(codec=None, exclude_categories=())
surrogate = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
astral = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF)
# Fragments that matter to GPT-2's pattern and to special-token handling.
fragment = st.sampled_from(
    [
        " ",
        "  ",
        "\n",
        "\r\n",
        "\t",
        "\u00a0",
        "\u3000",
        "\u2028",
        "\x85",
        "\x0b",
        "\x1c",
        "'s",
        "'t",
        "'re",
        "'ve",
        "'m",
        "'ll",
        "'d",
        "'S",
        "’s",
        "'",
        "é",
        "e\u0301",
        "\u0301",
        "日本",
        "١٢٣",
        "²",
        "½",
        "😀",
        "👍🏽",
        "🇫🇷",
        "\U0010ffff",
        "\ufffd",
        "\x00",
        "123",
        "3.14",
        "!?",
        "...",
        "^^^",
        "hello",
        " world",
        EOT,
        "<|endoftext",
        "|>",
    ]
)
text_with_surrogates = st.lists(
    st.one_of(st.text(any_char, max_size=8), fragment, surrogate, astral), max_size=40
).map("".join)
clean_text = st.lists(st.one_of(st.text(max_size=8), fragment, astral), max_size=40).map("".join)


def no_surrogates(s: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in s)


@pytest.fixture(scope="module")
def gpt2(gpt2_fastbpe):
    return gpt2_fastbpe


@pytest.fixture(scope="module")
def tik(gpt2_tiktoken):
    return gpt2_tiktoken


# ----------------------------------------------------------------------------- parity with tiktoken


@SETTINGS
@given(text=text_with_surrogates)
@example(text="\ud800")
@example(text="a\udfffb")
@example(text="\ud83d\ude00")  # a surrogate *pair* written as two code points
@example(text="\ud83d" + EOT)
def test_parity_encode_ordinary(gpt2, tik, text):
    assert gpt2.encode_ordinary(text) == tik.encode_ordinary(text)


@SETTINGS
@given(text=text_with_surrogates)
def test_parity_encode_all_special(gpt2, tik, text):
    assert gpt2.encode(text, allowed_special="all") == tik.encode(text, allowed_special="all")
    assert gpt2.encode(text, disallowed_special=()) == tik.encode(text, disallowed_special=())


@SETTINGS
@given(text=text_with_surrogates)
def test_parity_default_special_handling(gpt2, tik, text):
    """tiktoken's defaults: special-token text raises ValueError; same message, same ids."""
    try:
        want = tik.encode(text)
    except ValueError as e:
        with pytest.raises(ValueError) as got:
            gpt2.encode(text)
        assert str(got.value) == str(e)
        return
    assert gpt2.encode(text) == want


@settings(SETTINGS, max_examples=40)
@given(texts=st.lists(text_with_surrogates, max_size=6))
def test_parity_batch(gpt2, tik, texts):
    assert gpt2.encode_ordinary_batch(texts) == tik.encode_ordinary_batch(texts)
    assert gpt2.encode_batch(texts, allowed_special="all") == tik.encode_batch(
        texts, allowed_special="all"
    )


@settings(SETTINGS, max_examples=60)
@given(text=text_with_surrogates)
def test_parity_decode(gpt2, tik, text):
    ids = tik.encode_ordinary(text)
    assert gpt2.decode_bytes(ids) == tik.decode_bytes(ids)
    assert gpt2.decode(ids) == tik.decode(ids)
    assert gpt2.decode_tokens_bytes(ids) == tik.decode_tokens_bytes(ids)
    assume(no_surrogates(text))
    assert gpt2.decode_with_offsets(ids) == tik.decode_with_offsets(ids)


# ----------------------------------------------------------------------------- round trips


@pytest.fixture(scope="module")
def small_tok():
    """A small trained tokenizer with a special token (the CS336 default: specials recognized)."""
    corpus = ("the cat sat on the mat. " * 50 + "日本語のテキスト 😀😀 " * 20 + EOT) * 3
    return fastbpe.train(iter([corpus]), 400, [EOT])


@SETTINGS
@given(text=clean_text)
@example(text="")
@example(text=EOT + EOT)
def test_decode_encode_round_trip(gpt2, small_tok, text):
    assert gpt2.decode(gpt2.encode_ordinary(text)) == text
    assert gpt2.decode(gpt2.encode(text, allowed_special="all")) == text
    assert gpt2.decode_bytes(gpt2.encode_ordinary(text)) == text.encode()
    assert small_tok.decode(small_tok.encode(text)) == text


@SETTINGS
@given(text=text_with_surrogates)
def test_surrogates_become_replacement_chars(gpt2, text):
    fixed = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    assert gpt2.decode(gpt2.encode_ordinary(text)) == fixed


# ----------------------------------------------------------------------------- streaming


def _splits(data, text: str) -> list[str]:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=12)))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]


@SETTINGS
@given(data=st.data(), text=clean_text)
def test_safe_cut_never_changes_ids(gpt2, small_tok, data, text):
    """The cut `encode_iterable` makes: encoding both sides apart == encoding the whole."""
    for tok in (gpt2, small_tok):
        cut = tok._safe_cut(text)
        assert 0 <= cut <= len(text)
        if cut:
            assert tok.encode(text[:cut], allowed_special="all") + tok.encode(
                text[cut:], allowed_special="all"
            ) == tok.encode(text, allowed_special="all")


@settings(SETTINGS, max_examples=25)
@given(data=st.data(), text=clean_text.filter(lambda s: len(s) > 0))
def test_encode_iterable_any_split(small_tok, data, text):
    """encode_iterable over any split == encode of the whole.

    encode_iterable only cuts once it holds 64 KiB, so the text is repeated past that (with
    fragments of a sentence between copies) to make the cuts happen inside the strategy's text."""
    reps = (1 << 17) // (len(text) + 20) + 1
    whole = "".join(text + (" and so on\n" if i % 3 else "") for i in range(reps))
    parts = _splits(data, whole)
    assert list(small_tok.encode_iterable(iter(parts))) == small_tok.encode(whole)


@settings(SETTINGS, max_examples=10)
@given(data=st.data(), text=clean_text.filter(lambda s: len(s) > 0))
def test_encode_iterable_any_split_gpt2(gpt2, data, text):
    reps = (1 << 17) // (len(text) + 20) + 1
    whole = "".join(text + ("\n" if i % 2 else " ") for i in range(reps))
    parts = _splits(data, whole)
    want = gpt2.encode(whole, allowed_special="all")
    # Encoding (tiktoken defaults) raises on special-token text; iterate on the CS336 class.
    tok = fastbpe.Tokenizer._from_core(gpt2._core)
    assert list(tok.encode_iterable(iter(parts))) == want


def test_encode_iterable_lines_of_a_file(small_tok, tmp_path):
    text = "".join(f"line {i} {'x' * (i % 50)}  \n\n" for i in range(20000)) + EOT + "tail"
    p = tmp_path / "t.txt"
    p.write_text(text, encoding="utf-8")
    with open(p, encoding="utf-8", newline="") as f:
        assert list(small_tok.encode_iterable(f)) == small_tok.encode(text)


# ----------------------------------------------------------------------------- training


corpus_strategy = st.lists(
    st.one_of(
        st.sampled_from(
            ["a", "b", "ab", "ba", " ", "  ", "\n", "aa", "bb", " ab", "é", "😀", "'s"]
        ),
        st.just(EOT),
        st.text(st.characters(max_codepoint=0x7F), max_size=4),
    ),
    max_size=200,
).map("".join)


def _train_file(path: str, vocab_size: int, **kw) -> tuple[dict, list]:
    return fastbpe.train_bpe(path, vocab_size, [EOT], **kw)


@settings(SETTINGS, max_examples=30)
@given(corpus=corpus_strategy, vocab_size=st.integers(257, 330))
def test_training_independent_of_threads_and_chunking(corpus, vocab_size):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "c.txt")
        with open(p, "w", encoding="utf-8", newline="") as f:
            f.write(corpus)
        want = _train_file(p, vocab_size, threads=1)
        for threads, chunk in [(2, None), (4, 7), (1, 1), (3, 64), (2, 1 << 20)]:
            got = _train_file(p, vocab_size, threads=threads, _chunk_size=chunk)
            assert got == want, f"threads={threads} chunk={chunk}"


@settings(SETTINGS, max_examples=30)
@given(
    docs=st.lists(corpus_strategy.map(lambda s: s.replace(EOT, "")), max_size=8),
    vocab_size=st.integers(257, 320),
)
def test_training_file_equals_iterable_of_documents(docs, vocab_size):
    """Documents joined by the special token in a file == the same documents as an iterable."""
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "c.txt")
        with open(p, "w", encoding="utf-8", newline="") as f:
            f.write(EOT.join(docs))
        v1, m1 = fastbpe.train_bpe(p, vocab_size, [EOT])
        tok = fastbpe.train(iter(docs), vocab_size, [EOT], threads=2, _chunk_size=5)
        assert tok.merges == m1
        assert tok.vocab == v1
