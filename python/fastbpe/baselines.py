"""Baseline tokenizers from Stanford CS336 lecture 1, with `Tokenizer`'s surface (`encode`,
`decode`, `n_vocab`, `encode_to_numpy`, `decode_tokens_bytes`), to compare against BPE.

>>> ByteTokenizer().encode("hé")                   # UTF-8 bytes: 256 ids, exact round trip
[104, 195, 169]
>>> CharTokenizer().encode("hé")                   # Unicode code points
[104, 233]
>>> w = WordTokenizer.from_file("corpus.txt", max_size=50_000)   # GPT-2 pre-tokens, UNK id 0
>>> w.oov_rate(text)

Vocabularies built from a corpus are counted streaming (the GPT-2 and whitespace word counts by
the Rust core on all cores, the character counts block by block), so a multi-GB file is fine.
Lone surrogates become U+FFFD before encoding, as in `Tokenizer`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Union

from . import _fastbpe
from ._text import fix_surrogates
from .text_stream import read_blocks

if TYPE_CHECKING:
    import numpy.typing as npt

StrPath = Union[str, "os.PathLike[str]"]
UNK = "\ufffd"  # what an UNK id decodes to
N_CODE_POINTS = 0x110000

__all__ = ["ByteTokenizer", "CharTokenizer", "WordTokenizer"]


def _utf8(text: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"expected text as str, got {type(text).__name__}")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: U+FFFD, as Tokenizer does
        return fix_surrogates(text).encode("utf-8")


def _clean(text: str) -> str:
    return _utf8(text).decode("utf-8") if not text.isascii() else text


def _ids(ids: Iterable[Any], n_vocab: int) -> list[int]:
    if isinstance(ids, (str, bytes)):
        raise TypeError(f"expected a sequence of int token ids, got {type(ids).__name__}")
    out = [int(i) for i in ids]
    for i in out:
        if not 0 <= i < n_vocab:
            raise ValueError(f"unknown token id {i} (this tokenizer has ids 0..{n_vocab - 1})")
    return out


def _paths(path: StrPath | Sequence[StrPath]) -> list[str]:
    if isinstance(path, (str, os.PathLike)):
        return [os.fspath(path)]
    return [os.fspath(p) for p in path]


class _Baseline:
    """What every baseline shares: numpy output and the size of the id type."""

    name: str
    unk_id: int | None = None

    @property
    def n_vocab(self) -> int:
        raise NotImplementedError

    def encode(self, text: str) -> list[int]:
        return self.encode_to_numpy(text).tolist()

    def encode_to_numpy(self, text: str) -> npt.NDArray[Any]:
        raise NotImplementedError

    def decode_tokens_bytes(self, ids: Sequence[int]) -> list[bytes]:
        raise NotImplementedError

    def decode_bytes(self, ids: Sequence[int]) -> bytes:
        return b"".join(self.decode_tokens_bytes(ids))

    def decode(self, ids: Sequence[int]) -> str:
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def _safe_cut(self, buf: str) -> int:
        """The last index where `buf` may be cut without changing ids (see text_stream)."""
        return len(buf)

    def _dtype(self) -> Any:
        import numpy as np

        return np.uint16 if self.n_vocab <= 1 << 16 else np.uint32

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} n_vocab={self.n_vocab}>"


class ByteTokenizer(_Baseline):
    """One token per UTF-8 byte: ids 0..255, `decode_bytes(encode(s)) == s.encode()`."""

    name = "byte"

    @property
    def n_vocab(self) -> int:
        return 256

    def encode(self, text: str) -> list[int]:
        return list(_utf8(text))

    def encode_to_numpy(self, text: str) -> npt.NDArray[Any]:
        import numpy as np

        return np.frombuffer(_utf8(text), dtype=np.uint8).astype(np.uint16)

    def decode_bytes(self, ids: Sequence[int]) -> bytes:
        return bytes(_ids(ids, 256))

    def decode_tokens_bytes(self, ids: Sequence[int]) -> list[bytes]:
        return [bytes((i,)) for i in _ids(ids, 256)]


class CharTokenizer(_Baseline):
    """One token per Unicode code point.

    `CharTokenizer()` covers the whole range (id = code point, n_vocab = 0x110000, no UNK);
    `CharTokenizer.from_file(path, max_size=N)` / `from_texts(texts)` keep the characters seen
    (the N most frequent at most), id 0 being UNK for every other character.
    """

    def __init__(self, chars: Sequence[str] | None = None) -> None:
        import numpy as np

        self._chars: list[str] | None = None
        self._table: Any = None
        if chars is None:
            self.name = "char"
            return
        chars = list(chars)
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise TypeError("chars must be single-character strings")
        if len(set(chars)) != len(chars):
            raise ValueError("chars must be distinct")
        self._chars = [UNK] + chars
        self.unk_id = 0
        self.name = f"char({len(self._chars)})"
        table = np.zeros(N_CODE_POINTS, dtype=np.uint32)  # every code point -> UNK ...
        for i, ch in enumerate(chars, start=1):
            table[ord(ch)] = i  # ... except the vocabulary's
        self._table = table

    @classmethod
    def from_texts(cls, texts: Iterable[str], max_size: int | None = None) -> CharTokenizer:
        """The characters of `texts` by frequency (ties: by code point), `max_size` ids at most
        (UNK included)."""
        counts: Counter[str] = Counter()
        for t in texts:
            counts.update(_clean(t))
        return cls._from_counts(counts, max_size)

    @classmethod
    def from_file(
        cls, path: StrPath | Sequence[StrPath], max_size: int | None = None
    ) -> CharTokenizer:
        """As `from_texts`, reading the file(s) block by block."""
        return cls.from_texts((b for p in _paths(path) for b in read_blocks(p)), max_size)

    @classmethod
    def _from_counts(cls, counts: Counter[str], max_size: int | None) -> CharTokenizer:
        if max_size is not None and max_size < 2:
            raise ValueError(f"max_size must be at least 2 (UNK and one character), got {max_size}")
        ranked = sorted(
            ((c, n) for c, n in counts.items() if c != UNK), key=lambda kv: (-kv[1], kv[0])
        )
        if max_size is not None:
            ranked = ranked[: max_size - 1]
        return cls([c for c, _ in ranked])

    @property
    def n_vocab(self) -> int:
        return N_CODE_POINTS if self._chars is None else len(self._chars)

    def encode_to_numpy(self, text: str) -> npt.NDArray[Any]:
        import numpy as np

        cps = np.frombuffer(_clean(text).encode("utf-32-le"), dtype="<u4")
        if self._table is None:
            return cps.astype(np.uint32)
        return self._table[cps].astype(self._dtype())

    def decode_tokens_bytes(self, ids: Sequence[int]) -> list[bytes]:
        checked = _ids(ids, self.n_vocab)
        if self._chars is None:
            return [chr(i).encode("utf-8", "surrogatepass") for i in checked]
        chars = self._chars
        return [chars[i].encode("utf-8") for i in checked]

    def unk_rate(self, text: str) -> float:
        """Fraction of `text`'s characters outside the vocabulary (0.0 for the full range)."""
        if self._table is None or not text:
            return 0.0
        ids = self.encode_to_numpy(text)
        return float((ids == 0).mean()) if len(ids) else 0.0


Mode = Literal["gpt2", "whitespace"]
# Pre-token patterns per mode: GPT-2's pieces keep their leading space (decode is exact but
# for UNKs); whitespace words drop it (decode joins with one space).
_PATTERNS = {"gpt2": _fastbpe.GPT2_PATTERN, "whitespace": r"\S+"}


class WordTokenizer(_Baseline):
    """One token per word: GPT-2 pre-tokens (`mode="gpt2"`, the pieces BPE works within) or
    whitespace-separated words (`mode="whitespace"`), from a vocabulary of at most `max_size`
    entries where id 0 is UNK.

    Build with `from_file(path, max_size)` (counted streaming by the Rust core) or
    `from_texts(texts, max_size)`; `oov_rate(text)` is the fraction of words that are UNK.
    """

    def __init__(self, words: Sequence[str], mode: Mode = "gpt2") -> None:
        if mode not in _PATTERNS:
            raise ValueError(f"mode must be 'gpt2' or 'whitespace', got {mode!r}")
        words = list(words)
        if any(not isinstance(w, str) or not w for w in words):
            raise TypeError("words must be non-empty strings")
        self.mode: Mode = mode
        self._words = [UNK] + words
        self._index = {w: i for i, w in enumerate(self._words)}
        if len(self._index) != len(self._words):
            raise ValueError("words must be distinct (and not U+FFFD, which is UNK)")
        self.unk_id = 0
        self.name = f"word-{'ws' if mode == 'whitespace' else 'gpt2'}({len(self._words)})"
        ranks = [(bytes((b,)), b) for b in range(256)]
        self._splitter = _fastbpe.CoreTokenizer.from_ranks(ranks, [], _PATTERNS[mode])
        self._cuts = _fastbpe.SafeCuts(_PATTERNS[mode], [])

    @classmethod
    def from_counts(
        cls, counts: dict[str, int], max_size: int = 50_000, mode: Mode = "gpt2"
    ) -> WordTokenizer:
        """The `max_size - 1` most frequent words (ties: in code-point order) plus UNK."""
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 2:
            raise ValueError(f"max_size must be an integer >= 2 (UNK and a word), got {max_size!r}")
        # A corpus word that is U+FFFD itself is UNK's text: it stays UNK.
        ranked = sorted(
            ((w, n) for w, n in counts.items() if w != UNK), key=lambda kv: (-kv[1], kv[0])
        )
        return cls([w for w, _ in ranked[: max_size - 1]], mode)

    @classmethod
    def from_texts(
        cls, texts: Iterable[str], max_size: int = 50_000, mode: Mode = "gpt2"
    ) -> WordTokenizer:
        if mode not in _PATTERNS:
            raise ValueError(f"mode must be 'gpt2' or 'whitespace', got {mode!r}")
        wc = _fastbpe.count_iter(iter(texts), [], _PATTERNS[mode])
        return cls.from_counts(_word_counts(wc), max_size, mode)

    @classmethod
    def from_file(
        cls,
        path: StrPath | Sequence[StrPath],
        max_size: int = 50_000,
        mode: Mode = "gpt2",
        threads: int | None = None,
    ) -> WordTokenizer:
        """Counts the words of the file(s) streaming, on all cores; invalid UTF-8 is replaced."""
        if mode not in _PATTERNS:
            raise ValueError(f"mode must be 'gpt2' or 'whitespace', got {mode!r}")
        wc = _fastbpe.count_files(
            _paths(path), [], _PATTERNS[mode], threads=threads, errors="replace"
        )
        return cls.from_counts(_word_counts(wc), max_size, mode)

    @property
    def n_vocab(self) -> int:
        return len(self._words)

    def words(self, text: str) -> list[str]:
        """`text` split the way this tokenizer splits it."""
        return list(self._splitter.pretokenize(_clean(text)))

    def encode(self, text: str) -> list[int]:
        get = self._index.get
        return [get(w, 0) for w in self.words(text)]

    def encode_to_numpy(self, text: str) -> npt.NDArray[Any]:
        import numpy as np

        return np.array(self.encode(text), dtype=self._dtype())

    def decode_tokens_bytes(self, ids: Sequence[int]) -> list[bytes]:
        words = self._words
        return [words[i].encode("utf-8") for i in _ids(ids, self.n_vocab)]

    def decode(self, ids: Sequence[int]) -> str:
        words = self._words
        sep = " " if self.mode == "whitespace" else ""
        return sep.join(words[i] for i in _ids(ids, self.n_vocab))

    def oov_rate(self, text: str) -> float:
        """Fraction of `text`'s words that are not in the vocabulary."""
        ids = self.encode(text)
        return ids.count(0) / len(ids) if ids else 0.0

    def _safe_cut(self, buf: str) -> int:
        # The core's cut rule for this pattern (the one Tokenizer uses), so the words of a
        # stream cut there equal the words of the whole text.
        return int(self._cuts.last_cut_chars(buf.encode("utf-8", "surrogatepass")))


def _word_counts(wc: Any) -> dict[str, int]:
    # Pre-tokens of valid text are whole UTF-8 strings; "replace" only guards odd input.
    out: dict[str, int] = {}
    for w, n in wc.items():
        key = w.decode("utf-8", "replace")
        out[key] = out.get(key, 0) + n
    return out
