"""Small text helpers shared by the Python layer."""

from __future__ import annotations

from collections.abc import Iterable

_ASCII_SPACE = frozenset(" \t\n\r\x0b\x0c")


def fix_surrogates(text: str) -> str:
    """What tiktoken does with lone surrogates (which UTF-8 cannot hold): each becomes U+FFFD;
    valid surrogate pairs become the astral character they encode."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def last_safe_cut(text: str, special_tokens: Iterable[str], *, gpt2_rules: bool) -> int:
    """The last index `i > 0` such that encoding `text[:i]` and `text[i:]` separately gives the same
    ids as encoding `text`; 0 when there is none.

    Always safe: right after a special token (nothing merges across it). With the GPT-2 pattern also:
    before ASCII whitespace that follows a non-whitespace character, since no GPT-2 piece has
    whitespace after a non-whitespace character, and the whitespace run is then matched the same
    way from the cut on. A cut never falls inside a special token.
    """
    specials = [s for s in special_tokens if s]
    longest = max((len(s) for s in specials), default=0)
    # Only cut where every special token that could straddle the cut lies wholly in `text`.
    limit = len(text) - longest
    after_special = 0
    for s in specials:
        at = text.rfind(s, 0, limit)
        while at != -1 and at + len(s) > limit:
            at = text.rfind(s, 0, at)
        if at != -1 and not _inside_special(text, at + len(s), specials, longest):
            after_special = max(after_special, at + len(s))
    if gpt2_rules:
        i = min(limit, len(text) - 1)
        while i > after_special:
            if text[i] in _ASCII_SPACE and not text[i - 1].isspace():
                if not _inside_special(text, i, specials, longest):
                    return i
            i -= 1
    return after_special


def _inside_special(text: str, cut: int, specials: list[str], longest: int) -> bool:
    lo = max(0, cut - longest + 1)
    window = text[lo : cut + longest]
    for s in specials:
        start = window.find(s)
        while start != -1:
            if lo + start < cut < lo + start + len(s):
                return True
            start = window.find(s, start + 1)
    return False
