"""Conversions between fastbpe tokenizers and the formats other tools read: thin names over
`Tokenizer.save(path, format=...)` and the Rust readers and writers (`rust/src/formats/`).

Every conversion gives the same ids as the fastbpe tokenizer it came from (tests/test_convert.py):

* `to_tiktoken(tok)` -> a `tiktoken.Encoding`;
* `save_tiktoken(tok, path)` / `load_tiktoken(path)`: tiktoken's `.tiktoken` file;
* `save_vocab_merges(tok, directory)`: GPT-2/HF `vocab.json` + `merges.txt`;
* `save_hf(tok, path)` / `load_hf(path)`: a Hugging Face `tokenizer.json` that
  `tokenizers.Tokenizer.from_file` and `transformers.PreTrainedTokenizerFast` load;
* `merges_from_ranks(tok)`: the merge list of a tokenizer loaded from tiktoken ranks.

    >>> import fastbpe
    >>> from fastbpe.convert import save_hf
    >>> enc = fastbpe.get_encoding("gpt2")
    >>> save_hf(enc, "tokenizer.json")
    >>> import tokenizers
    >>> tokenizers.Tokenizer.from_file("tokenizer.json").encode("hello world").ids
    [31373, 995]
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Union

from . import _fastbpe
from .tokenizer import Tokenizer

StrPath = Union[str, "os.PathLike[str]"]

__all__ = [
    "bytes_to_unicode",
    "hf_tokenizer_json",
    "load_hf",
    "load_tiktoken",
    "merges_from_ranks",
    "save_hf",
    "save_tiktoken",
    "save_vocab_merges",
    "tiktoken_ranks",
    "to_tiktoken",
]


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable-character stand-in for each byte (`encoder.py`'s `bytes_to_unicode`),
    used by `vocab.json`, `merges.txt` and HF's byte-level `tokenizer.json`; the table lives in
    rust/src/formats/byte_mapping.rs."""
    return dict(enumerate(_fastbpe.gpt2_byte_chars()))


def merges_from_ranks(tok: Tokenizer) -> list[tuple[bytes, bytes]]:
    """The merges that reproduce a rank-defined (tiktoken-style) tokenizer: for every mergeable
    token of two or more bytes, in rank order, the two parts at which byte-pair merging its own
    bytes arrives (this turns `r50k_base.tiktoken` into GPT-2's `vocab.bpe` exactly).

    ValueError for a token that merging its bytes never builds; such a vocabulary has no merge
    list (tiktoken can still encode with it).
    """
    return [(bytes(a), bytes(b)) for a, b in _fastbpe.merges_from_ranks(tok._core)]


def tiktoken_ranks(tok: Tokenizer) -> dict[bytes, int]:
    """tiktoken's `mergeable_ranks` (bytes -> rank, which tiktoken also uses as the id);
    ValueError when the ids of multi-byte tokens do not increase with merge order."""
    return dict(tok._mergeable_ranks)


def to_tiktoken(tok: Tokenizer, name: str | None = None) -> Any:
    """A `tiktoken.Encoding` that gives the same ids (needs `pip install tiktoken`)."""
    return tok.to_tiktoken(name)


def save_tiktoken(tok: Tokenizer, path: StrPath) -> None:
    """Writes tiktoken's `.tiktoken` file (`base64(token) rank` per line, in rank order).

    The file holds neither the special tokens nor the pattern; pass them when loading:
    `load_tiktoken(path, {"<|endoftext|>": id}, pattern=...)`.
    """
    tok.save(path, format="tiktoken")


def load_tiktoken(
    path: StrPath,
    special_tokens: dict[str, int] | None = None,
    *,
    pattern: str | None = None,
    name: str | None = None,
) -> Tokenizer:
    """Reads a `.tiktoken` file (ranks are ids); `pattern` defaults to GPT-2's."""
    return Tokenizer.from_tiktoken_file(path, special_tokens, pattern=pattern, name=name)


def save_vocab_merges(tok: Tokenizer, directory: StrPath) -> tuple[Path, Path]:
    """Writes GPT-2/HF `vocab.json` and `merges.txt` into `directory` (created if needed), both
    or neither; GPT-2's come out byte for byte as `encoder.json` and `vocab.bpe`.

    Load them back with `Tokenizer.from_files(vocab, merges, special_tokens=[...])`; the special
    tokens are in `vocab.json` with their ids, as in GPT-2's `encoder.json`.
    Returns the two paths.
    """
    _, files = _fastbpe.save_tokenizer(
        tok._core, os.fspath(directory), tok._name, "vocab-merges"
    )
    vocab, merges = (Path(p) for p in files)
    return vocab, merges


def save_hf(tok: Tokenizer, path: StrPath) -> None:
    """Writes a Hugging Face `tokenizer.json` that gives the same ids as `tok` (and, for a file
    named `tokenizer.json` or a directory, `tokenizer_config.json` + `special_tokens_map.json`).

    >>> save_hf(tok, "out/tokenizer.json")
    >>> from transformers import AutoTokenizer
    >>> hf = AutoTokenizer.from_pretrained("out")
    """
    tok.save(path, format="hf")


def hf_tokenizer_json(tok: Tokenizer) -> dict[str, Any]:
    """The `tokenizer.json` document `save_hf` writes."""
    doc: dict[str, Any] = json.loads(_fastbpe.hf_tokenizer_json(tok._core))
    return doc


def load_hf(path: StrPath) -> Tokenizer:
    """Reads a byte-level BPE `tokenizer.json` (`Tokenizer.from_hf_file`)."""
    return Tokenizer.from_hf_file(path)
