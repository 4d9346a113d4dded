"""Files: load and save tokenizers in any supported format (token files: `token_files`).

>>> tok = fastbpe.load("tokenizer.json")            # fastbpe, HF tokenizer.json, .tiktoken, ...
>>> fastbpe.save(tok, "tok.json")                   # fastbpe's own format (docs/format.md)
>>> fastbpe.encode_file(tok, "corpus.txt", "tokens.npy")
>>> ids = fastbpe.load_tokens("tokens.npy")         # memory-mapped numpy array

Layering (as tiktoken's): the readers and writers are Rust (`rust/src/formats/`, one module per
format), `Tokenizer` (tokenizer.py) constructs from what they return, the registry
(`get_encoding`) sits on the class, and this module, on top, picks the format and falls back to
the registry for encoding names. Nothing below imports this module.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Union

from . import _fastbpe
from .registry import get_encoding, list_encoding_names, name_for_pinned_file
from .token_files import EncodeFileResult, encode_file, load_tokens
from .tokenizer import SaveFormat, Tokenizer

StrPath = Union[str, "os.PathLike[str]"]

__all__ = [
    "EncodeFileResult",
    "encode_file",
    "load",
    "load_tokens",
    "save",
    "save_format_for",
]


def load(
    path_or_name: StrPath,
    *,
    special_tokens: Sequence[str] | dict[str, int] | None = None,
    pattern: str | None = None,
) -> Tokenizer:
    """Loads a tokenizer, detecting the format.

    * an encoding name such as `"gpt2"` or `"cl100k_base"` (when no such file exists):
      `fastbpe.get_encoding(name)`;
    * fastbpe's own JSON file (`save(tok, path)`, docs/format.md);
    * a Hugging Face byte-level BPE `tokenizer.json` (a setting that would change the ids and
      that fastbpe does not implement is a ValueError naming it);
    * a `.tiktoken` file: one of tiktoken's own (recognized by its SHA-256) gets its encoding's
      special tokens and pattern; for others pass `special_tokens={"<|x|>": id}` and `pattern`;
    * a directory with `vocab.json` + `merges.txt` (or GPT-2's `encoder.json` + `vocab.bpe`);
      `special_tokens` names the special tokens in `vocab.json` (default: `<|endoftext|>` if
      present).
    """
    if not isinstance(path_or_name, (str, os.PathLike)):
        raise TypeError(f"expected a path or an encoding name, got {type(path_or_name).__name__}")
    raw = os.fspath(path_or_name)
    path = Path(raw)
    names = list_encoding_names()
    if raw in names and not path.exists():
        return get_encoding(raw)
    if not path.exists():
        hint = f" (built-in encodings: {', '.join(names)})" if os.sep not in raw else ""
        raise FileNotFoundError(2, f"No such tokenizer file or directory{hint}", raw)
    kind, paths = _fastbpe.detect_format(raw)
    if kind == "fastbpe":
        core, name = _fastbpe.load_native(paths[0])
        return Tokenizer._from_core(core, name)
    if kind == "hf":
        return Tokenizer.from_hf_file(paths[0])
    if kind == "tiktoken":
        specials = dict(special_tokens) if isinstance(special_tokens, dict) else None
        if special_tokens is not None and specials is None:
            raise TypeError("for a .tiktoken file, special_tokens must be a dict {token: id}")
        if specials is None and pattern is None:
            known = name_for_pinned_file(paths[0])
            if known is not None:
                return get_encoding(known, path=paths[0])
        return Tokenizer.from_tiktoken_file(
            paths[0], specials, pattern=pattern, name=Path(paths[0]).stem
        )
    vocab_path, merges_path = paths
    if special_tokens is not None:
        specials_list: list[str] | None = list(special_tokens)
    else:
        has_eot = b'"<|endoftext|>"' in Path(vocab_path).read_bytes()
        specials_list = ["<|endoftext|>"] if has_eot else None
    return Tokenizer.from_files(vocab_path, merges_path, specials_list, pattern=pattern)


def save(tok: Tokenizer, path: StrPath, *, format: SaveFormat | None = None) -> None:
    """Saves `tok`: `tok.save(path, format=format)`. `format` (default:
    `save_format_for(path)`) is "fastbpe", "hf", "tiktoken" or "vocab-merges"; see
    `Tokenizer.save`. All files of one save are written, or none."""
    if not isinstance(tok, Tokenizer):
        raise TypeError(f"expected a fastbpe Tokenizer, got {type(tok).__name__}")
    tok.save(path, format=format)


def save_format_for(path: StrPath) -> SaveFormat:
    """The format `save` picks for `path`: "hf" for a file named `tokenizer.json`, "tiktoken" for
    `*.tiktoken`, "vocab-merges" for a directory (existing, or named with a trailing `/`),
    else "fastbpe"."""
    fmt: SaveFormat = _fastbpe.save_format_for(os.fspath(path))
    return fmt
