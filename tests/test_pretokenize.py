r"""The GPT-2 pre-tokenizer (a hand-written scanner) against Python's `regex` on the same pattern,
piece by piece.

Unicode versions: the scanner must classify characters as tiktoken's regex engine (the Rust `regex`
crate's tables) does, and Python's `regex` may know a newer Unicode (it matches thousands of letters
that tiktoken does not, e.g. U+088F since Unicode 17). So the oracle is the GPT-2 pattern with
the character classes of tiktoken's engine, read from tiktoken itself (a tiktoken `Encoding` whose
pattern is just `\p{L}` keeps exactly the letters): characters that only the newer Unicode calls
letters or numbers are mapped to a plain symbol before Python's `regex` splits the text. `regex`
then checks the pattern's structure (possessive runs, the whitespace lookahead, `$`, contractions);
the classes are tiktoken's.
"""

from __future__ import annotations

import functools

import fastbpe
import regex
import tiktoken
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

# tiktoken's r50k_base/gpt2 pattern (possessive form).
TIKTOKEN_PATTERN = (
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
)
PLAIN = regex.compile(TIKTOKEN_PATTERN)  # Python regex's own Unicode tables
ALL_CHARS = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


@functools.cache
def tiktoken_class(pattern: str) -> frozenset[str]:
    """The characters that tiktoken's regex engine matches with `pattern` (a one-char class)."""
    probe = tiktoken.Encoding(
        f"probe-{pattern}",
        pat_str=pattern,
        mergeable_ranks={bytes([b]): b for b in range(256)},
        special_tokens={},
    )
    return frozenset(probe.decode(probe.encode_ordinary(ALL_CHARS)))


@functools.cache
def newer_unicode_table() -> dict[int, str]:
    """Characters that Python's regex classes as letters or numbers but tiktoken's engine (an older
    Unicode) as neither -> '¤' (a symbol to both), for `str.translate`."""
    table: dict[int, str] = {}
    tk_any = tiktoken_class(r"\p{L}") | tiktoken_class(r"\p{N}") | tiktoken_class(r"\s")
    for cls in (r"\p{L}", r"\p{N}"):
        for c in frozenset(regex.findall(cls, ALL_CHARS)) - tiktoken_class(cls):
            assert c not in tk_any, f"U+{ord(c):04X} changed class between Unicode versions"
            table[ord(c)] = "\u00a4"
    return table


def oracle_findall(text: str) -> list[str]:
    """GPT-2 pieces by Python's regex, with tiktoken's character classes."""
    mapped = text.translate(newer_unicode_table())
    return [text[m.start() : m.end()] for m in PLAIN.finditer(mapped)]


SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def pieces(tok, text: str) -> list[str]:
    return list(tok._core.pretokenize(text))


def assert_same_pieces(tok, text: str) -> None:
    got = pieces(tok, text)
    want = oracle_findall(text)
    if got == want:
        return
    i = next((k for k, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
    raise AssertionError(
        f"pieces differ at piece {i}: fastbpe {got[max(0, i - 2) : i + 3]!r} vs "
        f"regex {want[max(0, i - 2) : i + 3]!r}; text {text[:300]!r}"
    )


def test_pattern_is_tiktokens(gpt2_fastbpe, gpt2_tiktoken):
    assert fastbpe.GPT2_PATTERN == gpt2_tiktoken._pat_str == TIKTOKEN_PATTERN
    assert gpt2_fastbpe.pattern == TIKTOKEN_PATTERN


def test_varied_text_whole(gpt2_fastbpe, varied_text):
    got = pieces(gpt2_fastbpe, varied_text)
    want = oracle_findall(varied_text)
    assert "".join(got) == varied_text
    if got != want:
        # Report the first line where they differ, short.
        for line in varied_text.splitlines(keepends=True):
            assert_same_pieces(gpt2_fastbpe, line)
        raise AssertionError("pieces differ on the whole text but on no single line")


def test_varied_text_per_line(gpt2_fastbpe, varied_text):
    for line in varied_text.splitlines(keepends=True):
        if pieces(gpt2_fastbpe, line) != oracle_findall(line):
            assert_same_pieces(gpt2_fastbpe, line)


FRAGMENTS = [
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\x0b",
    "\x0c",
    "\x1c",
    "\u00a0",
    "\u2028",
    "\u2029",
    "\u3000",
    "\u0085",
    "\u1680",
    "\u200b",
    "\u180e",
    "\ufeff",
    "0",
    "9",
    "42",
    "٣",
    "²",
    "Ⅻ",
    "½",
    "'",
    "'s",
    "'S",
    "'t",
    "'T",
    "'ll",
    "'LL",
    "'lL",
    "'ve",
    "'re",
    "'d",
    "'m",
    "'x",
    "’s",
    "a",
    "Z",
    "é",
    "e\u0301",
    "\u0301",
    "\u0903",
    "中",
    "я",
    "ß",
    "ǅ",
    "ʰ",
    "😀",
    "👍🏽",
    "\u200d",
    "🇫🇷",
    ".",
    ",",
    "!",
    "?",
    "-",
    "_",
    "^",
    "$",
    "<|endoftext|>",
    "\x00",
    "\x7f",
    "\U0001d400",
    "\U00020000",
]
fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
# Any code point but surrogates (the scanner sees UTF-8; surrogates are replaced before it).
unicode_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=200)
ascii_text = st.text(st.characters(max_codepoint=127), max_size=200)
assigned_text = st.text(
    st.characters(exclude_categories=["Cs", "Cn"]).filter(lambda c: ord(c) < 0x30000), max_size=200
)


@SETTINGS
@given(st.one_of(fragment_text, unicode_text, ascii_text, assigned_text))
@example("")
@example(" ")
@example("  a")
@example("a  ")
@example("a \n\n b")
@example("'s's'S")
@example("don't  I'LL   ")
@example("\u00a0\u00a0a")
@example(" \u0301")
@example("\n\n\n")
@example("1 2  3   ")
def test_hypothesis_pieces(gpt2_fastbpe, text):
    assert_same_pieces(gpt2_fastbpe, text)


def test_every_code_point_in_context(gpt2_fastbpe):
    """Each code point's class (letter, number, whitespace, other) as tiktoken's engine sees it:
    after a letter, before a digit, after a space, doubled."""
    template = "a{0}1 {0}{0}|"
    size = 1 << 16
    for k in range(0, len(ALL_CHARS), size):
        text = "".join(template.format(c) for c in ALL_CHARS[k : k + size])
        if pieces(gpt2_fastbpe, text) != oracle_findall(text):
            for c in ALL_CHARS[k : k + size]:
                t = template.format(c)
                assert pieces(gpt2_fastbpe, t) == oracle_findall(t), f"U+{ord(c):04X} in {t!r}"


def test_long_runs(gpt2_fastbpe):
    for text in [
        "a" * 100_000,
        " " * 100_000,
        "^" * 200_000,
        "1" * 200_000,
        " \n" * 50_000,
        "\n" * 100_000 + "x",
        "x" + " " * 100_000,
        "'s" * 50_000,
    ]:
        assert pieces(gpt2_fastbpe, text) == oracle_findall(text)
