"""Conversions between fastbpe tokenizers and the formats other tools read.

Every conversion here gives the same ids as the fastbpe tokenizer it came from (tested):

* `to_tiktoken(tok)` -> a `tiktoken.Encoding`;
* `save_tiktoken(tok, path)` / `load_tiktoken(path)`: tiktoken's `.tiktoken` file;
* `save_vocab_merges(tok, directory)`: GPT-2/HF `vocab.json` + `merges.txt`;
* `save_hf(tok, path)` / `load_hf(path)`: a Hugging Face `tokenizer.json` that
  `tokenizers.Tokenizer.from_file` and
  `transformers.PreTrainedTokenizerFast(tokenizer_file=...)` load;
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

import base64
import json
import os
import weakref
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from .tokenizer import Tokenizer

StrPath = Union[str, "os.PathLike[str]"]

__all__ = [
    "bytes_to_unicode",
    "load_hf",
    "load_tiktoken",
    "merges_from_ranks",
    "save_hf",
    "save_tiktoken",
    "save_vocab_merges",
    "tiktoken_ranks",
    "to_tiktoken",
]


# ----------------------------------------------------------------------------- byte-level mapping


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable-character stand-in for each byte (`encoder.py`'s `bytes_to_unicode`),
    used by `vocab.json`, `merges.txt` and HF's byte-level `tokenizer.json`."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


@lru_cache(maxsize=1)
def _unicode_to_bytes() -> dict[str, int]:
    return {c: b for b, c in bytes_to_unicode().items()}


def _to_unicode(token: bytes) -> str:
    m = bytes_to_unicode()
    return "".join(m[b] for b in token)


def _from_unicode(text: str, where: str) -> bytes:
    m = _unicode_to_bytes()
    try:
        return bytes(m[c] for c in text)
    except KeyError as e:
        raise ValueError(
            f"{where}: {text!r} has a character ({e.args[0]!r}) outside GPT-2's byte-level "
            "alphabet; only byte-level BPE tokenizers are supported"
        ) from None


# ----------------------------------------------------------------------------- merges from ranks


def _ranked(tok: Tokenizer) -> list[tuple[bytes, int]]:
    """(bytes, id) of the mergeable tokens in rank order."""
    return [(bytes(b), int(i)) for b, i in tok._core.ranked()]


_derived_merges: weakref.WeakKeyDictionary[Any, list[tuple[bytes, bytes]]] = (
    weakref.WeakKeyDictionary()
)


def merges_from_ranks(tok: Tokenizer) -> list[tuple[bytes, bytes]]:
    """The merges that reproduce a rank-defined (tiktoken-style) tokenizer.

    For every mergeable token of two or more bytes, in rank order: BPE its bytes using only
    lower-ranked tokens; where that stops at two parts, those are the token's merge. (This is how
    GPT-2's `vocab.bpe` relates to `r50k_base.tiktoken`: it reproduces that file exactly.)

    Raises ValueError for a token that lower-ranked tokens cannot build in two parts; such a
    vocabulary has no merge list (tiktoken can still encode with it). The result is cached per
    tokenizer (GPT-2 takes about a second).
    """
    found = _derived_merges.get(tok)
    if found is None:
        found = _compute_merges_from_ranks(tok)
        _derived_merges[tok] = found
    return list(found)


def _compute_merges_from_ranks(tok: Tokenizer) -> list[tuple[bytes, bytes]]:
    ranked = _ranked(tok)
    rank_of = {b: r for r, (b, _) in enumerate(ranked)}
    merges: list[tuple[bytes, bytes]] = []
    for rank, (token, _) in enumerate(ranked):
        if len(token) < 2:
            continue
        # The answer is a split into two lower-ranked tokens; when there is only one such split
        # (most tokens), it is the answer without running BPE.
        splits = []
        for i in range(1, len(token)):
            a, b = rank_of.get(token[:i]), rank_of.get(token[i:])
            if a is not None and b is not None and a < rank and b < rank:
                splits.append(i)
        if len(splits) == 1:
            merges.append((token[: splits[0]], token[splits[0] :]))
            continue
        parts = [token[i : i + 1] for i in range(len(token))]
        while len(parts) > 2:
            best_rank, best_i = rank, -1
            for i in range(len(parts) - 1):
                r = rank_of.get(parts[i] + parts[i + 1])
                if r is not None and r < best_rank:
                    best_rank, best_i = r, i
            if best_i < 0:
                break
            parts[best_i : best_i + 2] = [parts[best_i] + parts[best_i + 1]]
        if len(parts) != 2 or any(p not in rank_of for p in parts):
            raise ValueError(
                f"token {token!r} (rank {rank}) cannot be built by merging two lower-ranked "
                "tokens, so this vocabulary has no merge list"
            )
        merges.append((parts[0], parts[1]))
    return merges


# ----------------------------------------------------------------------------- tiktoken


def tiktoken_ranks(tok: Tokenizer) -> dict[bytes, int]:
    """tiktoken's `mergeable_ranks` (bytes -> rank, which tiktoken also uses as the id).

    tiktoken has one number per token, so this works when the ids of the multi-byte tokens
    increase with their rank (true of tiktoken and GPT-2 vocabularies and of every fastbpe-trained
    one); single bytes may have any ids, since their rank never decides a merge.
    """
    ranked = _ranked(tok)
    last_id, last_token = -1, b""
    for token, i in ranked:
        if len(token) < 2:
            continue
        if i <= last_id:
            raise ValueError(
                f"cannot express this tokenizer in tiktoken's format: token {token!r} (id {i}) "
                f"merges after {last_token!r} (id {last_id}) but has a smaller id; tiktoken needs "
                "ids that increase with merge order"
            )
        last_id, last_token = i, token
    ranks = {token: i for token, i in ranked}
    if len(ranks) != len(ranked):
        raise ValueError("two mergeable tokens have the same bytes; tiktoken cannot express that")
    extra = set(tok._core.vocab()) - set(ranks.values()) - set(tok.special_tokens.values())
    if extra:
        raise ValueError(
            f"{len(extra)} decode-only ids (e.g. {min(extra)}) have no place in tiktoken's format"
        )
    return ranks


def to_tiktoken(tok: Tokenizer, name: str | None = None) -> Any:
    """A `tiktoken.Encoding` that gives the same ids (needs `pip install tiktoken`).

    >>> enc = fastbpe.get_encoding("gpt2")
    >>> to_tiktoken(enc).encode("hello world")
    [31373, 995]
    """
    try:
        import tiktoken
    except ImportError as e:
        raise ImportError("to_tiktoken needs the tiktoken package: pip install tiktoken") from e
    ranks = tiktoken_ranks(tok)
    specials = tok.special_tokens
    return tiktoken.Encoding(
        name=name or tok.name,
        pat_str=tok.pattern,
        mergeable_ranks=ranks,
        special_tokens=specials,
    )


def save_tiktoken(tok: Tokenizer, path: StrPath) -> None:
    """Writes tiktoken's `.tiktoken` file (`base64(token) rank` per line, in rank order).

    The file holds neither the special tokens nor the pattern; pass them when loading:
    `Tokenizer.from_tiktoken_file(path, {"<|endoftext|>": id}, pattern=...)`, or `load_tiktoken`.
    """
    ranks = tiktoken_ranks(tok)
    # In rank (= id) order, as tiktoken writes them: GPT-2's file comes out byte for byte.
    lines = [
        f"{base64.b64encode(t).decode('ascii')} {r}\n"
        for t, r in sorted(ranks.items(), key=lambda kv: kv[1])
    ]
    _write_atomic(path, "".join(lines).encode("ascii"))


def load_tiktoken(
    path: StrPath,
    special_tokens: dict[str, int] | None = None,
    *,
    pattern: str | None = None,
    name: str | None = None,
) -> Tokenizer:
    """Reads a `.tiktoken` file (ranks are ids); `pattern` defaults to GPT-2's."""
    from .tokenizer import Tokenizer

    return Tokenizer.from_tiktoken_file(path, special_tokens, pattern=pattern, name=name)


# ------------------------------------------------------------------------ vocab.json + merges.txt


def _merges(tok: Tokenizer) -> list[tuple[bytes, bytes]]:
    """The original merges, or (cached per tokenizer) merges_from_ranks for rank-defined ones."""
    merges = tok._core.merges()
    if merges is not None:
        return [(bytes(a), bytes(b)) for a, b in merges]
    return merges_from_ranks(tok)


def save_vocab_merges(tok: Tokenizer, directory: StrPath, prefix: str = "") -> tuple[Path, Path]:
    """Writes GPT-2/HF `vocab.json` and `merges.txt` into `directory` (created if needed).

    Load them back with `Tokenizer.from_files(vocab, merges, special_tokens=[...])`; the special
    tokens are in `vocab.json` with their ids, as in GPT-2's `encoder.json`.
    Returns the two paths.
    """
    d = Path(os.fspath(directory))
    d.mkdir(parents=True, exist_ok=True)
    vocab_path, merges_path = d / f"{prefix}vocab.json", d / f"{prefix}merges.txt"
    vocab: dict[str, int] = {}
    for i, b in sorted(tok._core.vocab().items()):
        vocab.setdefault(_to_unicode(bytes(b)), int(i))
    lines = ["#version: 0.2"]
    lines += [f"{_to_unicode(a)} {_to_unicode(b)}" for a, b in _merges(tok)]
    _write_atomic(vocab_path, json.dumps(vocab, ensure_ascii=False).encode("utf-8"))
    _write_atomic(merges_path, ("\n".join(lines) + "\n").encode("utf-8"))
    return vocab_path, merges_path


# ----------------------------------------------------------------------------- HF tokenizer.json


def hf_merges(tok: Tokenizer) -> list[tuple[bytes, bytes]]:
    """Merges for HF's BPE model that give fastbpe's (tiktoken's) ids.

    HF ranks a *pair* by its position in the merge list; fastbpe ranks it by the rank of the
    pair's concatenated bytes, whichever two tokens make them. So each token gets every split
    into two tokens, grouped in rank order (its own merge first). The result differs from fastbpe
    only when two different splits of one token overlap in a word (`[ab][a][ba]`, both `aba`):
    fastbpe merges the leftmost, HF the one listed first.
    """
    ranked = _ranked(tok)
    known = {b for b, _ in ranked}
    try:
        primary = {a + b: (a, b) for a, b in _merges(tok)}
    except ValueError:
        primary = {}
    out: list[tuple[bytes, bytes]] = []
    seen: set[tuple[bytes, bytes]] = set()
    for token, _ in ranked:
        if len(token) < 2:
            continue
        splits = [(token[:i], token[i:]) for i in range(1, len(token))]
        first = primary.get(token)
        if first is not None:
            splits.insert(0, first)
        for a, b in splits:
            if a in known and b in known and (a, b) not in seen:
                seen.add((a, b))
                out.append((a, b))
    return out


def _is_gpt2_pattern(pattern: str) -> bool:
    from . import _fastbpe

    classic = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
    return pattern in (_fastbpe.GPT2_PATTERN, classic)


def hf_tokenizer_json(tok: Tokenizer) -> dict[str, Any]:
    """The `tokenizer.json` document for `tok` (see `save_hf`)."""
    ranked = _ranked(tok)
    vocab: dict[str, int] = {}
    for b, i in ranked:
        vocab.setdefault(_to_unicode(b), i)
    specials = tok.special_tokens
    # HF keeps an added token's id only when the model's vocab has its content with that id;
    # otherwise it renumbers it after the vocab (as GPT-2's tokenizer.json, list it in both).
    for s, i in specials.items():
        vocab.setdefault(s, i)
    added = [
        {
            "id": i,
            "content": s,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for s, i in sorted(specials.items(), key=lambda kv: kv[1])
    ]
    byte_level = {
        "type": "ByteLevel",
        "add_prefix_space": False,
        "trim_offsets": True,
        "use_regex": True,
    }
    if _is_gpt2_pattern(tok.pattern):
        pre_tokenizer: dict[str, Any] = byte_level
    else:
        pre_tokenizer = {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": tok.pattern},
                    "behavior": "Isolated",
                    "invert": False,
                },
                {**byte_level, "use_regex": False},
            ],
        }
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": None,
        "decoder": {**byte_level, "add_prefix_space": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            # A piece that is itself a token is that one token (tiktoken's rule).
            "ignore_merges": True,
            "vocab": vocab,
            "merges": [[_to_unicode(a), _to_unicode(b)] for a, b in hf_merges(tok)],
        },
    }


def save_hf(tok: Tokenizer, path: StrPath) -> None:
    """Writes a Hugging Face `tokenizer.json` that gives the same ids as `tok`.

    Byte-level BPE: GPT-2's pattern becomes HF's `ByteLevel` pre-tokenizer (its regex is GPT-2's);
    another pattern becomes a `Split` on that regex followed by `ByteLevel(use_regex=False)`.
    Special tokens are added tokens (always recognized, as in `Tokenizer.encode`).

    >>> save_hf(tok, "tokenizer.json")
    >>> from transformers import PreTrainedTokenizerFast
    >>> hf = PreTrainedTokenizerFast(tokenizer_file="tokenizer.json")
    """
    doc = hf_tokenizer_json(tok)
    _write_atomic(path, json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"))


def _hf_pattern(pre: Any, where: str) -> str:
    from . import _fastbpe

    def is_byte_level(p: Any) -> bool:
        return isinstance(p, dict) and p.get("type") == "ByteLevel"

    if is_byte_level(pre) and pre.get("use_regex", True):
        if pre.get("add_prefix_space"):
            raise ValueError(f"{where}: ByteLevel add_prefix_space=true is not supported")
        return str(_fastbpe.GPT2_PATTERN)
    if isinstance(pre, dict) and pre.get("type") == "Sequence":
        steps = pre.get("pretokenizers") or []
        if (
            len(steps) == 2
            and isinstance(steps[0], dict)
            and steps[0].get("type") == "Split"
            and isinstance(steps[0].get("pattern"), dict)
            and "Regex" in steps[0]["pattern"]
            and steps[0].get("behavior") == "Isolated"
            and not steps[0].get("invert")
            and is_byte_level(steps[1])
            and not steps[1].get("use_regex", True)
            and not steps[1].get("add_prefix_space")
        ):
            return str(steps[0]["pattern"]["Regex"])
    raise ValueError(
        f"{where}: unsupported pre_tokenizer {json.dumps(pre)[:200]}; fastbpe reads byte-level BPE "
        "tokenizer.json files with a ByteLevel pre-tokenizer (optionally after a regex Split)"
    )


def load_hf(path: StrPath) -> Tokenizer:
    """Reads a byte-level BPE `tokenizer.json` (GPT-2 style, or one written by `save_hf`)."""
    from .tokenizer import Tokenizer

    where = os.fspath(path)
    try:
        doc = json.loads(Path(where).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: not valid JSON ({e})") from None
    model = doc.get("model") if isinstance(doc, dict) else None
    if not isinstance(model, dict) or model.get("type", "BPE") != "BPE" or "vocab" not in model:
        raise ValueError(f"{where}: not a BPE tokenizer.json (no BPE model)")
    if doc.get("normalizer") is not None:
        raise ValueError(f"{where}: tokenizers with a normalizer are not supported")
    pattern = _hf_pattern(doc.get("pre_tokenizer"), where)
    specials: dict[str, int] = {}
    for t in doc.get("added_tokens") or []:
        if not t.get("special", False):
            raise ValueError(f"{where}: non-special added token {t['content']!r} is not supported")
        specials[t["content"]] = int(t["id"])
    special_ids = set(specials.values())
    vocab: dict[int, bytes] = {}
    for s, i in model["vocab"].items():
        if int(i) not in special_ids:  # specials are listed in the model's vocab too
            vocab[int(i)] = _from_unicode(s, where)
    for s, i in specials.items():
        vocab[i] = s.encode("utf-8")
    merges: list[tuple[bytes, bytes]] = []
    for m in model.get("merges") or []:
        a, b = m.split(" ") if isinstance(m, str) else m
        merges.append((_from_unicode(a, where), _from_unicode(b, where)))
    return Tokenizer(vocab, merges, list(specials) or None, pattern=pattern)


# ----------------------------------------------------------------------------- helpers


def _write_atomic(path: StrPath, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file."""
    p = Path(os.fspath(path))
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
