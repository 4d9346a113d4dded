"""`get_encoding`: tiktoken's encodings, found where tiktoken finds them.

Every name tiktoken registers (`gpt2`, `r50k_base`, `p50k_base`, `p50k_edit`, `cl100k_base`,
`o200k_base`, `o200k_harmony`) with tiktoken's URLs, pinned SHA-256, special tokens and patterns
(patterns.py), taken from its `tiktoken_ext/openai_public.py`. The files come from, in order:

1. `path=` (a file, or a folder holding the files under their own names); a file with the pinned
   hash is also copied into the cache, so the next call without `path=` (and tiktoken) finds it;
2. tiktoken's cache: `$TIKTOKEN_CACHE_DIR`, else `$DATA_GYM_CACHE_DIR`, else
   `<tmp>/data-gym-cache`, each file named by the SHA-1 of its URL. A cache tiktoken filled
   serves fastbpe and the other way round;
3. a download from tiktoken's URL, checked against the pinned SHA-256 and written into the cache
   (temporary name, then rename), as tiktoken does.

Offline, the error says, per file, what was wrong (not cached, or cached but failing the hash
check) and how to supply it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from . import _fastbpe
from .encoding import Encoding
from .patterns import CL100K_PATTERN, O200K_PATTERN, R50K_PATTERN
from .tokenizer import StrPath

ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"

# The openai-whisper sdist ships r50k_base.tiktoken byte for byte: the offline route for GPT-2.
WHISPER_SDIST = "openai-whisper==20250625"
WHISPER_MEMBER = "whisper/assets/gpt2.tiktoken"


@dataclass(frozen=True)
class VocabFile:
    """One of tiktoken's vocabulary files: its URL and the SHA-256 tiktoken pins for it."""

    url: str
    sha256: str

    @property
    def name(self) -> str:
        """The file's own name (the last part of its URL), as looked for in a `path=` folder."""
        return self.url.rsplit("/", 1)[1]

    def cache_path(self) -> Path | None:
        """Where tiktoken caches it; None when caching is disabled."""
        d = cache_dir()
        return None if d is None else Path(d) / hashlib.sha1(self.url.encode()).hexdigest()


ENCODER_JSON = VocabFile(
    "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
    "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
)
VOCAB_BPE = VocabFile(
    "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
    "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
)
R50K_FILE = VocabFile(
    "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken",
    "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
)
P50K_FILE = VocabFile(
    "https://openaipublic.blob.core.windows.net/encodings/p50k_base.tiktoken",
    "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069",
)
CL100K_FILE = VocabFile(
    "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
)
O200K_FILE = VocabFile(
    "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
)

_DATA_GYM = (ENCODER_JSON, VOCAB_BPE)  # GPT-2's original pair: the same ranks as R50K_FILE


@dataclass(frozen=True)
class EncodingSpec:
    """What tiktoken's constructor for one encoding name uses.

    `sources`: alternative file sets holding the same ranks, preferred first (GPT-2's original
    pair or r50k_base.tiktoken). `extra_names`: other names a `path=` folder may use for a file.
    """

    name: str
    sources: tuple[tuple[VocabFile, ...], ...]
    pattern: str
    special_tokens: dict[str, int]
    explicit_n_vocab: int | None = None
    extra_names: dict[VocabFile, tuple[str, ...]] = field(default_factory=dict)


_GPT2_ALIASES = {R50K_FILE: ("gpt2.tiktoken",)}  # the name inside the openai-whisper sdist
_O200K_SPECIALS = {ENDOFTEXT: 199999, ENDOFPROMPT: 200018}
_HARMONY_SPECIALS = {
    **_O200K_SPECIALS,
    "<|startoftext|>": 199998,
    "<|endoftext|>": 199999,
    "<|reserved_200000|>": 200000,
    "<|reserved_200001|>": 200001,
    "<|return|>": 200002,
    "<|constrain|>": 200003,
    "<|reserved_200004|>": 200004,
    "<|channel|>": 200005,
    "<|start|>": 200006,
    "<|end|>": 200007,
    "<|message|>": 200008,
    "<|reserved_200009|>": 200009,
    "<|reserved_200010|>": 200010,
    "<|reserved_200011|>": 200011,
    "<|call|>": 200012,
    **{f"<|reserved_{i}|>": i for i in range(200013, 201088)},
}

ENCODINGS: dict[str, EncodingSpec] = {
    s.name: s
    for s in (
        EncodingSpec(
            "gpt2",
            (_DATA_GYM, (R50K_FILE,)),
            R50K_PATTERN,
            {ENDOFTEXT: 50256},
            50257,
            _GPT2_ALIASES,
        ),
        EncodingSpec(
            "r50k_base",
            ((R50K_FILE,), _DATA_GYM),
            R50K_PATTERN,
            {ENDOFTEXT: 50256},
            50257,
            _GPT2_ALIASES,
        ),
        EncodingSpec("p50k_base", ((P50K_FILE,),), R50K_PATTERN, {ENDOFTEXT: 50256}, 50281),
        EncodingSpec(
            "p50k_edit",
            ((P50K_FILE,),),
            R50K_PATTERN,
            {ENDOFTEXT: 50256, FIM_PREFIX: 50281, FIM_MIDDLE: 50282, FIM_SUFFIX: 50283},
        ),
        EncodingSpec(
            "cl100k_base",
            ((CL100K_FILE,),),
            CL100K_PATTERN,
            {
                ENDOFTEXT: 100257,
                FIM_PREFIX: 100258,
                FIM_MIDDLE: 100259,
                FIM_SUFFIX: 100260,
                ENDOFPROMPT: 100276,
            },
        ),
        EncodingSpec("o200k_base", ((O200K_FILE,),), O200K_PATTERN, _O200K_SPECIALS),
        EncodingSpec("o200k_harmony", ((O200K_FILE,),), O200K_PATTERN, _HARMONY_SPECIALS),
    )
}

_cache: dict[tuple[str, str], Encoding] = {}
_lock = threading.Lock()


def _reset_lock_in_child() -> None:
    # A fork while another thread holds the lock would leave the child's copy locked forever.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_in_child)


def list_encoding_names() -> list[str]:
    """The names `get_encoding` accepts: tiktoken's."""
    return list(ENCODINGS)


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


# ----------------------------------------------------------------------------- finding files


class _Problems:
    """Why each file could not be had, for the one error message that lists them all."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        if line not in self.lines:
            self.lines.append(line)


def _from_cache(f: VocabFile, problems: _Problems) -> bytes | None:
    p = f.cache_path()
    if p is None:
        problems.add(f"{f.name}: the cache is disabled (TIKTOKEN_CACHE_DIR is empty)")
        return None
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        problems.add(f"{f.name}: not in the cache (no file {p})")
        return None
    except OSError as e:
        problems.add(f"{f.name}: cannot read the cached file {p}: {e.strerror or e}")
        return None
    return _verified(f, data, f"the cached file {p}", problems, "; delete it or replace it")


def _verified(
    f: VocabFile, data: bytes, what: str, problems: _Problems, advice: str = ""
) -> bytes | None:
    """`data` when it has the pinned SHA-256, else None with the reason noted."""
    got = _sha256(data)
    if got == f.sha256:
        return data
    problems.add(
        f"{f.name}: {what} failed the SHA-256 check (it is {got}, tiktoken pins {f.sha256})"
        + advice
    )
    return None


def _download(f: VocabFile, problems: _Problems) -> bytes | None:
    import urllib.request

    try:
        with urllib.request.urlopen(f.url, timeout=30) as r:  # noqa: S310 - tiktoken's https URL
            data: bytes = r.read()
    except Exception as e:  # noqa: BLE001 - any failure is reported, with its cause
        problems.add(f"{f.name}: download from {f.url} failed ({type(e).__name__}: {e})")
        return None
    if _verified(f, data, f"the data downloaded from {f.url}", problems) is None:
        return None
    _store(f, data, strict=cache_dir() is not None and "TIKTOKEN_CACHE_DIR" in os.environ)
    return data


def _store(f: VocabFile, data: bytes, *, strict: bool) -> None:
    """Writes a verified file into the cache, atomically (the one home for that:
    `_fastbpe.write_file_atomic`, a temporary name unique to the call, then a rename). Like
    tiktoken, a failure to write the default cache is ignored; a user-chosen one raises."""
    p = f.cache_path()
    if p is None:
        return
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        _fastbpe.write_file_atomic(os.fspath(p), data)
    except OSError:
        if strict:
            raise


def _from_cache_or_download(spec: EncodingSpec) -> dict[VocabFile, bytes]:
    problems = _Problems()
    for group in spec.sources:  # everything already cached wins, in order of preference
        got = {f: _from_cache(f, problems) for f in group}
        if all(v is not None for v in got.values()):
            return got  # type: ignore[return-value]
    for group in spec.sources:
        got = {}
        for f in group:
            data = _from_cache(f, problems) or _download(f, problems)
            if data is None:
                break
            got[f] = data
        else:
            return got
    raise _unavailable(spec, problems.lines)


def _from_path(spec: EncodingSpec, path: Path) -> dict[VocabFile, bytes]:
    """The files under `path` (a file, or a folder holding them by name), hash-checked."""
    if path.is_file():
        # One file: whichever single-file source it is.
        (single,) = [g[0] for g in spec.sources if len(g) == 1]
        return {single: _checked(single, path)}
    if not path.is_dir():
        raise _unavailable(spec, [f"{path} does not exist"], given=True)
    for group in spec.sources:
        found = {f: _named_in(spec, f, path) for f in group}
        if all(v is not None for v in found.values()):
            return {f: _checked(f, p) for f, p in found.items() if p is not None}
    wanted = " or ".join(" + ".join(f.name for f in g) for g in spec.sources)
    raise _unavailable(spec, [f"{path} holds no {wanted}"], given=True)


def _named_in(spec: EncodingSpec, f: VocabFile, folder: Path) -> Path | None:
    for name in (f.name, *spec.extra_names.get(f, ())):
        if (folder / name).is_file():
            return folder / name
    return None


def _checked(f: VocabFile, p: Path) -> bytes:
    data = p.read_bytes()
    got = _sha256(data)
    if got != f.sha256:
        raise ValueError(
            f"{p}: not tiktoken's {f.name} (its SHA-256 is {got}, tiktoken pins {f.sha256}). "
            "To load a vocabulary of your own, use fastbpe.Tokenizer.from_tiktoken_file(path, "
            "special_tokens, pattern=...) or fastbpe.load(path)"
        )
    # Fill the cache, so that the next call without `path=` (fastbpe's or tiktoken's) finds it.
    _store(f, data, strict=False)
    return data


class VocabularyUnavailable(FileNotFoundError):
    """An encoding's files could not be had. `hint` says in one line how to supply them."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _whisper_steps() -> str:
    return (
        f"`pip download --no-deps --no-binary :all: {WHISPER_SDIST} -d DIR`, then unpack the "
        f"file: `tar xzf DIR/openai_whisper-20250625.tar.gz -C DIR --wildcards '*/{WHISPER_MEMBER}'`"
    )


def supply_hint(name: str) -> str:
    """How to get `name`'s files onto a machine without internet (errors and docs)."""
    spec = ENCODINGS[name]
    files = sorted({f for g in spec.sources for f in g}, key=lambda f: f.name)
    d = cache_dir() or "(none: TIKTOKEN_CACHE_DIR is empty, caching is disabled)"
    lines = [
        "To supply the file(s) without internet, either:",
        f"  - pass it once: fastbpe.get_encoding({name!r}, path=FILE_OR_DIR), or on the command "
        "line -t FILE; a file with the pinned SHA-256 is copied into the cache, so later calls "
        f"(and tiktoken's) find it;",
        "  - or copy a cache that tiktoken or fastbpe filled on a machine with internet, and set "
        f"TIKTOKEN_CACHE_DIR to it (this machine's cache: {d}; file names: "
        + ", ".join(f"{f.name} = {hashlib.sha1(f.url.encode()).hexdigest()}" for f in files)
        + ")",
    ]
    if R50K_FILE in files:
        lines.append(
            f"  - GPT-2's r50k_base.tiktoken ships byte for byte in the {WHISPER_SDIST} source "
            f"distribution: {_whisper_steps()}; then pass DIR/openai_whisper-20250625/"
            f"{WHISPER_MEMBER} as path= (or -t)"
        )
    return "\n".join(lines)


def _short_hint(spec: EncodingSpec) -> str:
    """`supply_hint` in one line, for the command line's one-line errors."""
    files = {f for g in spec.sources for f in g}
    hint = f"offline, pass the file once with -t FILE (it is then cached for -t {spec.name})"
    if R50K_FILE in files:
        hint += f"; GPT-2's file ships in the {WHISPER_SDIST} sdist: {_whisper_steps()}"
    return hint + "; details: docs/install.md"


def _unavailable(spec: EncodingSpec, problems: list[str], *, given: bool = False) -> Exception:
    where = "from the given path" if given else "from tiktoken's cache or by download"
    return VocabularyUnavailable(
        f"cannot load the {spec.name!r} vocabulary {where}: "
        + "; ".join(problems)
        + ".\n"
        + supply_hint(spec.name),
        _short_hint(spec),
    )


# ----------------------------------------------------------------------------- building


def _build(spec: EncodingSpec, files: dict[VocabFile, bytes]) -> Encoding:
    # The Rust loaders read files: hand them the verified bytes through a private temporary folder.
    with tempfile.TemporaryDirectory(prefix="fastbpe-vocab-") as tmp:
        paths = {}
        for f, data in files.items():
            paths[f] = Path(tmp) / f.name
            paths[f].write_bytes(data)
        if ENCODER_JSON in paths:
            specials = [t for t, _ in sorted(spec.special_tokens.items(), key=lambda kv: kv[1])]
            enc = Encoding.from_files(
                paths[ENCODER_JSON], paths[VOCAB_BPE], specials, pattern=spec.pattern
            )
            enc._name = spec.name
        else:
            (p,) = paths.values()
            enc = Encoding.from_tiktoken_file(
                p, spec.special_tokens, pattern=spec.pattern, name=spec.name
            )
    if enc.special_tokens != spec.special_tokens or (
        spec.explicit_n_vocab is not None and enc.n_vocab != spec.explicit_n_vocab
    ):
        raise ValueError(
            f"the files loaded for {spec.name!r} do not make tiktoken's encoding (n_vocab "
            f"{enc.n_vocab}, expected {spec.explicit_n_vocab})"
        )
    return enc


def get_encoding(encoding_name: str, *, path: StrPath | None = None) -> Encoding:
    """tiktoken's encoding `encoding_name`, ids identical to tiktoken's.

    `path`: the vocabulary file (or a folder holding it under its own name) instead of the cache
    or a download; it must be tiktoken's file (pinned SHA-256), and is copied into the cache.

    >>> enc = fastbpe.get_encoding("gpt2")
    >>> enc.encode("hello world")
    [31373, 995]
    """
    if not isinstance(encoding_name, str):
        raise TypeError(f"encoding_name must be a str, got {type(encoding_name).__name__}")
    spec = ENCODINGS.get(encoding_name)
    if spec is None:
        raise ValueError(
            f"Unknown encoding {encoding_name!r}. Plugins found: {list(ENCODINGS)}. For a "
            "vocabulary of your own use Tokenizer.from_tiktoken_file, Tokenizer.from_files or "
            "fastbpe.load"
        )
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    key = (encoding_name, os.fspath(path) if path is not None else "")
    with _lock:
        enc = _cache.get(key)
        if enc is None:
            if path is not None:
                files = _from_path(spec, Path(os.fspath(path)))
            else:
                files = _from_cache_or_download(spec)
            enc = _build(spec, files)
            _cache[key] = enc
        return enc


def name_for_pinned_file(path: StrPath) -> str | None:
    """The encoding whose pinned file `path` is (by SHA-256; "gpt2" for r50k_base.tiktoken), or
    None. Files over 64 MB are no tokenizer file of tiktoken's and are not hashed."""
    p = Path(os.fspath(path))
    if not p.is_file() or p.stat().st_size > 64 << 20:
        return None
    got = _sha256(p.read_bytes())
    for spec in ENCODINGS.values():
        for group in spec.sources:
            if len(group) == 1 and group[0].sha256 == got:
                return spec.name
    return None
