"""A slow, plainly correct BPE trainer, written from the rules (not from fastbpe's code).

Rules (Stanford CS336's, plus fastbpe's documented id layout):

1. Split the text on special tokens (longest first where one is a prefix of another); the pieces
   between them are separate documents. Special tokens are not counted.
2. Pre-tokenize each document with the `regex` module and the same pattern (`findall`).
3. Count each pre-token (as UTF-8 bytes); a pre-token is a tuple of single-byte tokens.
4. Repeat: count every adjacent pair in every pre-token (times its count); take the pair with the
   highest count, ties broken by the greater `(left_bytes, right_bytes)`; replace each occurrence,
   left to right, by the concatenation; record the merge.
5. Vocabulary: special tokens (ids 0..k-1), the 256 bytes (k..k+255), then each *new* byte string
   in the order it was first made. A merge that makes bytes already in the vocabulary is still
   recorded but adds no id. Stop when the vocabulary has `vocab_size` entries, or when no pair is
   left (or the best pair's count is below `min_frequency`).
"""

from __future__ import annotations

from collections import Counter

import regex

GPT2_PATTERN = (
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
)


def split_on_specials(text: str, special_tokens: list[str]) -> list[str]:
    if not special_tokens:
        return [text]
    alternation = "|".join(regex.escape(t) for t in sorted(special_tokens, key=len, reverse=True))
    return regex.split(alternation, text)


def count_pretokens(
    texts: list[str], special_tokens: list[str], pattern: str = GPT2_PATTERN
) -> Counter[bytes]:
    counts: Counter[bytes] = Counter()
    compiled = regex.compile(pattern)
    for text in texts:
        for doc in split_on_specials(text, special_tokens):
            for piece in compiled.findall(doc):
                if piece:
                    counts[piece.encode("utf-8")] += 1
    return counts


def train_from_counts(
    counts: dict[bytes, int],
    vocab_size: int,
    special_tokens: list[str],
    min_frequency: int = 0,
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    vocab: list[bytes] = [t.encode("utf-8") for t in special_tokens]
    vocab += [bytes([b]) for b in range(256)]
    known = set(vocab[len(special_tokens) :])
    words: dict[tuple[bytes, ...], int] = {}
    for word, n in counts.items():
        key = tuple(bytes([b]) for b in word)
        words[key] = words.get(key, 0) + n
    merges: list[tuple[bytes, bytes]] = []
    while len(vocab) < vocab_size:
        pairs: Counter[tuple[bytes, bytes]] = Counter()
        for word, n in words.items():
            for i in range(len(word) - 1):
                pairs[(word[i], word[i + 1])] += n
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))
        if pairs[best] < max(min_frequency, 1):
            break
        merges.append(best)
        new = best[0] + best[1]
        if new not in known:
            known.add(new)
            vocab.append(new)
        merged: dict[tuple[bytes, ...], int] = {}
        for word, n in words.items():
            out: list[bytes] = []
            i = 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(new)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            key = tuple(out)
            merged[key] = merged.get(key, 0) + n
        words = merged
    return dict(enumerate(vocab)), merges


def train(
    texts: list[str],
    vocab_size: int,
    special_tokens: list[str] | None = None,
    pattern: str = GPT2_PATTERN,
    min_frequency: int = 0,
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    special_tokens = list(special_tokens or [])
    counts = count_pretokens(texts, special_tokens, pattern)
    return train_from_counts(counts, vocab_size, special_tokens, min_frequency)
