"""Files: load and save tokenizers in any supported format (token files: `token_files`).

>>> tok = fastbpe.load("tokenizer.json")            # fastbpe, HF tokenizer.json, .tiktoken, ...
>>> fastbpe.save(tok, "tok.json")                   # fastbpe's own format (docs/format.md)
>>> fastbpe.encode_file(tok, "corpus.txt", "tokens.npy")
>>> ids = fastbpe.load_tokens("tokens.npy")         # memory-mapped numpy array
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Union

from . import _fastbpe

if TYPE_CHECKING:

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


# Token files have their own module; these names stay importable from here.
from .token_files import EncodeFileResult, encode_file, load_tokens  # noqa: E402
