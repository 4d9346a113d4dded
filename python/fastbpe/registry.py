"""`get_encoding`: GPT-2's vocabulary found the way tiktoken finds it.

Same URLs, same pinned SHA-256, same cache directory (`$TIKTOKEN_CACHE_DIR`, else
`$DATA_GYM_CACHE_DIR`, else `<tmp>/data-gym-cache`) and cache file names (SHA-1 of the URL), so a cache
that tiktoken filled serves fastbpe and the other way round. A `path` argument (a folder holding
`encoder.json` + `vocab.bpe` or `r50k_base.tiktoken`, or a `.tiktoken` file) skips all of that.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

from .encoding import Encoding
from .tokenizer import GPT2_PATTERN, StrPath

ENDOFTEXT = "<|endoftext|>"

# url -> (pinned sha256, file name used in a `path` folder)
ENCODER_JSON = (
    "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
    "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "encoder.json",
)
VOCAB_BPE = (
    "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
    "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
    "vocab.bpe",
)
R50K_TIKTOKEN = (
    "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken",
    "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
    "r50k_base.tiktoken",
)

_NAMES = ("gpt2", "r50k_base")
_cache: dict[tuple[str, str], Encoding] = {}
_lock = threading.Lock()


def list_encoding_names() -> list[str]:
    """Names `get_encoding` accepts ("gpt2" and its alias "r50k_base"), like tiktoken's."""
    return list(_NAMES)


def cache_dir() -> str | None:
    """tiktoken's cache directory; None when caching is disabled (empty TIKTOKEN_CACHE_DIR)."""
    d = os.environ.get("TIKTOKEN_CACHE_DIR")
    if d is None:
        d = os.environ.get("DATA_GYM_CACHE_DIR")
    if d is None:
        d = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return d or None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cached_path(url: str, sha: str) -> Path | None:
    d = cache_dir()
    if d is None:
        return None
    p = Path(d) / hashlib.sha1(url.encode()).hexdigest()
    if p.is_file() and _sha256(p.read_bytes()) == sha:
        return p
    return None


def _download(url: str, sha: str) -> Path:
    """Downloads into tiktoken's cache (write to a temporary name, then rename)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310 - fixed https URLs
        data = r.read()
    if _sha256(data) != sha:
        raise ValueError(f"hash mismatch for data downloaded from {url} (expected {sha})")
    d = cache_dir() or tempfile.mkdtemp(prefix="fastbpe-")
    os.makedirs(d, exist_ok=True)
    final = Path(d) / hashlib.sha1(url.encode()).hexdigest()
    tmp = final.with_name(f"{final.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, final)
    return final


def _missing_error(name: str, reason: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"cannot load the {name!r} vocabulary: {reason}.\n"
        "fastbpe looks for GPT-2's files where tiktoken keeps them: $TIKTOKEN_CACHE_DIR (else "
        f"$DATA_GYM_CACHE_DIR, else {os.path.join(tempfile.gettempdir(), 'data-gym-cache')}), "
        "named by the SHA-1 of their URL, and downloads them there when it can. To fix it, either:\n"
        f"  - run once with internet access (fastbpe or tiktoken.get_encoding({name!r}) fills the "
        "cache), or\n"
        f"  - pass the files yourself: fastbpe.get_encoding({name!r}, path=DIR) where DIR holds "
        "encoder.json + vocab.bpe or r50k_base.tiktoken (or path=FILE.tiktoken), or\n"
        "  - without internet: `pip download --no-deps --no-binary :all: openai-whisper==20250625` "
        "ships the same file as whisper/assets/gpt2.tiktoken; pass its path."
    )


def _find_files(name: str) -> tuple[str, Path, Path | None]:
    """('tiktoken', file, None) or ('gpt2', encoder.json, vocab.bpe) from cache or download."""
    order = [R50K_TIKTOKEN] if name == "r50k_base" else [ENCODER_JSON, VOCAB_BPE]
    alt = [ENCODER_JSON, VOCAB_BPE] if name == "r50k_base" else [R50K_TIKTOKEN]
    for group in (order, alt):
        found = [_cached_path(url, sha) for url, sha, _ in group]
        if all(found):
            return _kind(group, found)
    errors = []
    for group in (order, alt):
        try:
            found = [_cached_path(u, s) or _download(u, s) for u, s, _ in group]
            return _kind(group, found)
        except Exception as e:  # noqa: BLE001 - any failure means "try the next source"
            errors.append(f"{type(e).__name__}: {e}")
    raise _missing_error(name, "not in the cache and download failed (" + "; ".join(errors) + ")")


def _kind(
    group: list[tuple[str, str, str]], found: list[Path | None]
) -> tuple[str, Path, Path | None]:
    paths = [p for p in found if p is not None]
    if group[0] is R50K_TIKTOKEN:
        return "tiktoken", paths[0], None
    return "gpt2", paths[0], paths[1]


def _files_from_path(name: str, path: Path) -> tuple[str, Path, Path | None]:
    if path.is_file():
        return "tiktoken", path, None
    if not path.is_dir():
        raise _missing_error(name, f"{path} does not exist")
    if (path / "encoder.json").is_file() and (path / "vocab.bpe").is_file():
        return "gpt2", path / "encoder.json", path / "vocab.bpe"
    for fname in ("r50k_base.tiktoken", "gpt2.tiktoken"):
        if (path / fname).is_file():
            return "tiktoken", path / fname, None
    raise _missing_error(
        name, f"{path} holds neither encoder.json + vocab.bpe nor r50k_base.tiktoken"
    )


def get_encoding(encoding_name: str, *, path: StrPath | None = None) -> Encoding:
    """GPT-2's encoding (`"gpt2"` or `"r50k_base"`, the same vocabulary), ids identical to tiktoken.

    >>> enc = fastbpe.get_encoding("gpt2")
    >>> enc.encode("hello world")
    [31373, 995]
    """
    if encoding_name not in _NAMES:
        raise ValueError(
            f"Unknown encoding {encoding_name!r}. fastbpe ships: {', '.join(_NAMES)}; load others "
            "with Tokenizer.from_tiktoken_file, Tokenizer.from_files or fastbpe.load"
        )
    key = (encoding_name, os.fspath(path) if path is not None else "")
    with _lock:
        if key in _cache:
            return _cache[key]
        if path is not None:
            kind, a, b = _files_from_path(encoding_name, Path(os.fspath(path)))
        else:
            kind, a, b = _find_files(encoding_name)
        if kind == "tiktoken":
            enc = Encoding.from_tiktoken_file(
                a, {ENDOFTEXT: 50256}, pattern=GPT2_PATTERN, name=encoding_name
            )
        else:
            assert b is not None
            enc = Encoding.from_files(a, b, [ENDOFTEXT], pattern=GPT2_PATTERN)
            enc._name = encoding_name
        if enc.n_vocab != 50257 or enc.eot_token != 50256:
            raise ValueError(f"{a}: not GPT-2's vocabulary (n_vocab {enc.n_vocab})")
        _cache[key] = enc
        return enc
