"""Token files: encode corpora to `.npy` / `.bin` files of ids, streaming on all cores, and read
them back.

>>> fastbpe.encode_file(tok, "corpus.txt", "tokens.npy")
>>> ids = fastbpe.load_tokens("tokens.npy")         # memory-mapped numpy array
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Union

from . import _fastbpe
from .token_formats import _dtype_name, write_tokens
from .token_formats import load_tokens as _load_tokens

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .tokenizer import Tokenizer

StrPath = Union[str, "os.PathLike[str]"]

__all__ = ["EncodeFileResult", "encode_file", "load_tokens"]


@dataclass(frozen=True)
class EncodeFileResult:
    """What `encode_file` wrote."""

    path: str
    tokens: int
    bytes: int
    dtype: str
    format: str
    files: int
    chunks: int
    seconds: float

    @property
    def bytes_per_token(self) -> float:
        """Compression: input bytes per output token."""
        return self.bytes / self.tokens if self.tokens else 0.0

    @property
    def mb_per_s(self) -> float:
        """Throughput in MB (10^6 bytes) of input per second."""
        return self.bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0


def encode_file(
    tok: Tokenizer,
    inputs: StrPath | Sequence[StrPath],
    output: StrPath,
    *,
    dtype: Any = None,
    allowed_special: Literal["all"] | Collection[str] = "all",
    separator: str | int | None = None,
    errors: str = "strict",
    threads: int | None = None,
    progress: bool | None = None,
    chunk_size: int | None = None,
    format: str | None = None,
) -> EncodeFileResult:
    """Encodes text files into one token file, streaming, on all cores.

    The ids equal `tok.encode(open(f).read(), allowed_special=...)` for each file, concatenated
    (with `separator` between files). Memory stays bounded whatever the file size.

    * `output`: `.npy` (NumPy array; `numpy.load(path, mmap_mode="r")`) or `.bin` (raw
      little-endian ids, as nanoGPT's `train.bin`); written to a temporary file and renamed, so
      an error or Ctrl-C (KeyboardInterrupt) leaves nothing under the final name.
    * `dtype`: `uint16` when every id fits (the default then), else `uint32`.
    * `allowed_special`: special tokens recognized in the text (default all: a corpus's
      `<|endoftext|>` becomes the separator id); others are encoded as plain text. `()` or `set()`
      encodes all special-token text as plain text.
    * `separator`: a token (e.g. `"<|endoftext|>"`) or id written between consecutive files.
    * `errors`: `"strict"` (invalid UTF-8 raises ValueError with the byte offset) or `"replace"`.
    * `progress`: a progress bar on stderr (default: when stderr is a terminal).
    * `inputs` may include `"-"` for standard input; FIFOs, `/dev/stdin` and `<(zcat x.gz)` are
      read as streams (Ctrl-C works even while one is silent). A file that grows or shrinks while
      it is read raises OSError naming it.
    * `threads`: worker threads (None: all cores). `chunk_size`: bytes per parallel chunk
      (default 1 MiB, at most 1 GiB); each chunk ends at the first safe cut after it
      (rust/src/cut/README.md). An input with no safe cut for 256 MiB (no whitespace after a
      non-space character and no special token, e.g. `/dev/zero`) raises ValueError; running
      out of memory raises MemoryError; neither leaves a file behind.
    * `format`: ``"npy"``, ``"bin"``, ``"llmc"`` (llm.c / nanoGPT header) or ``"megatron"``
      (``PREFIX.bin`` + ``PREFIX.idx``), each with its document boundaries (`fastbpe.token_formats`);
      default: the plain token file named by `output`'s extension, no index.

    >>> enc = fastbpe.get_encoding("gpt2")
    >>> r = fastbpe.encode_file(enc, "corpus.txt", "corpus.npy")
    >>> r.tokens, r.dtype
    (2417, 'uint16')
    """
    if isinstance(inputs, (str, os.PathLike)):
        paths = [os.fspath(inputs)]
    else:
        paths = [os.fspath(p) for p in inputs]
    for p in paths:
        if not isinstance(p, str):
            raise TypeError(f"input paths must be str or os.PathLike, got {type(p).__name__}")
    dt = None if dtype is None else _dtype_name(dtype)
    allowed = _resolve_allowed(tok, allowed_special)
    sep = _resolve_separator(tok, separator)
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive int or None, got {chunk_size!r}")
    show = sys.stderr.isatty() if progress is None else bool(progress)
    out = os.fspath(output)

    def write(path: str, fmt: str | None, dt: str | None) -> dict[str, Any]:
        return _fastbpe.encode_files(
            tok._core,
            paths,
            path,
            dtype=dt,
            format=fmt,
            allowed=allowed,
            separator=sep,
            errors=errors,
            threads=threads,
            chunk_size=chunk_size or 0,
            progress=show,
        )

    if format is None:
        stats = write(out, None, dt)
    else:
        dt = dt or tok.numpy_dtype.__name__
        doc = sep if sep is not None else _doc_token(tok, allowed)
        _, stats = write_tokens(out, format, dt, doc, lambda raw: write(raw, "bin", dt))
        stats = {**stats, "format": format}
    return EncodeFileResult(
        path=out,
        tokens=int(stats["tokens"]),
        bytes=int(stats["bytes"]),
        dtype=str(stats["dtype"]),
        format=str(stats["format"]),
        files=int(stats["files"]),
        chunks=int(stats["chunks"]),
        seconds=float(stats["seconds"]),
    )


def _resolve_allowed(tok: Tokenizer, allowed_special: Any) -> list[str] | None:
    """The special tokens to recognize: None for all of them, else a checked, sorted list."""
    if allowed_special == "all":
        return None
    if isinstance(allowed_special, str):
        raise TypeError('allowed_special must be "all" or a collection of special tokens')
    allowed = sorted(allowed_special)
    unknown = [s for s in allowed if s not in tok.special_tokens]
    if unknown:
        raise ValueError(f"not special tokens of this tokenizer: {unknown}")
    return allowed


def _resolve_separator(tok: Tokenizer, separator: str | int | None) -> int | None:
    """The id written between input files: a special token, a single-token string, or an id."""
    sep: int | None
    if separator is None:
        sep = None
    elif isinstance(separator, str):
        if separator in tok.special_tokens:
            sep = tok.special_tokens[separator]
        else:
            ids = tok.encode_ordinary(separator)
            if len(ids) != 1:
                raise ValueError(
                    f"separator {separator!r} is not a special token or a single token of this "
                    "tokenizer; pass a token id"
                )
            sep = ids[0]
    elif isinstance(separator, int) and not isinstance(separator, bool):
        sep = separator
    else:
        raise TypeError(
            f"separator must be a token str or an int id, got {type(separator).__name__}"
        )
    if sep is not None and sep < 0:
        raise ValueError(f"separator id must be non-negative, got {sep}")
    return sep


def _doc_token(tok: Tokenizer, allowed: list[str] | None) -> int | None:
    """The id that ends a document when no separator is given: `<|endoftext|>` if recognized."""
    eot = "<|endoftext|>"
    if eot in tok.special_tokens and (allowed is None or eot in allowed):
        return tok.special_tokens[eot]
    return None


def load_tokens(
    path: StrPath, dtype: Any = None, *, mmap: bool = True, format: str | None = None
) -> npt.NDArray[np.unsignedinteger[Any]]:
    """A token file as a 1-D numpy array, memory-mapped by default.

    `.npy` files carry their dtype; a raw `.bin` file needs `dtype` (`numpy.uint16` or
    `numpy.uint32`, default `uint16`, the usual case). llm.c files (by their header) and Megatron
    datasets (``PREFIX``, ``PREFIX.bin`` or ``PREFIX.idx``) are read too: the one reader is
    `fastbpe.token_formats.load_tokens`.
    """
    return _load_tokens(path, dtype, mmap=mmap, format=format)  # type: ignore[no-any-return]
