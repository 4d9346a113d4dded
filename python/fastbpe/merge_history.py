"""How BPE builds a token from bytes, merge by merge, replayed from a tokenizer's ranks.

Used by `show` (the merge history in the hover card) and `report` (each merge's pair count on a
sample, which on the training corpus is the count training saw when it chose the pair).

Why the replay on a token's own bytes is its history inside any text: in tiktoken's rule the
merges inside a piece happen lowest rank first, and no merge ever crosses a final token's
boundary (its product could not be split again), so the merges inside the token's span are
exactly those a replay on the span's bytes alone makes, in the same order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Merge:
    """One merge step: `left + right -> merged`, with the product's rank and id."""

    left: bytes
    right: bytes
    rank: int
    id: int

    @property
    def merged(self) -> bytes:
        return self.left + self.right


class MergeTable:
    """A tokenizer's ranks (position in merge order: lower merges first) and ids by bytes."""

    def __init__(self, tok: Any) -> None:
        ranked = tok._core.ranked()  # (bytes, id), in rank order
        self.rank: dict[bytes, int] = {b: r for r, (b, _) in enumerate(ranked)}
        self.id: dict[bytes, int] = {b: i for b, i in ranked}

    def _run(self, parts: list[bytes]) -> Iterator[tuple[int, int]]:
        """BPE on `parts` in place: repeatedly merge the adjacent pair whose product has the
        lowest rank (leftmost on ties). Yields (position, rank) just before each merge.
        Quadratic in len(parts): meant for tokens and words, not documents."""
        rank = self.rank
        while len(parts) > 1:
            best = at = -1
            for i in range(len(parts) - 1):
                r = rank.get(parts[i] + parts[i + 1])
                if r is not None and (best < 0 or r < best):
                    best, at = r, i
            if at < 0:
                return
            yield at, best
            parts[at : at + 2] = [parts[at] + parts[at + 1]]

    def replay(self, data: bytes) -> tuple[list[bytes], list[Merge]]:
        """BPE on `data` from single bytes: the final parts and each merge made."""
        parts = [data[i : i + 1] for i in range(len(data))]
        steps = [
            Merge(parts[at], parts[at + 1], r, self.id[parts[at] + parts[at + 1]])
            for at, r in self._run(parts)
        ]
        return parts, steps

    def pair_counts(self, word: bytes) -> list[tuple[int, int]]:
        """(rank, count) for each merge that fires in `word`: how many times its pair occurs
        (overlaps included, as training counts pairs: "aaa" holds ("a", "a") twice) in the
        word's segmentation just before the merge is first applied. Summed over a corpus's
        pre-tokens times their counts, that is the pair count BPE training saw when it chose
        the merge, since training applies merges in rank order to every word, as this does."""
        parts = [word[i : i + 1] for i in range(len(word))]
        out: list[tuple[int, int]] = []
        seen: set[int] = set()
        for at, r in self._run(parts):
            if r not in seen:
                seen.add(r)
                pair = (parts[at], parts[at + 1])
                out.append((r, sum(1 for p in zip(parts, parts[1:]) if p == pair)))
        return out

    def history(self, token: bytes) -> tuple[list[Merge], bool]:
        """The merges that build `token`, and whether they reach it (False: BPE from its bytes
        stops elsewhere; the token is only ever produced as a whole piece that is a token)."""
        parts, steps = self.replay(token)
        return steps, parts == [token]
