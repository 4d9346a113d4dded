"""Special tokens: tiktoken's allowed/disallowed semantics and error text, and CS336's rules
(own specials always recognized, longest first, appended to the vocabulary when missing)."""

from __future__ import annotations

import fastbpe
import pytest
from fastbpe import Encoding, Tokenizer

EOT = "<|endoftext|>"
DOUBLE = EOT + EOT


def raised(fn, *args, **kwargs):
    """(exception type, message) or ('ok', result) of fn(*args, **kwargs)."""
    try:
        return "ok", fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - we compare whatever was raised
        return type(e), str(e)


# ----------------------------------------------------------------------------- tiktoken's rules

TEXTS = [
    "",
    "hello",
    EOT,
    "a" + EOT + "b",
    EOT + EOT,
    "x <|endoftext|> y <|endoftext|>",
    "<|endoftext|",
    "<|endoftext|>>",
    "<<|endoftext|>",
    " " + EOT + "\n",
]
ARGS = [
    {},
    {"allowed_special": "all"},
    {"allowed_special": {EOT}},
    {"allowed_special": frozenset({EOT})},
    {"allowed_special": set()},
    {"disallowed_special": ()},
    {"disallowed_special": "all"},
    {"disallowed_special": {EOT}},
    {"disallowed_special": frozenset()},
    {"allowed_special": "all", "disallowed_special": ()},
    {"allowed_special": "all", "disallowed_special": {EOT}},
    {"allowed_special": {EOT}, "disallowed_special": "all"},
    {"allowed_special": set(), "disallowed_special": ()},
]


@pytest.mark.parametrize("kwargs", ARGS, ids=[repr(a) for a in ARGS])
def test_encode_semantics_and_errors_as_tiktoken(gpt2_fastbpe, gpt2_tiktoken, kwargs):
    for text in TEXTS:
        want = raised(gpt2_tiktoken.encode, text, **kwargs)
        assert raised(gpt2_fastbpe.encode, text, **kwargs) == want, text
        got_np = raised(lambda t: gpt2_fastbpe.encode_to_numpy(t, **kwargs).tolist(), text)
        assert got_np == want, text


@pytest.mark.parametrize("kwargs", ARGS, ids=[repr(a) for a in ARGS])
def test_encode_batch_semantics_and_errors_as_tiktoken(gpt2_fastbpe, gpt2_tiktoken, kwargs):
    for texts in (TEXTS, TEXTS[:2], ["a", "b" + EOT]):
        want = raised(gpt2_tiktoken.encode_batch, texts, **kwargs)
        assert raised(gpt2_fastbpe.encode_batch, texts, **kwargs) == want


def test_exact_error_text(gpt2_fastbpe, gpt2_tiktoken):
    with pytest.raises(ValueError) as fast:
        gpt2_fastbpe.encode("hi " + EOT)
    with pytest.raises(ValueError) as tik:
        gpt2_tiktoken.encode("hi " + EOT)
    assert str(fast.value) == str(tik.value)
    assert "disallowed special token '<|endoftext|>'" in str(fast.value)
    assert "disallowed_special=()" in str(fast.value)


def test_encode_ordinary_ignores_specials(gpt2_fastbpe, gpt2_tiktoken):
    for text in TEXTS:
        assert gpt2_fastbpe.encode_ordinary(text) == gpt2_tiktoken.encode_ordinary(text)
    assert gpt2_fastbpe.encode_ordinary(EOT) == [27, 91, 437, 1659, 5239, 91, 29]


def test_specials_never_merge_across(gpt2_fastbpe):
    for left, right in [("a", "b"), (" ", " "), ("hello", " world"), ("'", "s"), ("1", "2")]:
        ids = gpt2_fastbpe.encode(left + EOT + right, allowed_special="all")
        assert ids == gpt2_fastbpe.encode(left) + [50256] + gpt2_fastbpe.encode(right)


def test_allowed_special_unknown_token_is_ignored_as_tiktoken(gpt2_fastbpe, gpt2_tiktoken):
    """tiktoken ignores names in `allowed_special` that are not special tokens of the encoding
    (code written for several encodings passes e.g. {"<|endoftext|>", "<|fim_prefix|>"})."""
    text = "hi <|fim_prefix|> " + EOT
    kwargs = {"allowed_special": {EOT, "<|fim_prefix|>"}}
    assert raised(gpt2_fastbpe.encode, text, **kwargs) == raised(
        gpt2_tiktoken.encode, text, **kwargs
    )


def test_disallowed_special_unknown_token_as_tiktoken(gpt2_fastbpe, gpt2_tiktoken):
    """tiktoken searches the text for each string in `disallowed_special`, special token or not."""
    for text in ["foo bar", "foo"]:
        kwargs = {"disallowed_special": {"bar"}}
        assert raised(gpt2_fastbpe.encode, text, **kwargs) == raised(
            gpt2_tiktoken.encode, text, **kwargs
        )


# ----------------------------------------------------------------------------- several specials


@pytest.fixture(scope="module")
def multi(gpt2_tiktoken):
    """A tiktoken Encoding with GPT-2's ranks and several special tokens, and fastbpe's copy."""
    import tiktoken

    specials = {EOT: 50256, "<|fim_prefix|>": 50257, "<|fim_middle|>": 50258, "[SEP]": 50259}
    tik = tiktoken.Encoding(
        "gpt2-multi",
        pat_str=gpt2_tiktoken._pat_str,
        mergeable_ranks=gpt2_tiktoken._mergeable_ranks,
        special_tokens=specials,
    )
    return Encoding.from_tiktoken(tik), tik


MULTI_TEXT = "a<|fim_prefix|>b [SEP] c<|fim_middle|>" + EOT + "<|fim_prefix|>"
MULTI_ARGS = [
    {},
    {"allowed_special": "all"},
    {"allowed_special": {"[SEP]"}},
    {"allowed_special": {"[SEP]", EOT}, "disallowed_special": ()},
    {"allowed_special": {"<|fim_prefix|>"}, "disallowed_special": {"<|fim_middle|>"}},
    {"disallowed_special": {"[SEP]"}},
    {"allowed_special": "all", "disallowed_special": {"[SEP]"}},
    {"allowed_special": {"[SEP]", "<|fim_prefix|>", "<|fim_middle|>", EOT}},
]


@pytest.mark.parametrize("kwargs", MULTI_ARGS, ids=[repr(a) for a in MULTI_ARGS])
def test_several_specials_as_tiktoken(multi, kwargs):
    fast, tik = multi
    assert isinstance(fast, Encoding)
    assert fast.special_tokens_set == tik.special_tokens_set
    assert fast.n_vocab == tik.n_vocab == 50260
    for text in [MULTI_TEXT, "[SEP]", "no specials here", "<|fim_middle|>[SEP]"]:
        assert raised(fast.encode, text, **kwargs) == raised(tik.encode, text, **kwargs), text


def test_several_specials_decode(multi):
    fast, tik = multi
    ids = tik.encode(MULTI_TEXT, allowed_special="all")
    assert fast.decode(ids) == tik.decode(ids) == MULTI_TEXT
    for s in fast.special_tokens_set:
        assert fast.encode_single_token(s) == tik.encode_single_token(s)
        assert fast.decode_single_token_bytes(tik.encode_single_token(s)) == s.encode()


# ----------------------------------------------------------------------------- encode_single_token


def test_encode_single_token(gpt2_fastbpe, gpt2_tiktoken):
    for t in ["hello", " world", "!", " ", "\n", b"\xff", b" the", EOT]:
        assert gpt2_fastbpe.encode_single_token(t) == gpt2_tiktoken.encode_single_token(t)
    for t in ["hello world", "", b"", "<|endoftext", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"]:
        with pytest.raises(KeyError):
            gpt2_tiktoken.encode_single_token(t)
        with pytest.raises(KeyError):
            gpt2_fastbpe.encode_single_token(t)


def test_encode_single_token_special_as_bytes(gpt2_fastbpe, gpt2_tiktoken):
    """tiktoken looks special tokens up by their bytes too."""
    assert gpt2_tiktoken.encode_single_token(EOT.encode()) == 50256
    assert gpt2_fastbpe.encode_single_token(EOT.encode()) == 50256


# ----------------------------------------------------------------------------- CS336 rules


@pytest.fixture(scope="module")
def gpt2_vocab_merges(gpt2_files):
    tok = Tokenizer.from_files(gpt2_files["encoder.json"], gpt2_files["vocab.bpe"])
    return tok.vocab, tok.merges


@pytest.mark.parametrize("order", ["short-first", "long-first"])
def test_overlapping_specials_longest_first(gpt2_vocab_merges, gpt2_fastbpe, order):
    vocab, merges = gpt2_vocab_merges
    specials = [EOT, DOUBLE] if order == "short-first" else [DOUBLE, EOT]
    tok = Tokenizer(vocab, merges, specials)
    eot, double = tok.special_tokens[EOT], tok.special_tokens[DOUBLE]
    assert eot == 50256  # already in GPT-2's vocab: kept
    assert double == 50257  # missing: appended
    hello = gpt2_fastbpe.encode("Hello")
    assert tok.encode("Hello" + DOUBLE) == hello + [double]
    assert tok.encode("Hello" + EOT) == hello + [eot]
    assert tok.encode(EOT * 3) == [double, eot]
    assert tok.encode(EOT * 4) == [double, double]
    assert tok.encode("a" + EOT + " " + EOT + "b") == [64, eot, 220, eot, 65]
    text = "x" + EOT * 5 + "y<|endoftext|" + DOUBLE
    assert tok.decode(tok.encode(text)) == text
    # the overlapping pair as tiktoken-style arguments: allowed only the short one
    ids = tok.encode(DOUBLE, allowed_special={EOT})
    assert ids == [eot, eot]


def test_specials_appended_when_missing():
    vocab = {i: bytes([i]) for i in range(256)}
    merges: list[tuple[bytes, bytes]] = []
    tok = Tokenizer(vocab, merges, ["<|a|>", "<|bb|>"])
    assert tok.special_tokens == {"<|a|>": 256, "<|bb|>": 257}
    assert tok.vocab[256] == b"<|a|>" and tok.vocab[257] == b"<|bb|>"
    assert tok.n_vocab == 258
    assert tok.encode("x<|a|>y<|bb|>") == [ord("x"), 256, ord("y"), 257]
    assert tok.decode([256, 257]) == "<|a|><|bb|>"


def test_special_already_in_vocab_keeps_its_id():
    vocab = {i: bytes([i]) for i in range(256)}
    vocab[256] = b"<|s|>"
    tok = Tokenizer(vocab, [], ["<|s|>"])
    assert tok.special_tokens == {"<|s|>": 256}
    assert tok.n_vocab == 257
    assert tok.encode("<|s|>") == [256]


def test_cs336_tokenizer_recognizes_own_specials_by_default():
    vocab = {i: bytes([i]) for i in range(256)}
    tok = Tokenizer(vocab, [], [EOT])
    assert tok.encode("a" + EOT) == [97, 256]
    assert tok.encode_ordinary("a" + EOT) == [97] + list(EOT.encode())
    # tiktoken-style arguments still work on a CS336 Tokenizer
    assert tok.encode(
        "a" + EOT, disallowed_special=(), allowed_special=set()
    ) == tok.encode_ordinary("a" + EOT)
    with pytest.raises(ValueError, match="disallowed special token"):
        tok.encode("a" + EOT, allowed_special=set(), disallowed_special="all")


def test_no_specials_means_plain_text():
    vocab = {i: bytes([i]) for i in range(256)}
    tok = Tokenizer(vocab, [])
    assert tok.special_tokens == {}
    assert tok.encode(EOT) == list(EOT.encode())
    with pytest.raises(AttributeError):
        tok.eot_token  # noqa: B018


def test_specials_that_overlap_without_being_prefixes():
    vocab = {i: bytes([i]) for i in range(256)}
    tok = Tokenizer(vocab, [], ["<ab>", "b>c"])
    a, b = tok.special_tokens["<ab>"], tok.special_tokens["b>c"]
    # leftmost match wins; then the rest is ordinary text
    assert tok.encode("<ab>c") == [a, ord("c")]
    assert tok.encode("xb>c<ab>") == [ord("x"), b, a]


def test_get_encoding_specials(gpt2_fastbpe):
    assert fastbpe.get_encoding("gpt2").special_tokens == {EOT: 50256}
    assert gpt2_fastbpe.decode([50256]) == EOT
    assert gpt2_fastbpe.decode_single_token_bytes(50256) == EOT.encode()


def test_special_rules_do_not_leak_between_calls(gpt2_fastbpe, gpt2_tiktoken):
    # The resolved special-token rules are cached per argument pair; alternating calls must each
    # follow their own arguments, whatever type (set, frozenset, tuple) carries them.
    text = "a<|endoftext|>b"
    calls = [
        {"allowed_special": "all"},
        {},
        {"allowed_special": {"<|endoftext|>"}},
        {"disallowed_special": ()},
        {"disallowed_special": frozenset()},
        {"allowed_special": frozenset({"<|endoftext|>"})},
    ] * 3
    for kwargs in calls:
        try:
            want = gpt2_tiktoken.encode(text, **kwargs)
        except ValueError:
            with pytest.raises(ValueError, match="disallowed special token"):
                gpt2_fastbpe.encode(text, **kwargs)
            continue
        assert gpt2_fastbpe.encode(text, **kwargs) == want, kwargs
