"""Files: load and save tokenizers in any supported format, encode corpora to token files.

>>> tok = fastbpe.load("tokenizer.json")            # fastbpe, HF tokenizer.json, .tiktoken, ...
>>> fastbpe.save(tok, "tok.json")                   # fastbpe's own format (docs/format.md)
>>> fastbpe.encode_file(tok, "corpus.txt", "tokens.npy")
>>> ids = fastbpe.load_tokens("tokens.npy")         # memory-mapped numpy array
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union

from . import _fastbpe

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .tokenizer import Tokenizer

StrPath = Union[str, "os.PathLike[str]"]
SaveFormat = Literal["fastbpe", "hf", "tiktoken", "vocab-merges"]

__all__ = [
    "EncodeFileResult",
    "encode_file",
    "load",
    "load_tokens",
    "save",
]

_ENCODING_NAMES = ("gpt2", "r50k_base")
_R50K_SHA256 = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"


# ----------------------------------------------------------------------------- tokenizers


def _sniff(path: Path) -> str:
    """'fastbpe', 'hf', 'tiktoken' or 'vocab-merges' (a directory); ValueError when unknown."""
    if path.is_dir():
        for v, m in (("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe")):
            if (path / v).is_file() and (path / m).is_file():
                return "vocab-merges"
        for name in ("tokenizer.fastbpe.json", "tokenizer.json"):
            if (path / name).is_file():
                return _sniff(path / name)
        raise ValueError(
            f"{path}: a directory without vocab.json + merges.txt, encoder.json + vocab.bpe, "
            "or tokenizer.json"
        )
    with open(path, "rb") as f:
        head = f.read(4096)
    text = head.lstrip()
    if text.startswith(b"{"):
        # A JSON object: fastbpe's own format names itself near the top; HF's has "model".
        if b'"format"' in head and b'"fastbpe"' in head:
            return "fastbpe"
        return "hf"
    first = head.split(b"\n", 1)[0].strip()
    parts = first.split(b" ")
    if len(parts) == 2 and parts[1].isdigit():
        return "tiktoken"
    raise ValueError(
        f"{path}: unknown tokenizer file format (expected fastbpe JSON, a Hugging Face "
        "tokenizer.json, a .tiktoken file, or a directory with vocab.json + merges.txt)"
    )


def load(
    path_or_name: StrPath,
    *,
    special_tokens: Sequence[str] | dict[str, int] | None = None,
    pattern: str | None = None,
) -> Tokenizer:
    """Loads a tokenizer, detecting the format.

    * `"gpt2"` / `"r50k_base"` (when no such file exists): `fastbpe.get_encoding(name)`;
    * fastbpe's own JSON file (`save(tok, path)`, docs/format.md);
    * a Hugging Face byte-level BPE `tokenizer.json`;
    * a `.tiktoken` file (GPT-2's `r50k_base.tiktoken` is recognized and gets `<|endoftext|>`;
      for others pass `special_tokens={"<|x|>": id}` and `pattern`);
    * a directory with `vocab.json` + `merges.txt` (or GPT-2's `encoder.json` + `vocab.bpe`);
      `special_tokens` names the special tokens in `vocab.json` (default: `<|endoftext|>` if
      present).
    """
    from .registry import get_encoding
    from .tokenizer import Tokenizer

    if not isinstance(path_or_name, (str, os.PathLike)):
        raise TypeError(f"expected a path or an encoding name, got {type(path_or_name).__name__}")
    raw = os.fspath(path_or_name)
    path = Path(raw)
    if raw in _ENCODING_NAMES and not path.exists():
        return get_encoding(raw)
    if not path.exists():
        hint = f" (built-in encodings: {', '.join(_ENCODING_NAMES)})" if os.sep not in raw else ""
        raise FileNotFoundError(2, f"No such tokenizer file or directory: {raw!r}{hint}", raw)
    kind = _sniff(path)
    if kind == "fastbpe":
        if path.is_dir():
            path = path / "tokenizer.fastbpe.json"
            if not path.is_file():
                path = path.with_name("tokenizer.json")
        core, name = _fastbpe.load_native(os.fspath(path))
        return Tokenizer._from_core(core, name)
    if kind == "hf":
        from .convert import load_hf

        if path.is_dir():
            path = path / "tokenizer.json"
        return load_hf(path)
    if kind == "tiktoken":
        specials = dict(special_tokens) if isinstance(special_tokens, dict) else None
        if special_tokens is not None and specials is None:
            raise TypeError("for a .tiktoken file, special_tokens must be a dict {token: id}")
        if specials is None and pattern is None and _sha256(path) == _R50K_SHA256:
            return get_encoding("gpt2", path=path)
        return Tokenizer.from_tiktoken_file(path, specials, pattern=pattern, name=path.stem)
    # vocab-merges directory
    if (path / "vocab.json").is_file():
        vocab_path, merges_path = path / "vocab.json", path / "merges.txt"
    else:
        vocab_path, merges_path = path / "encoder.json", path / "vocab.bpe"
    if isinstance(special_tokens, dict):
        names: list[str] | None = list(special_tokens)
    elif special_tokens is not None:
        names = list(special_tokens)
    else:
        names = ["<|endoftext|>"] if b'"<|endoftext|>"' in vocab_path.read_bytes() else None
    return Tokenizer.from_files(vocab_path, merges_path, names, pattern=pattern)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save(tok: Tokenizer, path: StrPath, *, format: SaveFormat | None = None) -> None:
    """Saves `tok`. `format` (default: from the name, else fastbpe's own):

    * `"fastbpe"`: one JSON file, exact round trip (docs/format.md); load with `fastbpe.load`;
    * `"hf"`: a Hugging Face `tokenizer.json`;
    * `"tiktoken"`: a `.tiktoken` file (ranks only: no special tokens or pattern); chosen for
      names ending in `.tiktoken`;
    * `"vocab-merges"`: a directory with `vocab.json` + `merges.txt`.

    Files are written to a temporary name and renamed: never half-written.
    """
    from .convert import save_hf, save_tiktoken, save_vocab_merges

    p = os.fspath(path)
    if format is None:
        format = "tiktoken" if p.endswith(".tiktoken") else "fastbpe"
    if format == "fastbpe":
        _fastbpe.save_native(tok._core, p, tok._name)
    elif format == "hf":
        save_hf(tok, p)
    elif format == "tiktoken":
        save_tiktoken(tok, p)
    elif format == "vocab-merges":
        save_vocab_merges(tok, p)
    else:
        raise ValueError(
            f"unknown format {format!r}; use 'fastbpe', 'hf', 'tiktoken' or 'vocab-merges'"
        )


# ----------------------------------------------------------------------------- token files


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
    * `inputs` may include `"-"` for standard input.

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
    allowed: list[str] | None
    if allowed_special == "all":
        allowed = None
    else:
        if isinstance(allowed_special, str):
            raise TypeError('allowed_special must be "all" or a collection of special tokens')
        allowed = sorted(allowed_special)
        unknown = [s for s in allowed if s not in tok.special_tokens]
        if unknown:
            raise ValueError(f"not special tokens of this tokenizer: {unknown}")
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
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive int or None, got {chunk_size!r}")
    show = sys.stderr.isatty() if progress is None else bool(progress)
    out = os.fspath(output)
    stats = _fastbpe.encode_files(
        tok._core,
        paths,
        out,
        dtype=dt,
        allowed=allowed,
        separator=sep,
        errors=errors,
        threads=threads or 0,
        chunk_size=chunk_size or 0,
        progress=show,
    )
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


def _dtype_name(dtype: Any) -> str:
    import numpy as np

    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise ValueError(f"dtype must be uint16 or uint32, got {dtype!r}") from e
    if dt == np.dtype(np.uint16):
        return "uint16"
    if dt == np.dtype(np.uint32):
        return "uint32"
    raise ValueError(f"dtype must be uint16 or uint32, got {dt}")


def load_tokens(
    path: StrPath, dtype: Any = None, *, mmap: bool = True
) -> npt.NDArray[np.unsignedinteger[Any]]:
    """A token file as a 1-D numpy array, memory-mapped by default.

    `.npy` files carry their dtype; a raw `.bin` file needs `dtype` (`numpy.uint16` or
    `numpy.uint32`, default `uint16`, the usual case).
    """
    import numpy as np

    p = os.fspath(path)
    with open(p, "rb") as f:
        is_npy = f.read(6) == b"\x93NUMPY"
    if is_npy:
        return np.load(p, mmap_mode="r" if mmap else None)
    dt = np.dtype(_dtype_name(dtype if dtype is not None else np.uint16)).newbyteorder("<")
    size = os.path.getsize(p)
    if size % dt.itemsize:
        raise ValueError(f"{p}: {size} bytes is not a whole number of {dt.name} ids; wrong dtype?")
    if size == 0:
        return np.zeros(0, dtype=dt)
    if mmap:
        return np.memmap(p, dtype=dt, mode="r")
    return np.fromfile(p, dtype=dt)
