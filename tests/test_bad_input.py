"""Bad input gives a clear Python exception (TypeError, KeyError, ValueError,
FileNotFoundError, ...), never a Rust panic (`pyo3_runtime.PanicException` derives from
BaseException, so `pytest.raises` of an ordinary exception class would not catch one: it fails the
test)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from fastbpe import Tokenizer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EOT = "<|endoftext|>"
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def byte_vocab() -> dict[int, bytes]:
    return {i: bytes([i]) for i in range(256)}


# ----------------------------------------------------------------------------- wrong types


@pytest.mark.parametrize("bad", [123, b"x", None, ["a"], 1.5, bytearray(b"x")])
def test_encode_wrong_type(gpt2_fastbpe, bad):
    for fn in (
        gpt2_fastbpe.encode,
        gpt2_fastbpe.encode_ordinary,
        gpt2_fastbpe.encode_to_numpy,
    ):
        with pytest.raises(TypeError, match="str"):
            fn(bad)


@pytest.mark.parametrize("bad", ["a string", [1], ["a", 2], [b"x"], None, 5])
def test_encode_batch_wrong_type(gpt2_fastbpe, bad):
    with pytest.raises(TypeError):
        gpt2_fastbpe.encode_batch(bad)
    with pytest.raises(TypeError):
        gpt2_fastbpe.encode_ordinary_batch(bad)


@pytest.mark.parametrize("bad", ["x", b"x", None, 5, [1.5], ["a"], [None], [[1]], [True, 1]])
def test_decode_wrong_type(gpt2_fastbpe, bad):
    with pytest.raises(TypeError):
        gpt2_fastbpe.decode(bad)
    with pytest.raises(TypeError):
        gpt2_fastbpe.decode_bytes(bad)
    with pytest.raises(TypeError):
        gpt2_fastbpe.decode_tokens_bytes(bad)


@pytest.mark.parametrize("bad_id", [50257, 10**6, 10**12, 2**32, 2**32 + 5, 2**63 - 1])
def test_decode_unknown_id(gpt2_fastbpe, bad_id):
    for fn in (gpt2_fastbpe.decode, gpt2_fastbpe.decode_bytes, gpt2_fastbpe.decode_tokens_bytes):
        with pytest.raises(KeyError, match=str(bad_id)):
            fn([1, bad_id, 2])
    with pytest.raises(KeyError, match=str(bad_id)):
        gpt2_fastbpe.decode_single_token_bytes(bad_id)


@pytest.mark.parametrize("bad_id", [-1, -2, -(2**31), -(2**63)])
def test_decode_negative_id_names_the_id(gpt2_fastbpe, bad_id):
    """The message must name the id the user passed (not its two's-complement u64)."""
    for fn in (gpt2_fastbpe.decode, gpt2_fastbpe.decode_tokens_bytes):
        with pytest.raises((KeyError, ValueError)) as e:
            fn([bad_id])
        assert str(bad_id) in str(e.value), str(e.value)
    with pytest.raises((KeyError, ValueError)) as e:
        gpt2_fastbpe.decode_single_token_bytes(bad_id)
    assert str(bad_id) in str(e.value), str(e.value)


@pytest.mark.parametrize("bad_id", [2**64, 10**20, -(2**64)])
def test_decode_huge_int(gpt2_fastbpe, bad_id):
    # Beyond 64 bits: tiktoken raises OverflowError; a KeyError/ValueError would be fine too.
    with pytest.raises((KeyError, ValueError, OverflowError)):
        gpt2_fastbpe.decode([bad_id])


def test_decode_numpy_ids(gpt2_fastbpe):
    ids = gpt2_fastbpe.encode_to_numpy("hello world")
    assert gpt2_fastbpe.decode(ids) == "hello world"
    assert gpt2_fastbpe.decode(ids.astype(np.int64)) == "hello world"
    assert gpt2_fastbpe.decode(list(ids)) == "hello world"
    with pytest.raises(TypeError):
        gpt2_fastbpe.decode(np.array([1.5]))


def test_decode_single_token_wrong_type(gpt2_fastbpe):
    for bad in ["a", None, 1.5, [1]]:
        with pytest.raises(TypeError):
            gpt2_fastbpe.decode_single_token_bytes(bad)


def test_decode_strict_errors(gpt2_fastbpe):
    bad = [gpt2_fastbpe.encode_single_token(b"\xff")]
    assert gpt2_fastbpe.decode(bad) == "\ufffd"
    with pytest.raises(UnicodeDecodeError):
        gpt2_fastbpe.decode(bad, errors="strict")
    with pytest.raises(UnicodeDecodeError):
        gpt2_fastbpe.decode_with_offsets(bad)


def test_special_arguments_wrong_type(gpt2_fastbpe):
    with pytest.raises(TypeError):
        gpt2_fastbpe.encode("x", allowed_special=5)
    with pytest.raises(TypeError):
        gpt2_fastbpe.encode("x", disallowed_special=5)


def test_encode_to_numpy_bad_dtype(gpt2_fastbpe):
    with pytest.raises(ValueError):
        gpt2_fastbpe.encode_to_numpy("x", dtype=np.float32)
    with pytest.raises(ValueError):
        gpt2_fastbpe.encode_to_numpy("x", dtype=np.int8)
    with pytest.raises(TypeError):
        gpt2_fastbpe.encode_to_numpy("x", dtype="not a dtype")


def test_batch_bad_num_threads(gpt2_fastbpe):
    with pytest.raises((TypeError, ValueError, OverflowError)):
        gpt2_fastbpe.encode_ordinary_batch(["a"], num_threads=-1)
    with pytest.raises(TypeError):
        gpt2_fastbpe.encode_ordinary_batch(["a"], num_threads="2")


# ----------------------------------------------------------------------------- constructor


@pytest.mark.parametrize(
    "vocab, merges, specials",
    [
        ([b"a"], [], None),
        ({0: "a"}, [], None),
        ({"a": 0}, [], None),
        (byte_vocab(), [("a", "b")], None),
        (byte_vocab(), [(b"a",)], None),
        (byte_vocab(), [(b"a", b"b", b"c")], None),
        (byte_vocab(), "ab", None),
        (byte_vocab(), [b"ab"], None),
        (byte_vocab(), [], "<|endoftext|>"),
        (byte_vocab(), [], [1]),
        (byte_vocab(), [], [b"<|endoftext|>"]),
    ],
)
def test_constructor_wrong_types(vocab, merges, specials):
    with pytest.raises(TypeError):
        Tokenizer(vocab, merges, specials)


@pytest.mark.parametrize(
    "vocab, merges, specials",
    [
        ({-1: b"a", **byte_vocab()}, [], None),  # negative id
        ({**byte_vocab(), 256: b""}, [], None),  # empty token (files with one are refused)
        (byte_vocab(), [(b"a", b"b")], None),  # merge result not in vocab
        ({**byte_vocab(), 256: b"ab"}, [(b"a", b"zz")], None),  # merge part not in vocab
        ({**byte_vocab(), 256: b"ab"}, [(b"", b"ab")], None),  # empty merge part
        (byte_vocab(), [], [""]),  # empty special token
    ],
)
def test_constructor_bad_values(vocab, merges, specials):
    with pytest.raises(ValueError):
        Tokenizer(vocab, merges, specials)


def test_constructor_id_beyond_u32():
    with pytest.raises((ValueError, OverflowError)):
        Tokenizer({**byte_vocab(), 2**40: b"ab"}, [(b"a", b"b")])


@pytest.mark.parametrize(
    "vocab, merges",
    [
        ({**byte_vocab(), 256: b"a"}, []),  # the same bytes under two ids
        ({**byte_vocab(), 256: b"ab"}, [(b"a", b"b"), (b"a", b"b")]),  # a merge twice
    ],
)
def test_constructor_redundant_entries(vocab, merges):
    """Refused with a ValueError, or accepted with a working tokenizer: never a panic."""
    try:
        tok = Tokenizer(vocab, merges)
    except ValueError:
        return
    assert tok.decode(tok.encode("abab a")) == "abab a"


def test_vocab_missing_single_bytes():
    """A vocabulary without all 256 bytes loads, and text it cannot spell is a clear error."""
    vocab = {0: b"a", 1: b"b", 2: b"ab", 3: b" "}
    try:
        tok = Tokenizer(vocab, [(b"a", b"b")])
    except ValueError as e:  # refusing such a vocabulary up front is fine too
        assert "byte" in str(e).lower()
        return
    assert tok.encode("ab ab") == [2, 3, 2]
    with pytest.raises(ValueError):
        tok.encode("abc")
    with pytest.raises(ValueError):
        tok.encode_ordinary_batch(["ab", "z"])


# ----------------------------------------------------------------------------- files

ENC = {b: c for b, c in zip(range(256), "".join(chr(c) for c in range(256)))}


def write(path, data):
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def good_vocab_merges(tmp_path):
    from conftest import bytes_to_unicode

    m = bytes_to_unicode()
    vocab = {m[b]: b for b in range(256)}
    vocab[m[ord("a")] + m[ord("b")]] = 256
    v = write(tmp_path / "vocab.json", json.dumps(vocab))
    mg = write(tmp_path / "merges.txt", "#version: 0.2\na b\n")
    return v, mg


def test_good_small_files_load(tmp_path):
    v, m = good_vocab_merges(tmp_path)
    tok = Tokenizer.from_files(v, m)
    assert tok.encode("abc") == [256, tok.encode_single_token(b"c")]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2, 3]",
        '"a string"',
        '{"a": "zero"}',
        '{"a": -1}',
        '{"a": 1.5}',
        '{"a": 99999999999}',
        '{"€": 0}',  # outside GPT-2's byte mapping
        '{"": 0}',
        "",
        b"\xff\xfe{}",  # invalid UTF-8
        b'{"a": 0, "\xc3": 1}',
    ],
)
def test_malformed_vocab_json(tmp_path, content):
    _, m = good_vocab_merges(tmp_path)
    v = write(tmp_path / "bad_vocab.json", content)
    with pytest.raises(ValueError) as e:
        Tokenizer.from_files(v, m)
    assert "bad_vocab.json" in str(e.value)


@pytest.mark.parametrize(
    "content",
    [
        "a b c\n",
        "ab\n",
        "a  b\n",
        "€ b\n",
        b"a \xff\n",
        "z q\n",  # "zq" is not in the vocabulary
    ],
)
def test_malformed_merges_txt(tmp_path, content):
    v, _ = good_vocab_merges(tmp_path)
    m = write(tmp_path / "bad_merges.txt", content)
    with pytest.raises(ValueError):
        Tokenizer.from_files(v, m)


def test_empty_merges_is_fine(tmp_path):
    v, _ = good_vocab_merges(tmp_path)
    m = write(tmp_path / "empty.txt", "")
    try:
        tok = Tokenizer.from_files(v, m)
    except ValueError:
        return  # refusing a vocabulary token that no merge makes is fine too
    assert tok.decode(tok.encode("abc")) == "abc"


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


@pytest.mark.parametrize(
    "content",
    [
        "!!!notbase64 0\n",
        "YQ==\n",  # no rank
        "YQ== 0 extra\n",
        "YQ== zero\n",
        "YQ== -1\n",
        "YQ== 99999999999\n",
        " 0\n",  # empty token
        "",
        "\n\n",
        b"\xff\xff 0\n",
    ],
)
def test_malformed_tiktoken_file(tmp_path, content):
    p = write(tmp_path / "bad.tiktoken", content)
    with pytest.raises(ValueError) as e:
        Tokenizer.from_tiktoken_file(p)
    assert "bad.tiktoken" in str(e.value)


ALL_BYTES = "".join(f"{base64.b64encode(bytes([b])).decode()} {b}\n" for b in range(256))


@pytest.mark.parametrize(
    "extra",
    [
        "YWI= 256\nYmM= 256\n",  # same rank twice
        "YWI= 5\n",  # rank of a single byte reused
    ],
)
def test_inconsistent_tiktoken_file(tmp_path, extra):
    p = write(tmp_path / "bad.tiktoken", ALL_BYTES + extra)
    with pytest.raises(ValueError):
        Tokenizer.from_tiktoken_file(p)


def test_tiktoken_file_same_bytes_twice(tmp_path):
    """Refused, or accepted (tiktoken's dict keeps the last rank): never a panic."""
    p = write(tmp_path / "dup.tiktoken", ALL_BYTES + "YWI= 256\nYWI= 257\n")
    try:
        tok = Tokenizer.from_tiktoken_file(p)
    except ValueError:
        return
    assert tok.decode(tok.encode("abab")) == "abab"


def test_tiktoken_file_missing_single_bytes(tmp_path):
    p = write(tmp_path / "bytes.tiktoken", "YQ== 0\nYg== 1\n")
    with pytest.raises(ValueError, match="byte"):
        Tokenizer.from_tiktoken_file(p)


def test_tiktoken_file_missing_merge_parts(tmp_path):
    """'abc' with no way to build it from smaller tokens: loading or encoding says so, no panic."""
    lines = [f"{b64(bytes([b]))} {b}" for b in range(256)] + [f"{b64(b'abc')} 256"]
    p = write(tmp_path / "gappy.tiktoken", "\n".join(lines) + "\n")
    try:
        tok = Tokenizer.from_tiktoken_file(p)
    except ValueError:
        return
    ids = tok.encode("abc abc")
    assert tok.decode(ids) == "abc abc"


@pytest.mark.parametrize("which", ["vocab", "merges"])
def test_missing_files(tmp_path, which):
    v, m = good_vocab_merges(tmp_path)
    missing = tmp_path / "nope" / "missing.file"
    args = (missing, m) if which == "vocab" else (v, missing)
    with pytest.raises(FileNotFoundError) as e:
        Tokenizer.from_files(*args)
    assert "missing.file" in str(e.value)


def test_missing_tiktoken_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        Tokenizer.from_tiktoken_file(tmp_path / "missing.tiktoken")


def test_directory_instead_of_file(tmp_path):
    v, m = good_vocab_merges(tmp_path)
    d = tmp_path / "adir"
    d.mkdir()
    with pytest.raises(IsADirectoryError):
        Tokenizer.from_files(d, m)
    with pytest.raises(IsADirectoryError):
        Tokenizer.from_files(v, d)
    with pytest.raises(IsADirectoryError):
        Tokenizer.from_tiktoken_file(d)


@pytest.mark.parametrize("bad", [None, 5, b"/tmp/x", ["a"]])
def test_path_wrong_type(bad, tmp_path):
    v, m = good_vocab_merges(tmp_path)
    with pytest.raises(TypeError):
        Tokenizer.from_files(bad, m)
    with pytest.raises(TypeError):
        Tokenizer.from_tiktoken_file(bad)


def test_from_tiktoken_wrong_object():
    with pytest.raises(TypeError):
        Tokenizer.from_tiktoken("gpt2")


# get_encoding's errors (unknown names, missing or corrupt files, offline): tests/test_registry.py


# ----------------------------------------------------------------------------- fuzzed files


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_tiktoken_file(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("fz") / "f.tiktoken"
    p.write_bytes(data)
    try:
        tok = Tokenizer.from_tiktoken_file(p)
    except ValueError:
        return
    try:
        tok.decode(tok.encode("hello wörld 123"))
    except ValueError:
        pass


@FUZZ
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_fuzz_vocab_merges_files(tmp_path_factory, vocab_data, merges_data):
    d = tmp_path_factory.mktemp("fz")
    (d / "v.json").write_bytes(vocab_data)
    (d / "m.txt").write_bytes(merges_data)
    try:
        Tokenizer.from_files(d / "v.json", d / "m.txt")
    except ValueError:
        pass


token_bytes = st.binary(min_size=1, max_size=4)


@FUZZ
@given(
    st.dictionaries(st.integers(0, 400), token_bytes, max_size=40),
    st.lists(st.tuples(token_bytes, token_bytes), max_size=20),
    st.lists(st.text(min_size=1, max_size=5), max_size=3),
    st.text(max_size=50),
)
def test_fuzz_constructor_and_encode(vocab, merges, specials, text):
    """Random (mostly inconsistent) vocabularies: a ValueError, or a tokenizer that works."""
    vocab = {**{i: bytes([i]) for i in range(256) if i % 3}, **vocab}
    try:
        tok = Tokenizer(vocab, merges, specials)
    except ValueError:
        return
    try:
        ids = tok.encode(text)
    except ValueError:
        return
    assert tok.decode_bytes(ids) == text.encode("utf-8", "replace") or True
