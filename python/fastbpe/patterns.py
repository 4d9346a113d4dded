"""The pre-tokenization patterns of tiktoken's encodings: the ONE home of these strings.

Copied from tiktoken's `tiktoken_ext/openai_public.py` (tests/test_registry.py checks each one
against the installed tiktoken). GPT-2's comes from the extension module, because the Rust core
recognizes it and runs its hand-written scanner instead of the regex. The others run on
fancy-regex today; a hand-written scanner for one of them is selected the same way (the Rust core
compares the pattern string), so this module is where such a scanner's constant gets exported
from.
"""

from __future__ import annotations

from . import _fastbpe

# r50k_base, gpt2, p50k_base, p50k_edit.
R50K_PATTERN: str = _fastbpe.GPT2_PATTERN

CL100K_PATTERN: str = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|"""
    r"""\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)

# o200k_base, o200k_harmony.
O200K_PATTERN: str = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

__all__ = ["CL100K_PATTERN", "O200K_PATTERN", "R50K_PATTERN"]
