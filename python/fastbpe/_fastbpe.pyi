"""Type stubs for the Rust extension module (rust/src/py/). Users call the wrappers in
`fastbpe.tokenizer`, `fastbpe.training` and `fastbpe.io`, which check arguments first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, Literal

_Path = str | PathLike[str]

GPT2_PATTERN: str
CL100K_PATTERN: str
O200K_PATTERN: str

class CoreTokenizer:
    """Immutable BPE tokenizer: ranked tokens, special tokens and a pre-tokenization pattern."""

    @staticmethod
    def from_vocab_merges(
        vocab: dict[int, bytes],
        merges: Sequence[tuple[bytes, bytes]],
        special_tokens: Sequence[str],
        pattern: str,
    ) -> CoreTokenizer: ...
    @staticmethod
    def from_ranks(
        ranks: Sequence[tuple[bytes, int]], special_tokens: Sequence[tuple[str, int]], pattern: str
    ) -> CoreTokenizer: ...
    def encode_ordinary(self, text: str) -> list[int]: ...
    def encode(self, text: str, allowed: Sequence[str] | None) -> list[int]: ...
    def encode_batch(
        self,
        texts: list[str],
        allowed: Sequence[str] | None,
        num_threads: int | None = None,
    ) -> list[list[int]]: ...
    def encode_batch_to_buffers(
        self,
        texts: list[str],
        allowed: Sequence[str] | None,
        num_threads: int | None,
        itemsize: int,
    ) -> tuple[bytes, bytes]: ...
    def encode_with_unstable(
        self, text: str, allowed: Sequence[str] | None
    ) -> tuple[list[int], list[list[int]]]: ...
    def encode_to_buffer(
        self, text: str, allowed: Sequence[str] | None, itemsize: int
    ) -> bytes: ...
    def decode_bytes(self, ids: Iterable[int] | Any) -> bytes: ...
    def token_bytes(self, id: int) -> bytes: ...
    def decode_tokens_bytes(self, ids: Iterable[int] | Any) -> list[bytes]: ...
    def token_id(self, bytes: bytes) -> int | None: ...
    @property
    def n_vocab(self) -> int: ...
    @property
    def pattern(self) -> str: ...
    def special_tokens(self) -> dict[str, int]: ...
    def vocab(self) -> dict[int, bytes]: ...
    def ranked(self) -> list[tuple[bytes, int]]: ...
    def merges(self) -> list[tuple[bytes, bytes]] | None: ...
    def pretokenize(self, text: str) -> list[str]: ...

class WordCounts:
    """Counts of distinct pre-tokens; combine with `update`, pickle to send between processes."""

    def __init__(self) -> None: ...
    def __len__(self) -> int: ...
    def add(self, word: bytes, count: int | None = None) -> None: ...
    def get(self, word: bytes) -> int: ...
    def total(self) -> int: ...
    def update(self, other: WordCounts) -> None: ...
    def items(self) -> list[tuple[bytes, int]]: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> WordCounts: ...
    @property
    def pattern(self) -> str | None:
        """The pre-tokenization pattern counted with (None: built by hand with `add`)."""
    @property
    def special_tokens(self) -> list[str] | None:
        """The special tokens removed while counting (None: built by hand with `add`)."""
    @property
    def bytes_read(self) -> int:
        """Input bytes counted (summed by `update`)."""
    @property
    def nbytes(self) -> int:
        """Approximate bytes of memory held."""
    def save(self, path: _Path) -> None:
        """Writes a counts file (docs/cluster.md), atomically."""
    @staticmethod
    def load(path: _Path) -> WordCounts:
        """Reads a counts file; ValueError naming the file when corrupt or truncated."""
    def to_file_bytes(self) -> bytes: ...
    @staticmethod
    def from_file_bytes(data: bytes) -> WordCounts: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

def count_files(
    paths: Sequence[_Path],
    special_tokens: Sequence[str],
    pattern: str | None = None,
    threads: int | None = None,
    chunk_size: int | None = None,
    errors: str = "strict",
    progress: bool = False,
) -> WordCounts: ...
def count_iter(
    iterable: Iterable[str],
    special_tokens: Sequence[str],
    pattern: str | None = None,
    threads: int | None = None,
    chunk_size: int | None = None,
    errors: str = "strict",
    progress: bool = False,
    batch_bytes: int | None = None,
    *,
    bytes_items: bool = False,
) -> WordCounts: ...
def train_from_counts(
    counts: WordCounts,
    vocab_size: int,
    special_tokens: Sequence[str],
    min_frequency: int | None = None,
    threads: int | None = None,
    progress: bool = False,
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]], bool]:
    """(vocab, merges, ran_out): ran_out is True when the corpus had no pairs left to merge."""

def check_merge_args(
    vocab_size: int,
    special_tokens: Sequence[str],
    min_frequency: int | None = None,
    threads: int | None = None,
) -> None:
    """Raises what `train_from_counts` would for these arguments, without training."""

def encode_files(
    tokenizer: CoreTokenizer,
    inputs: Sequence[_Path],
    output: _Path,
    *,
    dtype: str | None = None,
    format: str | None = None,
    allowed: Sequence[str] | None = None,
    separator: int | None = None,
    errors: str = "strict",
    threads: int | None = None,
    chunk_size: int | None = None,
    in_flight: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Stats: bytes, tokens, chunks, files, dtype, format, seconds."""

class SafeCuts:
    """Where a byte stream may be cut for one pattern and set of recognized special tokens."""

    def __init__(
        self,
        pattern: str | None = None,
        special_tokens: list[str] = ...,
        *,
        special_only: bool = False,
    ) -> None: ...
    @property
    def context(self) -> int: ...
    def next_cut(
        self, data: bytes, start: int, *, stream_start: bool = False, stream_end: bool = False
    ) -> int | None: ...
    def last_cut_chars(self, data: bytes) -> int: ...

def next_safe_cut(
    data: bytes,
    start: int,
    pattern: str | None = None,
    special_tokens: list[str] = ...,
    *,
    stream_start: bool = False,
    stream_end: bool = False,
) -> int | None: ...
def first_disallowed(
    texts: list[str], tokens: list[str]
) -> tuple[int, str | None] | None: ...

# The UTF-8 the core encodes for `s` (its own transcoder for strs that are not pure ASCII;
# rust/src/py/text.rs): for tests against `str.encode`.
def utf8_bytes(s: str) -> bytes: ...
def write_file_atomic(path: _Path, data: bytes) -> None: ...
def load_native(path: _Path) -> tuple[CoreTokenizer, str | None]: ...
def native_to_string(tokenizer: CoreTokenizer, name: str | None = None) -> str: ...
def native_from_string(text: str) -> tuple[CoreTokenizer, str | None]: ...

# Tokenizer files (rust/src/py/formats.rs; the rules live in rust/src/formats/).
def load_hf(path: _Path) -> CoreTokenizer: ...
def load_tiktoken(
    path: _Path, special_tokens: Sequence[tuple[str, int]], pattern: str
) -> CoreTokenizer: ...
def load_vocab_merges(
    vocab_path: _Path, merges_path: _Path, special_tokens: Sequence[str], pattern: str
) -> CoreTokenizer: ...
def save_tokenizer(
    tokenizer: CoreTokenizer, path: _Path, name: str | None = None, format: str | None = None
) -> tuple[str, list[Path]]: ...
def save_format_for(path: _Path) -> Literal["fastbpe", "hf", "tiktoken", "vocab-merges"]: ...
def detect_format(path: _Path) -> tuple[str, list[Path]]: ...
def merges_from_ranks(tokenizer: CoreTokenizer) -> list[tuple[bytes, bytes]]: ...
def tiktoken_ranks(tokenizer: CoreTokenizer) -> list[tuple[bytes, int]]: ...
def hf_tokenizer_json(tokenizer: CoreTokenizer) -> str: ...
def gpt2_byte_chars() -> str: ...
def _interpreter_exiting() -> None: ...
