"""Counts files: the map-reduce of training, step by step, for counts made on many processes or
machines (``fastbpe count``, ``fastbpe train --from-counts``, `fastbpe.dask`).

>>> counts = count_paths(["part1.txt"], ["<|endoftext|>"])                 # map
>>> counts.save("part1.counts")
>>> merged = merge_files(["part1.counts", "part2.counts"])                 # reduce
>>> tok = tokenizer_from_counts(merged, 32_000)                            # merge loop, once

The file format (versioned header with pattern, special tokens and bytes read; front-coded words
with 64-bit counts; a checksum) is described in ``docs/cluster.md`` and ``rust/src/formats/counts.rs``.
Counts remember the pattern and special tokens they were made with: merging counts made
differently is a ValueError, and `tokenizer_from_counts` builds the tokenizer with them, so the
result equals `fastbpe.train` on the same files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Union

from .training import WordCounts, count_words, train_from_counts

if TYPE_CHECKING:
    from .tokenizer import Tokenizer

StrPath = Union[str, "os.PathLike[str]"]

__all__ = ["count_paths", "merge_counts", "merge_files", "tokenizer_from_counts"]


def count_paths(
    paths: Sequence[StrPath],
    special_tokens: Sequence[str] = (),
    *,
    pattern: str | None = None,
    shard: tuple[int, int] | None = None,
    threads: int | None = None,
    errors: str = "strict",
    progress: bool = False,
) -> WordCounts:
    """Counts `paths`, or only shard ``(i, n)`` of them (`fastbpe.shards`): merging the counts of
    all ``n`` shards gives the counts of the whole."""
    if shard is None:
        return count_words(
            [os.fspath(p) for p in paths],
            list(special_tokens),
            pattern=pattern,
            threads=threads,
            errors=errors,
            progress=progress,
        )
    from .shards import count_shard, plan

    i, n = shard
    part = plan(paths, n_shards=n, pattern=pattern, special_tokens=special_tokens)[i]
    return count_shard(part, special_tokens, pattern=pattern, errors=errors, threads=threads)


def merge_counts(parts: Iterable[tuple[str, WordCounts]]) -> WordCounts:
    """Adds up named parts, one at a time (ValueError naming the part when it was made with a
    different pattern or different special tokens)."""
    total = WordCounts()
    for name, part in parts:
        try:
            total.update(part)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
    return total


def merge_files(paths: Sequence[StrPath]) -> WordCounts:
    """Loads and adds up counts files, one in memory at a time (a corrupt or truncated file is a
    ValueError naming it)."""
    return merge_counts((os.fspath(p), WordCounts.load(os.fspath(p))) for p in paths)


def tokenizer_from_counts(
    counts: WordCounts,
    vocab_size: int,
    special_tokens: Sequence[str] | None = None,
    *,
    min_frequency: int = 0,
    threads: int | None = None,
    progress: bool = False,
) -> Tokenizer:
    """The merge loop on `counts`: the tokenizer `fastbpe.train` gives on the counted files.
    Special tokens and pattern come from the counts; `special_tokens`, when given, must be the
    same tokens (their order sets their ids)."""
    from .tokenizer import GPT2_PATTERN, Tokenizer

    recorded = counts.special_tokens
    if special_tokens is None:
        specials = list(recorded or [])
    else:
        specials = list(special_tokens)
        if recorded is not None and sorted(specials) != sorted(recorded):
            raise ValueError(
                f"the counts were made with special tokens {recorded}, not {specials}; "
                "count again with these special tokens"
            )
    vocab, merges = train_from_counts(
        counts,
        vocab_size,
        specials,
        min_frequency=min_frequency,
        threads=threads,
        progress=progress,
    )
    pattern = counts.pattern
    return Tokenizer(
        vocab, merges, specials or None, pattern=None if pattern == GPT2_PATTERN else pattern
    )
