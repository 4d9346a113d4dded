"""fastbpe's GPT-2 encoding gives tiktoken's ids, byte for byte, on any input.

The oracle is tiktoken's own `gpt2` encoding, loaded from the same (hash-checked) files.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import fastbpe
import numpy as np
import pytest
from conftest import assert_same_ids
from fastbpe import Tokenizer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

EOT = "<|endoftext|>"
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@pytest.fixture(scope="module")
def lines(varied_text):
    return varied_text.splitlines(keepends=True)


@pytest.fixture(scope="module")
def paragraphs(varied_text):
    return varied_text.split("\n\n")


@pytest.fixture(scope="module")
def want_lines(gpt2_tiktoken, lines):
    return [gpt2_tiktoken.encode_ordinary(line) for line in lines]


@pytest.fixture(scope="module")
def want_paragraphs(gpt2_tiktoken, paragraphs):
    """tiktoken's ids per paragraph: (ordinary, all special allowed)."""
    return (
        [gpt2_tiktoken.encode_ordinary(p) for p in paragraphs],
        [gpt2_tiktoken.encode(p, allowed_special="all") for p in paragraphs],
    )


@pytest.fixture(scope="module")
def sample(varied_text):
    """About 400 KB from the middle of the varied text, for the slower (Python-loop) checks."""
    mid = len(varied_text) // 2
    return varied_text[mid : mid + 400_000]


# ----------------------------------------------------------------------------- varied text


def test_varied_text_is_varied(varied_text):
    assert len(varied_text.encode()) > 3_000_000
    for needle in [
        "\r\n",
        "\u00a0",
        "\u2028",
        "\u3000",
        "\u0085",
        EOT,
        "\u200d",
        "'s",
        "'LL",
        "def ",
        "中",
        "я",
        "ب",
        "क",
        "ก",
        "\U0001f3fd",
        "\u0301",
        "\x00",
        "\t\t",
    ]:
        assert needle in varied_text, needle


def test_whole_text_encode_ordinary(gpt2_fastbpe, gpt2_tiktoken, varied_text):
    assert_same_ids(varied_text, gpt2_fastbpe.encode_ordinary, gpt2_tiktoken.encode_ordinary)


def test_whole_text_encode_all_special(gpt2_fastbpe, gpt2_tiktoken, varied_text):
    got = gpt2_fastbpe.encode(varied_text, allowed_special="all")
    want = gpt2_tiktoken.encode(varied_text, allowed_special="all")
    assert got.count(50256) == varied_text.count(EOT) > 0
    if got != want:
        assert_same_ids(
            varied_text,
            lambda t: gpt2_fastbpe.encode(t, allowed_special="all"),
            lambda t: gpt2_tiktoken.encode(t, allowed_special="all"),
        )


def test_whole_text_encode_as_ordinary_text(gpt2_fastbpe, gpt2_tiktoken, varied_text):
    assert gpt2_fastbpe.encode(varied_text, disallowed_special=()) == gpt2_tiktoken.encode(
        varied_text, disallowed_special=()
    )


def test_per_line(gpt2_fastbpe, lines, want_lines):
    got = [gpt2_fastbpe.encode_ordinary(line) for line in lines]
    for line, g, w in zip(lines, got, want_lines):
        assert g == w, f"line {line!r}"


def test_per_paragraph(gpt2_fastbpe, gpt2_tiktoken, paragraphs, want_paragraphs):
    for p, w in zip(paragraphs, want_paragraphs[1]):
        g = gpt2_fastbpe.encode(p, allowed_special="all")
        if g != w:
            assert_same_ids(
                p,
                lambda t: gpt2_fastbpe.encode(t, allowed_special="all"),
                lambda t: gpt2_tiktoken.encode(t, allowed_special="all"),
            )


def test_decode_round_trip(gpt2_fastbpe, varied_text):
    ids = gpt2_fastbpe.encode(varied_text, allowed_special="all")
    assert gpt2_fastbpe.decode(ids) == varied_text
    assert gpt2_fastbpe.decode_bytes(ids) == varied_text.encode("utf-8")


def test_decode_equals_tiktoken_on_arbitrary_ids(gpt2_fastbpe, gpt2_tiktoken):
    rng = random.Random(7)
    for n in [0, 1, 2, 3, 10, 100, 1000]:
        ids = [rng.randrange(50257) for _ in range(n)]
        assert gpt2_fastbpe.decode_bytes(ids) == gpt2_tiktoken.decode_bytes(ids)
        # invalid UTF-8 becomes U+FFFD, as in tiktoken
        assert gpt2_fastbpe.decode(ids) == gpt2_tiktoken.decode(ids)
    bad = [gpt2_tiktoken.encode_single_token(b"\xe4"), gpt2_tiktoken.encode_single_token(b"a")]
    assert gpt2_fastbpe.decode(bad) == "\ufffda"


# ---------------------------------------------------------------------------- numpy, batch, threads


def test_numpy(gpt2_fastbpe, gpt2_tiktoken, varied_text):
    arr = gpt2_fastbpe.encode_to_numpy(varied_text, allowed_special="all")
    assert arr.dtype == np.uint16
    want = gpt2_tiktoken.encode_to_numpy(varied_text, allowed_special="all")
    assert np.array_equal(arr.astype(np.uint32), want)
    arr32 = gpt2_fastbpe.encode_to_numpy(varied_text, allowed_special="all", dtype=np.uint32)
    assert arr32.dtype == np.uint32 and np.array_equal(arr32, want)
    empty = gpt2_fastbpe.encode_to_numpy("")
    assert empty.dtype == np.uint16 and empty.size == 0


def test_numpy_default_is_tiktokens_defaults(gpt2_fastbpe):
    with pytest.raises(ValueError, match="disallowed special token"):
        gpt2_fastbpe.encode_to_numpy("a" + EOT)
    assert gpt2_fastbpe.encode_to_numpy(EOT, allowed_special={EOT}).tolist() == [50256]


@pytest.mark.parametrize("num_threads", [None, 1, 2, 3])
def test_encode_ordinary_batch(
    gpt2_fastbpe, lines, paragraphs, want_lines, want_paragraphs, num_threads
):
    # (tiktoken's encode_ordinary_batch is a thread pool over encode_ordinary: same ids as the
    # loop that computed want_*, checked on a slice below.)
    assert gpt2_fastbpe.encode_ordinary_batch(lines, num_threads=num_threads) == want_lines
    got = gpt2_fastbpe.encode_ordinary_batch(paragraphs, num_threads=num_threads)
    assert got == want_paragraphs[0]


def test_tiktoken_batch_is_its_loop(gpt2_tiktoken, paragraphs, want_paragraphs):
    assert gpt2_tiktoken.encode_ordinary_batch(paragraphs[:500]) == want_paragraphs[0][:500]


@pytest.mark.parametrize("num_threads", [None, 2])
def test_encode_batch(gpt2_fastbpe, paragraphs, want_paragraphs, num_threads):
    got = gpt2_fastbpe.encode_batch(paragraphs, num_threads=num_threads, allowed_special="all")
    assert got == want_paragraphs[1]
    got = gpt2_fastbpe.encode_batch(paragraphs, num_threads=num_threads, disallowed_special=())
    assert got == want_paragraphs[0]
    with pytest.raises(ValueError, match="disallowed special token"):
        gpt2_fastbpe.encode_batch(paragraphs, num_threads=num_threads)


def test_batch_edge_cases(gpt2_fastbpe, gpt2_tiktoken):
    assert gpt2_fastbpe.encode_ordinary_batch([]) == []
    assert gpt2_fastbpe.encode_batch([]) == []
    texts = ["", "a", "", " ", "\ud800", "x\ud83d\ude00y"]
    assert gpt2_fastbpe.encode_ordinary_batch(texts) == gpt2_tiktoken.encode_ordinary_batch(texts)
    assert gpt2_fastbpe.encode_batch(texts) == gpt2_tiktoken.encode_batch(texts)


def test_python_threads_share_one_encoding(gpt2_fastbpe, paragraphs, want_paragraphs):
    texts = paragraphs[:4000]
    want = want_paragraphs[0][:4000]
    barrier = threading.Barrier(4)

    def work(k: int) -> bool:
        barrier.wait()
        return all(gpt2_fastbpe.encode_ordinary(t) == w for t, w in zip(texts[k::4], want[k::4]))

    with ThreadPoolExecutor(4) as ex:
        assert all(ex.map(work, range(4)))


# ----------------------------------------------------------------------------- decoding helpers


def test_decode_with_offsets(gpt2_fastbpe, gpt2_tiktoken, sample):
    for text in [sample, "héllo wörld", "中文字符 and 😀 emoji 👨‍👩‍👧", "\u0301x", "", "a\r\nb"]:
        ids = gpt2_tiktoken.encode_ordinary(text)
        assert gpt2_fastbpe.decode_with_offsets(ids) == gpt2_tiktoken.decode_with_offsets(ids)


def test_decode_tokens_bytes(gpt2_fastbpe, gpt2_tiktoken, sample):
    ids = gpt2_tiktoken.encode(sample, allowed_special="all")
    assert gpt2_fastbpe.decode_tokens_bytes(ids) == gpt2_tiktoken.decode_tokens_bytes(ids)
    for i in [0, 1, 255, 256, 1000, 50255, 50256]:
        assert gpt2_fastbpe.decode_single_token_bytes(i) == gpt2_tiktoken.decode_single_token_bytes(
            i
        )


def test_token_byte_values(gpt2_fastbpe, gpt2_tiktoken):
    assert gpt2_fastbpe.token_byte_values() == gpt2_tiktoken.token_byte_values()


def test_attributes(gpt2_fastbpe, gpt2_tiktoken):
    assert gpt2_fastbpe.n_vocab == gpt2_tiktoken.n_vocab == 50257
    assert gpt2_fastbpe.max_token_value == gpt2_tiktoken.max_token_value
    assert gpt2_fastbpe.eot_token == gpt2_tiktoken.eot_token == 50256
    assert gpt2_fastbpe.special_tokens_set == gpt2_tiktoken.special_tokens_set == {EOT}
    assert gpt2_fastbpe.name == gpt2_tiktoken.name == "gpt2"
    assert gpt2_fastbpe.is_special_token(50256) and not gpt2_fastbpe.is_special_token(0)
    assert isinstance(gpt2_fastbpe, fastbpe.Encoding)


def test_encode_single_token(gpt2_fastbpe, gpt2_tiktoken):
    for t in ["hello", " world", "!", b"\xe4", b" the", EOT]:
        assert gpt2_fastbpe.encode_single_token(t) == gpt2_tiktoken.encode_single_token(t)


# ----------------------------------------------------------------------------- hypothesis

any_text = st.text(st.characters(), max_size=200)  # all code points, surrogates included

FRAGMENTS = [
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\x0b",
    "\x0c",
    "\u00a0",
    "\u2028",
    "\u3000",
    "\u0085",
    "\u1680",
    "\u200b",
    "0",
    "1",
    "42",
    "٣",
    "²",
    "Ⅻ",
    "'",
    "'s",
    "'S",
    "'t",
    "'ll",
    "'LL",
    "'Ll",
    "'ve",
    "'re",
    "'d",
    "'m",
    "’s",
    "a",
    "A",
    "é",
    "e\u0301",
    "\u0301",
    "中",
    "я",
    "😀",
    "👍🏽",
    "\u200d",
    "🇫🇷",
    ".",
    ",",
    "!",
    "?",
    "...",
    "-",
    "_",
    "(",
    ")",
    "^",
    "$",
    "#",
    "@",
    "<",
    ">",
    "|",
    "<|",
    "|>",
    "endoftext",
    EOT,
    "\x00",
    "\x7f",
    "\ud800",
    "\udfff",
    "\ud83d",
    "\ude00",
]
fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
ascii_text = st.text(st.characters(max_codepoint=127), max_size=300)
spacey_text = st.text(st.sampled_from(" \t\n\r\x0b\x0c\u00a0\u3000\u2028\u0085a1.'s"), max_size=300)


@SETTINGS
@given(st.one_of(any_text, fragment_text, ascii_text, spacey_text))
@example("\ud800")
@example("a\udfffb")
@example("\ud83d\ude00")  # a valid surrogate pair: tiktoken joins it into U+1F600
@example("\ud83d")
@example(" \ud800 ")
def test_hypothesis_parity(gpt2_fastbpe, gpt2_tiktoken, text):
    assert gpt2_fastbpe.encode_ordinary(text) == gpt2_tiktoken.encode_ordinary(text)
    assert gpt2_fastbpe.encode(text, allowed_special="all") == gpt2_tiktoken.encode(
        text, allowed_special="all"
    )
    assert gpt2_fastbpe.encode(text, disallowed_special=()) == gpt2_tiktoken.encode(
        text, disallowed_special=()
    )


@SETTINGS
@given(st.one_of(any_text, fragment_text))
def test_hypothesis_round_trip(gpt2_fastbpe, text):
    ids = gpt2_fastbpe.encode_ordinary(text)
    fixed = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    assert gpt2_fastbpe.decode(ids) == fixed
    assert gpt2_fastbpe.encode_to_numpy(text, disallowed_special=()).tolist() == ids


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.lists(st.one_of(any_text, fragment_text), max_size=20))
def test_hypothesis_batch(gpt2_fastbpe, gpt2_tiktoken, texts):
    assert gpt2_fastbpe.encode_ordinary_batch(texts) == [
        gpt2_tiktoken.encode_ordinary(t) for t in texts
    ]


def test_lone_surrogates_become_replacement_char(gpt2_fastbpe, gpt2_tiktoken):
    for text in ["\ud800", "\udc00", "a\ud800b", "\ud800\ud800", "\udc00\ud800", "x\ud83d\ude00"]:
        want = gpt2_tiktoken.encode(text)
        assert gpt2_fastbpe.encode(text) == want
        assert gpt2_fastbpe.encode_ordinary(text) == want
        assert gpt2_fastbpe.encode_batch([text]) == [want]
        assert gpt2_fastbpe.encode_to_numpy(text).tolist() == want
    assert gpt2_fastbpe.encode("\ud800") == gpt2_fastbpe.encode("\ufffd")


# ----------------------------------------------------------------------------- long / pathological


def _random_digits(n: int) -> str:
    rng = random.Random(n)
    return "".join(rng.choices("0123456789", k=n))


PATHOLOGICAL = {
    "a*100k": lambda: "a" * 100_000,
    "space*100k": lambda: " " * 100_000,
    "newline*100k": lambda: "\n" * 100_000,
    "space-newline*50k": lambda: " \n" * 50_000,
    "caret*1M": lambda: "^" * 1_000_000,
    "digits*1M": lambda: _random_digits(1_000_000),
    "ones*1M": lambda: "1" * 1_000_000,
    "nbsp*100k": lambda: "\u00a0" * 100_000,
    "cjk*300k": lambda: "中" * 300_000,
    "emoji*100k": lambda: "👍🏽" * 100_000,
    "combining*200k": lambda: "e" + "\u0301" * 200_000,
    "contractions*100k": lambda: "'s" * 100_000,
    "ab*200k": lambda: "ab" * 200_000,
    "eot*20k": lambda: EOT * 20_000,
    "space-a*200k": lambda: " a" * 200_000,
    "bytes-mix": lambda: "".join(chr(i) for i in range(1, 0x2000)) * 20,
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological(gpt2_fastbpe, gpt2_tiktoken, name):
    text = PATHOLOGICAL[name]()
    assert gpt2_fastbpe.encode_ordinary(text) == gpt2_tiktoken.encode_ordinary(text)


def test_pathological_with_specials(gpt2_fastbpe, gpt2_tiktoken):
    text = ("^" * 10_000 + EOT + " " * 10_000 + EOT) * 10
    assert gpt2_fastbpe.encode(text, allowed_special="all") == gpt2_tiktoken.encode(
        text, allowed_special="all"
    )


def test_fifty_megabyte_single_line(gpt2_fastbpe, gpt2_tiktoken, varied_text):
    line = " ".join(varied_text.replace("\r", " ").split("\n"))
    reps = 50_000_000 // len(line.encode()) + 1
    text = line * reps
    assert "\n" not in text and len(text.encode()) >= 50_000_000
    got = gpt2_fastbpe.encode_to_numpy(text, disallowed_special=())
    want = gpt2_tiktoken.encode_to_numpy(text, disallowed_special=())
    assert np.array_equal(got.astype(np.uint32), want)


# ----------------------------------------------------------------------------- loading routes


def test_r50k_base_equals_gpt2(gpt2_fastbpe, gpt2_tiktoken, sample):
    r50k = fastbpe.get_encoding("r50k_base")
    assert r50k.name == "r50k_base"
    assert r50k.n_vocab == gpt2_fastbpe.n_vocab and r50k.eot_token == gpt2_fastbpe.eot_token
    assert r50k.encode(sample, allowed_special="all") == gpt2_fastbpe.encode(
        sample, allowed_special="all"
    )
    assert r50k.token_byte_values() == gpt2_fastbpe.token_byte_values()
    assert fastbpe.get_encoding("gpt2") is gpt2_fastbpe  # cached


@pytest.fixture(scope="module")
def loaded_variants(gpt2_files, gpt2_tiktoken):
    import tiktoken

    f = gpt2_files
    return {
        "from_files": Tokenizer.from_files(f["encoder.json"], f["vocab.bpe"], [EOT]),
        "from_tiktoken_file": Tokenizer.from_tiktoken_file(f["r50k_base.tiktoken"], {EOT: 50256}),
        "from_tiktoken(gpt2)": Tokenizer.from_tiktoken(gpt2_tiktoken),
        "from_tiktoken(r50k_base)": Tokenizer.from_tiktoken(tiktoken.get_encoding("r50k_base")),
        "from_ranks": Tokenizer.from_ranks(gpt2_tiktoken._mergeable_ranks, {EOT: 50256}),
        "get_encoding(path=file)": fastbpe.get_encoding("gpt2", path=f["r50k_base.tiktoken"]),
    }


@pytest.mark.parametrize(
    "variant",
    [
        "from_files",
        "from_tiktoken_file",
        "from_tiktoken(gpt2)",
        "from_tiktoken(r50k_base)",
        "from_ranks",
        "get_encoding(path=file)",
    ],
)
def test_loading_routes_identical(loaded_variants, gpt2_fastbpe, gpt2_tiktoken, sample, variant):
    tok = loaded_variants[variant]
    assert tok.n_vocab == 50257
    assert tok.special_tokens == {EOT: 50256}
    assert tok.encode(sample, allowed_special="all") == gpt2_tiktoken.encode(
        sample, allowed_special="all"
    )
    assert tok.encode_ordinary(sample) == gpt2_fastbpe.encode_ordinary(sample)
    assert tok.vocab == gpt2_fastbpe.vocab
    assert tok.token_byte_values() == gpt2_tiktoken.token_byte_values()


def test_from_files_merges_are_gpt2s(loaded_variants, gpt2_files):
    lines = gpt2_files["vocab.bpe"].read_text(encoding="utf-8").split("\n")[1:-1]
    merges = loaded_variants["from_files"].merges
    assert len(merges) == len(lines) == 50_000
    assert merges[0] == (b" ", b"t")


def test_from_tiktoken_names(gpt2_tiktoken, loaded_variants):
    assert loaded_variants["from_tiktoken(gpt2)"].name == "gpt2"
    assert loaded_variants["from_tiktoken(gpt2)"].pattern == gpt2_tiktoken._pat_str


def test_every_code_point(gpt2_fastbpe, gpt2_tiktoken):
    """Every code point (surrogates included, which become U+FFFD) in a few contexts."""
    chars = [chr(c) for c in range(0x110000)]
    size = 1 << 15
    for k in range(0, len(chars), size):
        text = "".join(f"a{c}1 {c}{c}|" for c in chars[k : k + size])
        assert_same_ids(text, gpt2_fastbpe.encode_ordinary, gpt2_tiktoken.encode_ordinary)
