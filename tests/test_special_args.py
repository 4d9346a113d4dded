"""Every argument of every encode method takes what tiktoken takes and fails where tiktoken fails,
with the same exception type: generated combinations of argument kinds (str, sets, lists, None,
numbers, bytes, ...) run through both libraries and compared."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EOT = "<|endoftext|>"

# (label, factory): a fresh value per call, since some kinds (iterators, sets) can be consumed.
SPECIAL_KINDS = [
    ("all", lambda: "all"),
    ("bare str of a special", lambda: EOT),
    ("empty str", lambda: ""),
    ("str of one char", lambda: "l"),
    ("empty set", set),
    ("set of the special", lambda: {EOT}),
    ("frozenset of the special", lambda: frozenset({EOT})),
    ("set with a non-special", lambda: {EOT, "hello"}),
    ("set of a non-special", lambda: {"hello"}),
    ("set holding an int", lambda: {1}),
    ("set holding bytes", lambda: {EOT.encode()}),
    ("set holding the empty str", lambda: {""}),
    ("list of the special", lambda: [EOT]),
    ("tuple of the special", lambda: (EOT,)),
    ("empty tuple", tuple),
    ("empty list", list),
    ("dict of the special", lambda: {EOT: 50256}),
    ("iterator of the special", lambda: iter([EOT])),
    ("dict keys", lambda: {EOT: 1}.keys()),
    ("set subclass", lambda: type("MySet", (set,), {})([EOT])),
    ("frozenset of all specials and more", lambda: frozenset({EOT, "x"})),
    ("None", lambda: None),
    ("zero", lambda: 0),
    ("int", lambda: 5),
    ("float", lambda: 1.5),
    ("bytes", lambda: EOT.encode()),
]
TEXT_KINDS = [
    ("plain", lambda: "hello world"),
    ("with the special", lambda: f"hello {EOT} world"),
    ("the special alone", lambda: EOT),
    ("empty", lambda: ""),
    ("bytes", lambda: b"hello"),
    ("None", lambda: None),
    ("int", lambda: 5),
    ("list of str", lambda: ["hello"]),
]
BATCH_KINDS = [
    ("plain texts", lambda: ["hello world", "hi"]),
    ("a text with the special", lambda: ["hello", f"a {EOT}"]),
    ("the special first", lambda: [EOT, "hello"]),
    ("empty list", list),
    ("tuple", lambda: ("hello", "world")),
    ("iterator", lambda: iter(["hello", "world"])),
    ("bytes item", lambda: ["hello", b"x"]),
    ("None item", lambda: [None]),
    ("bytes item before the special", lambda: [b"x", EOT]),
    # The core searches a batch for disallowed tokens in one pass (py/args.rs,
    # `first_disallowed`); these meet its edges: a text it cannot read as UTF-8, a non-str after
    # the special, a str subclass, and a disallowed non-special string ("set with a non-special").
    ("a lone surrogate, then the special", lambda: ["x\ud800", f"a {EOT}"]),
    ("the special next to a lone surrogate", lambda: [f"x\ud800{EOT}"]),
    ("the special after an int", lambda: ["a", 5, EOT]),
    ("a str subclass holding the special", lambda: [type("S", (str,), {})(f"x{EOT}")]),
    ("a text holding 'hello'", lambda: ["well", "say hello there"]),
    ("None", lambda: None),
    ("int", lambda: 5),
]
THREAD_KINDS = [
    ("None", lambda: None),
    ("1", lambda: 1),
    ("2", lambda: 2),
    ("8", lambda: 8),
    ("huge", lambda: 10**20),
    ("zero", lambda: 0),
    ("negative", lambda: -1),
    ("float", lambda: 2.5),
    ("True", lambda: True),
    ("False", lambda: False),
    ("str", lambda: "2"),
    ("list", lambda: [2]),
]


def outcome(call):
    """('ok', comparable result) or ('error', exception type)."""
    try:
        got = call()
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        if isinstance(e, ValueError) and not isinstance(e, UnicodeError):
            assert (
                "disallowed special token" in str(e)
                or "num_threads" in str(e)
                or "max_workers" in str(e)
            ), e
        return ("error", ValueError if isinstance(e, ValueError) else type(e))
    if isinstance(got, np.ndarray):
        return ("ok", got.tolist())
    if (
        isinstance(got, tuple)
        and len(got) == 2
        and isinstance(got[1], list)
        and all(isinstance(c, (list, tuple)) for c in got[1])
    ):
        # encode_with_unstable: tiktoken's completions come in hash-set order.
        return ("ok", (got[0], sorted(tuple(c) for c in got[1])))
    return ("ok", got)


def same(method, fast, tik, *factories):
    """Calls `method` on both with fresh arguments from `factories` (positional, then keyword
    (name, factory) pairs) and compares outcomes."""

    def call(enc):
        pos = [f() for f in factories if callable(f)]
        kw = {name: f() for name, f in (x for x in factories if isinstance(x, tuple))}
        return lambda: getattr(enc, method)(*pos, **kw)

    ours, theirs = outcome(call(fast)), outcome(call(tik))
    if ours[0] == theirs[0] == "error":
        # TypeError vs a subclass of it, say, is fine; the class must match.
        assert issubclass(ours[1], theirs[1]) or issubclass(theirs[1], ours[1]), (ours, theirs)
    else:
        assert ours == theirs


SETTINGS = settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
kinds = lambda table: st.sampled_from(table)  # noqa: E731


@pytest.mark.parametrize("method", ["encode", "encode_to_numpy", "encode_with_unstable"])
@SETTINGS
@given(text=kinds(TEXT_KINDS), allowed=kinds(SPECIAL_KINDS), disallowed=kinds(SPECIAL_KINDS))
def test_single_text_methods_take_tiktokens_arguments(
    gpt2_fastbpe, gpt2_tiktoken, method, text, allowed, disallowed
):
    same(method, gpt2_fastbpe, gpt2_tiktoken, text[1])
    same(method, gpt2_fastbpe, gpt2_tiktoken, text[1], ("allowed_special", allowed[1]))
    same(method, gpt2_fastbpe, gpt2_tiktoken, text[1], ("disallowed_special", disallowed[1]))
    same(
        method,
        gpt2_fastbpe,
        gpt2_tiktoken,
        text[1],
        ("allowed_special", allowed[1]),
        ("disallowed_special", disallowed[1]),
    )


@SETTINGS
@given(
    batch=kinds(BATCH_KINDS),
    allowed=kinds(SPECIAL_KINDS),
    disallowed=kinds(SPECIAL_KINDS),
    threads=kinds(THREAD_KINDS),
)
def test_encode_batch_takes_tiktokens_arguments(
    gpt2_fastbpe, gpt2_tiktoken, batch, allowed, disallowed, threads
):
    same(
        "encode_batch",
        gpt2_fastbpe,
        gpt2_tiktoken,
        batch[1],
        ("allowed_special", allowed[1]),
        ("disallowed_special", disallowed[1]),
        ("num_threads", threads[1]),
    )
    same("encode_batch", gpt2_fastbpe, gpt2_tiktoken, batch[1], ("allowed_special", allowed[1]))
    same(
        "encode_batch", gpt2_fastbpe, gpt2_tiktoken, batch[1], ("disallowed_special", disallowed[1])
    )


@SETTINGS
@given(batch=kinds(BATCH_KINDS), threads=kinds(THREAD_KINDS))
def test_ordinary_batch_and_decode_batch_take_tiktokens_arguments(
    gpt2_fastbpe, gpt2_tiktoken, batch, threads
):
    same(
        "encode_ordinary_batch", gpt2_fastbpe, gpt2_tiktoken, batch[1], ("num_threads", threads[1])
    )
    ids = lambda: [[31373, 995], [50256]]  # noqa: E731
    same("decode_batch", gpt2_fastbpe, gpt2_tiktoken, ids, ("num_threads", threads[1]))
    same("decode_bytes_batch", gpt2_fastbpe, gpt2_tiktoken, ids, ("num_threads", threads[1]))


@pytest.mark.parametrize("text", TEXT_KINDS, ids=[k for k, _ in TEXT_KINDS])
def test_encode_ordinary_takes_tiktokens_arguments(gpt2_fastbpe, gpt2_tiktoken, text):
    same("encode_ordinary", gpt2_fastbpe, gpt2_tiktoken, text[1])


SINGLE_TOKEN_KINDS = [
    *TEXT_KINDS,
    ("bytes of a token", lambda: b" world"),
    ("bytes of the special", lambda: EOT.encode()),
    ("empty bytes", lambda: b""),
    ("bytearray", lambda: bytearray(b"hello")),
    ("memoryview", lambda: memoryview(b"hello")),
    ("list of byte values", lambda: [104]),
    ("lone surrogate", lambda: "\ud800"),
]


@pytest.mark.parametrize("value", SINGLE_TOKEN_KINDS, ids=[k for k, _ in SINGLE_TOKEN_KINDS])
def test_encode_single_token_takes_tiktokens_arguments(gpt2_fastbpe, gpt2_tiktoken, value):
    same("encode_single_token", gpt2_fastbpe, gpt2_tiktoken, value[1])


def test_bare_str_allowed_special_is_a_type_error(gpt2_fastbpe):
    """The bug that started this: a bare str was taken as a set of characters."""
    for method in ("encode", "encode_to_numpy", "encode_with_unstable"):
        with pytest.raises(TypeError, match="allowed_special"):
            getattr(gpt2_fastbpe, method)(f"a {EOT}", allowed_special=EOT)
    with pytest.raises(TypeError, match="allowed_special"):
        gpt2_fastbpe.encode_batch([f"a {EOT}"], allowed_special=EOT)


def test_a_str_batch_is_refused_where_tiktoken_encodes_each_character(gpt2_fastbpe, gpt2_tiktoken):
    """The one deliberate difference: tiktoken iterates a str given as the batch."""
    assert gpt2_tiktoken.encode_ordinary_batch("ab") == [[64], [65]]
    for method in ("encode_batch", "encode_ordinary_batch", "encode_batch_to_numpy"):
        with pytest.raises(TypeError, match="list of str"):
            getattr(gpt2_fastbpe, method)("ab")
