"""tiktoken's disallowed-special check, wherever it runs: the wrapper's regex for short texts,
the core's one pass (rust/src/py/args.rs, `first_disallowed`) for long texts and for batches,
and the regex again for a text with a lone surrogate. Generated texts meet every path; the
outcome (ids, or the ValueError and the token it names) must be tiktoken's, with the token
chosen as the regex does: the leftmost match, the longest at that place."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EOT = "<|endoftext|>"
# Overlapping strings (one a prefix of another) and a plain word: tiktoken accepts any str.
TOKEN_SETS = [{EOT}, {EOT, "<|end"}, {"<|end", "hello"}, {"ab", "abc", "b"}]
PARTS = ["hello", " world", "<|end", EOT, "ab", "abc", "c", "\n", "é", "日本", "\ud800", "x"]

SETTINGS = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def expected(texts: list[str], tokens: set[str]) -> str | None:
    regex = re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)))
    for t in texts:
        m = regex.search(t)
        if m:
            return m.group()
    return None


def outcome(call):
    try:
        return ("ok", call())
    except ValueError as e:
        return ("error", str(e))


def texts_from(parts: list[int], pad: int) -> str:
    # `pad` x's first, so a text passes the size from which the core searches (64K chars).
    return "x" * pad + "".join(PARTS[i] for i in parts)


@SETTINGS
@given(
    parts=st.lists(st.lists(st.integers(0, len(PARTS) - 1), max_size=8), min_size=1, max_size=4),
    pads=st.lists(st.sampled_from([0, 70_000]), min_size=4, max_size=4),
    tokens=st.sampled_from(TOKEN_SETS),
)
def test_disallowed_search_matches_tiktoken(gpt2_fastbpe, gpt2_tiktoken, parts, pads, tokens):
    texts = [texts_from(p, pads[i]) for i, p in enumerate(parts)]
    want_token = expected(texts, tokens)
    for t in texts:
        ours = outcome(lambda t=t: gpt2_fastbpe.encode(t, disallowed_special=tokens))
        theirs = outcome(lambda t=t: gpt2_tiktoken.encode(t, disallowed_special=tokens))
        assert ours[0] == theirs[0]
        if ours[0] == "ok":
            assert ours == theirs
        else:
            assert repr(expected([t], tokens)) in ours[1].splitlines()[0]
    ours = outcome(lambda: gpt2_fastbpe.encode_batch(texts, disallowed_special=tokens))
    theirs = outcome(lambda: gpt2_tiktoken.encode_batch(texts, disallowed_special=tokens))
    assert ours[0] == theirs[0]
    if ours[0] == "ok":
        assert ours == theirs
    else:
        first_line = ours[1].splitlines()[0]
        assert first_line.endswith(f"disallowed special token {want_token!r}.")


def test_the_error_names_the_leftmost_longest_token(gpt2_fastbpe):
    long = "x" * 70_000
    for text in (long + "abc", "abc"):
        with pytest.raises(ValueError, match="token 'abc'"):
            gpt2_fastbpe.encode(text, disallowed_special={"ab", "abc", "b"})
        with pytest.raises(ValueError, match="token 'abc'"):
            gpt2_fastbpe.encode_batch(["ok", text], disallowed_special={"ab", "abc", "b"})
