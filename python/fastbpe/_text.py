"""Small text helpers shared by the Python layer."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from . import _fastbpe


def fix_surrogates(text: str) -> str:
    """What tiktoken does with lone surrogates (which UTF-8 cannot hold): each becomes U+FFFD;
    valid surrogate pairs become the astral character they encode."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


@functools.lru_cache(maxsize=32)
def _safe_cuts(pattern: str | None, specials: tuple[str, ...], special_only: bool) -> _fastbpe.SafeCuts:
    return _fastbpe.SafeCuts(pattern, list(specials), special_only=special_only)


def last_safe_cut(
    text: str,
    special_tokens: Iterable[str],
    pattern: str | None = None,
    *,
    gpt2_rules: bool | None = None,
) -> int:
    """The last index `i > 0` such that encoding `text[:i]` and `text[i:]` separately gives the same
    ids as encoding `text` followed by more text; 0 when there is none.

    The rule is the core's (rust/src/cut/README.md), the same for training, `encode_file` and
    `encode_iterable`: before a special token the matcher takes, or before whitespace after a
    non-whitespace character where `pattern` (None: GPT-2's) allows it; never inside a special
    token. `gpt2_rules=False` (older callers that do not know the pattern) cuts only before
    special tokens; `gpt2_rules=True` is `pattern=None`.
    """
    specials = tuple(s for s in special_tokens if s)
    cuts = _safe_cuts(None if gpt2_rules else pattern, specials, gpt2_rules is False)
    return cuts.last_cut_chars(text.encode("utf-8", "surrogatepass"))
