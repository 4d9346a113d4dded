"""`Encoding`: a drop-in for `tiktoken.Encoding`.

Same constructor (`Encoding(name, pat_str=, mergeable_ranks=, special_tokens=)`), same defaults
(`encode` raises on special-token text unless `allowed_special` allows it), same methods and
attributes; the ids are the same and come faster. It is a `Tokenizer`, so everything else
fastbpe does (numpy output, `encode_file`, saving in other formats) works on it too.
"""

from __future__ import annotations

from . import _fastbpe
from .tokenizer import AllowedSpecial, DisallowedSpecial, Tokenizer


class Encoding(Tokenizer):
    """A `Tokenizer` with tiktoken's `Encoding` constructor and defaults.

    >>> enc = Encoding("mine", pat_str=GPT2_PATTERN, mergeable_ranks=ranks,
    ...                special_tokens={"<|endoftext|>": 50256})
    """

    _default_allowed: AllowedSpecial = frozenset()
    _default_disallowed: DisallowedSpecial = "all"
    _default_num_threads: int | None = 8  # tiktoken's encode_batch default

    def __init__(
        self,
        name: str,
        *,
        pat_str: str,
        mergeable_ranks: dict[bytes, int],
        special_tokens: dict[str, int],
        explicit_n_vocab: int | None = None,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        if not isinstance(mergeable_ranks, dict) or not isinstance(special_tokens, dict):
            raise TypeError(
                "mergeable_ranks must be a dict[bytes, int], special_tokens a dict[str, int]"
            )
        if explicit_n_vocab is not None:
            # tiktoken asserts both; a ValueError says which one failed.
            count = len(mergeable_ranks) + len(special_tokens)
            if count != explicit_n_vocab:
                raise ValueError(
                    f"explicit_n_vocab is {explicit_n_vocab} but there are {count} tokens "
                    f"({len(mergeable_ranks)} mergeable, {len(special_tokens)} special)"
                )
            largest = max([*mergeable_ranks.values(), *special_tokens.values()], default=-1)
            if largest != explicit_n_vocab - 1:
                raise ValueError(
                    f"explicit_n_vocab is {explicit_n_vocab} but the largest id is {largest}"
                )
        core = _fastbpe.CoreTokenizer.from_ranks(
            list(mergeable_ranks.items()), list(special_tokens.items()), pat_str
        )
        self._init_core(core, name)
