"""Shared fixtures: GPT-2's vocabulary files, the fastbpe and tiktoken encodings, the varied text.

GPT-2's three files (`encoder.json`, `vocab.bpe`, `r50k_base.tiktoken`) are found, in this order:

1. `$TIKTOKEN_CACHE_DIR`, where tiktoken keeps them (named by the SHA-1 of their URL);
2. `../shared/gpt2` beside the project (developers' machines and CI);
3. `~/.cache/fastbpe-test/gpt2` (what an earlier run of the tests fetched);
4. PyPI: `r50k_base.tiktoken` ships byte for byte as `whisper/assets/gpt2.tiktoken` in the
   `openai-whisper` source distribution, fetched with `pip download`; `encoder.json`/`vocab.bpe`
   are then derived from its ranks (they are the same vocabulary; the derivation reproduces
   the originals exactly, which their pinned SHA-256 checks).

Every file is checked against the SHA-256 that tiktoken pins. A tiktoken cache is then seeded
with all three, and `TIKTOKEN_CACHE_DIR` points at it, so `tiktoken.get_encoding("gpt2")`, the
oracle, and `fastbpe.get_encoding("gpt2")` both load offline. Nothing here skips: when the files
cannot be found the tests that need them fail with a message that says how to provide them.
For users: docs/install.md, "What the tests download, and where they put it".
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # corpus_gen, importable from every test module

import corpus_gen  # noqa: E402

# name -> (tiktoken's URL, tiktoken's pinned SHA-256)
GPT2_FILES = {
    "encoder.json": (
        "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
        "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    ),
    "vocab.bpe": (
        "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
        "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
    ),
    "r50k_base.tiktoken": (
        "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken",
        "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
    ),
}
WHISPER_SDIST = "openai-whisper==20250625"
WHISPER_MEMBER = "whisper/assets/gpt2.tiktoken"

SHARED_GPT2 = HERE.parent.parent / "shared" / "gpt2"


def test_cache_root() -> Path:
    base = os.environ.get("FASTBPE_TEST_CACHE")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "fastbpe-test"


test_cache_root.__test__ = False  # not a test


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _good(path: Path, name: str) -> bool:
    return path.is_file() and _sha256(path) == GPT2_FILES[name][1]


def _sha1(url: str) -> str:
    return hashlib.sha1(url.encode()).hexdigest()


# ----------------------------------------------------------------------------- PyPI route


def _fetch_r50k_from_pypi(dest: Path) -> None:
    """`pip download` the openai-whisper sdist and extract its copy of r50k_base.tiktoken."""
    with tempfile.TemporaryDirectory(prefix="fastbpe-whisper-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        cmd += [WHISPER_SDIST, "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
        sdists = list(Path(tmp).glob("*.tar.gz"))
        if not sdists:
            raise RuntimeError(f"pip download left no .tar.gz in {tmp}")
        with tarfile.open(sdists[0]) as tar:
            member = next((m for m in tar.getmembers() if m.name.endswith(WHISPER_MEMBER)), None)
            if member is None:
                raise RuntimeError(f"{sdists[0].name} has no {WHISPER_MEMBER}")
            f = tar.extractfile(member)
            assert f is not None
            data = f.read()
    if hashlib.sha256(data).hexdigest() != GPT2_FILES["r50k_base.tiktoken"][1]:
        raise RuntimeError(
            f"{WHISPER_MEMBER} from {WHISPER_SDIST} does not have the pinned SHA-256"
        )
    _write_atomic(dest, data)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable-character mapping of bytes (encoder.py's `bytes_to_unicode`)."""
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


def read_tiktoken_ranks(path: Path) -> dict[bytes, int]:
    ranks = {}
    for line in path.read_bytes().splitlines():
        if line:
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def gpt2_ranks_under(gpt2_files: dict[str, Path], pattern: str, name: str):
    """(fastbpe Tokenizer, tiktoken Encoding) with GPT-2's ranks and <|endoftext|> under
    `pattern`: offline parity for another encoding's pre-tokenizer (ids depend on every piece
    boundary, so equal ids mean equal pieces)."""
    import fastbpe
    import tiktoken

    ranks = read_tiktoken_ranks(gpt2_files["r50k_base.tiktoken"])
    specials = {"<|endoftext|>": 50256}
    tik = tiktoken.Encoding(
        name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=specials
    )
    fast = fastbpe.Tokenizer.from_ranks(ranks, specials, pattern=pattern)
    return fast, tik


def derive_data_gym_files(ranks: dict[bytes, int]) -> tuple[bytes, bytes]:
    """encoder.json and vocab.bpe from ranks: each merge is where BPE on the token's bytes, using
    only lower-ranked tokens, stops at two parts."""
    m = bytes_to_unicode()
    by_rank = sorted(ranks.items(), key=lambda kv: kv[1])

    def split(tok: bytes, rank: int) -> tuple[bytes, bytes]:
        parts = [tok[i : i + 1] for i in range(len(tok))]
        while len(parts) > 2:
            best = None
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1])
                if r is not None and r < rank and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                break
            i = best[1]
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
        if len(parts) != 2:
            raise RuntimeError(f"token {tok!r} is not reachable by merging two lower-ranked tokens")
        return parts[0], parts[1]

    lines = ["#version: 0.2"]
    for tok, rank in by_rank:
        if len(tok) >= 2:
            a, b = split(tok, rank)
            lines.append("".join(m[x] for x in a) + " " + "".join(m[x] for x in b))
    vocab_bpe = ("\n".join(lines) + "\n").encode()
    encoder = {"".join(m[x] for x in tok): rank for tok, rank in by_rank}
    encoder["<|endoftext|>"] = len(by_rank)
    return json.dumps(encoder).encode(), vocab_bpe


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- locating


def locate_gpt2_files() -> dict[str, Path]:
    """name -> verified path of all three files, fetched/derived into the test cache if needed."""
    found: dict[str, Path] = {}
    candidates: list[Path] = []
    cache_env = os.environ.get("TIKTOKEN_CACHE_DIR")
    for name, (url, _) in GPT2_FILES.items():
        paths = []
        if cache_env:
            paths.append(Path(cache_env) / _sha1(url))
        paths += [SHARED_GPT2 / name, test_cache_root() / "gpt2" / name]
        candidates += paths
        for p in paths:
            if _good(p, name):
                found[name] = p
                break
    own = test_cache_root() / "gpt2"
    if "r50k_base.tiktoken" not in found:
        dest = own / "r50k_base.tiktoken"
        try:
            # Not quietly: say what is fetched and where it is kept (docs/install.md).
            print(
                f"fastbpe tests: GPT-2's vocabulary not found; fetching the {WHISPER_SDIST} sdist "
                f"with pip download (about 0.8 MB) for its {WHISPER_MEMBER}, kept in {own}",
                file=sys.stderr,
            )
            _fetch_r50k_from_pypi(dest)
        except Exception as e:
            raise RuntimeError(
                "GPT-2's vocabulary files were not found (looked at "
                + ", ".join(str(c) for c in candidates)
                + f") and fetching them from PyPI failed: {e}\n"
                "Provide them: export TIKTOKEN_CACHE_DIR to a cache where tiktoken has "
                "loaded 'gpt2' and 'r50k_base', or put ../shared/gpt2 beside the project, or "
                f"put encoder.json, vocab.bpe and r50k_base.tiktoken in {own} (docs/install.md)."
            ) from e
        found["r50k_base.tiktoken"] = dest
    if "encoder.json" not in found or "vocab.bpe" not in found:
        ranks = read_tiktoken_ranks(found["r50k_base.tiktoken"])
        encoder_json, vocab_bpe = derive_data_gym_files(ranks)
        for name, data in (("encoder.json", encoder_json), ("vocab.bpe", vocab_bpe)):
            if hashlib.sha256(data).hexdigest() != GPT2_FILES[name][1]:
                raise RuntimeError(f"{name} derived from r50k_base.tiktoken differs from GPT-2's")
            if name not in found:
                _write_atomic(own / name, data)
                found[name] = own / name
    return found


def seed_tiktoken_cache(files: dict[str, Path]) -> Path:
    """A tiktoken cache dir that holds all three files (the user's, when it already does)."""
    cache_env = os.environ.get("TIKTOKEN_CACHE_DIR")
    if cache_env and all(
        _good(Path(cache_env) / _sha1(url), name) for name, (url, _) in GPT2_FILES.items()
    ):
        return Path(cache_env)
    cache = test_cache_root() / "tiktoken-cache"
    for name, (url, _) in GPT2_FILES.items():
        dest = cache / _sha1(url)
        if not _good(dest, name):
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
            shutil.copyfile(files[name], tmp)
            os.replace(tmp, dest)
    return cache


# ----------------------------------------------------------------------------- other encodings


def other_encoding_files(r50k: Path) -> dict[str, bytes]:
    """tiktoken's p50k/cl100k/o200k files, made without a download where that is exact: p50k_base
    is r50k_base plus 24 runs of spaces (2..25 of them, ranks 50257..50280); cl100k_base and
    o200k_base ship gzipped, byte for byte, in the `bpe-openai` wheel (test extra). Each is
    returned only when it has tiktoken's pinned SHA-256; the tests of the real files are reported
    as skipped when one is missing."""
    import gzip

    from fastbpe import registry

    made: dict[str, bytes] = {}
    extra = b"".join(
        base64.b64encode(b" " * n) + b" " + str(50257 + n - 2).encode() + b"\n"
        for n in range(2, 26)
    )
    made[registry.P50K_FILE.url] = r50k.read_bytes() + extra
    import importlib.util

    spec = importlib.util.find_spec("bpe_openai")  # its data files, without importing it
    for where in (spec.submodule_search_locations or []) if spec else []:
        for f in (registry.CL100K_FILE, registry.O200K_FILE):
            gz = Path(where) / "data" / f"{f.name}.gz"
            if gz.is_file():
                made[f.url] = gzip.decompress(gz.read_bytes())
    pinned = {
        f.url: f.sha256 for f in (registry.P50K_FILE, registry.CL100K_FILE, registry.O200K_FILE)
    }
    return {url: d for url, d in made.items() if hashlib.sha256(d).hexdigest() == pinned[url]}


def seed_other_encodings(cache: Path, r50k: Path) -> None:
    """Puts the files `other_encoding_files` can make into the tests' own tiktoken cache (never
    into a user's cache)."""
    if cache != test_cache_root() / "tiktoken-cache":
        return
    for url, data in other_encoding_files(r50k).items():
        dest = cache / _sha1(url)
        if not (dest.is_file() and dest.stat().st_size == len(data)):
            _write_atomic(dest, data)


_located: dict[str, Path] | None = None
_locate_error: BaseException | None = None


def gpt2_files_or_raise() -> dict[str, Path]:
    global _located, _locate_error
    if _located is None and _locate_error is None:
        try:
            files = locate_gpt2_files()
            cache = seed_tiktoken_cache(files)
            seed_other_encodings(cache, files["r50k_base.tiktoken"])
            os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
            _located = files
        except BaseException as e:  # remembered, so every test that needs the files fails
            _locate_error = e
    if _locate_error is not None:
        raise RuntimeError(f"GPT-2 files unavailable: {_locate_error}") from _locate_error
    assert _located is not None
    return _located


def pytest_configure(config: pytest.Config) -> None:
    # Locate early, before any test imports tiktoken's cache settings; errors surface in fixtures.
    try:
        gpt2_files_or_raise()
    except RuntimeError:
        pass


def pytest_report_header(config: pytest.Config) -> str:
    """Where GPT-2's files came from, in pytest's header (nothing is fetched silently)."""
    if _located is None:
        return f"GPT-2 vocabulary: not available ({_locate_error})"
    where = sorted({str(p.parent) for p in _located.values()})
    return f"GPT-2 vocabulary: {', '.join(where)}; TIKTOKEN_CACHE_DIR={os.environ['TIKTOKEN_CACHE_DIR']}"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def gpt2_files() -> dict[str, Path]:
    """name ('encoder.json', 'vocab.bpe', 'r50k_base.tiktoken') -> verified path."""
    return gpt2_files_or_raise()


@pytest.fixture(scope="session")
def gpt2_fastbpe(gpt2_files):
    import fastbpe

    return fastbpe.get_encoding("gpt2")


@pytest.fixture(scope="session")
def gpt2_tiktoken(gpt2_files):
    import tiktoken

    return tiktoken.get_encoding("gpt2")


@pytest.fixture(scope="session")
def varied_text() -> str:
    """About 4 MB of varied text (see corpus_gen), the same on every run."""
    return corpus_gen.varied_text()


# ----------------------------------------------------------------------------- helpers for tests


def shrink(text: str, bad, max_steps: int = 4000) -> str:
    """A small part of `text` for which `bad(part)` still holds (greedy delta debugging), so a
    failure can print a repro string instead of megabytes."""
    if not bad(text):
        return text
    # First a single line or paragraph, when one is bad alone.
    for sep in ("\n\n", "\n"):
        parts = text.split(sep)
        if len(parts) > 1:
            for p in parts:
                if p and bad(p):
                    text = p
                    break
    steps = 0
    chunk = max(1, len(text) // 2)
    while chunk >= 1 and steps < max_steps:
        i = 0
        removed = False
        while i < len(text) and steps < max_steps:
            candidate = text[:i] + text[i + chunk :]
            steps += 1
            if candidate and bad(candidate):
                text = candidate
                removed = True
            else:
                i += chunk
        if not removed:
            chunk //= 2
    return text


def assert_same_ids(text: str, fast_encode, tik_encode, what: str = "ids") -> None:
    """Asserts fast_encode(text) == tik_encode(text); on failure prints a minimal repro."""
    got, want = fast_encode(text), tik_encode(text)
    if list(got) == list(want):
        return

    def bad(t: str) -> bool:
        try:
            return list(fast_encode(t)) != list(tik_encode(t))
        except Exception:
            return True

    small = shrink(text, bad) if len(text) < 5_000_000 else text[:200]
    raise AssertionError(
        f"{what} differ from tiktoken; minimal repro: {small!r}\n"
        f"  fastbpe:  {fast_encode(small)}\n  tiktoken: {tik_encode(small)}"
    )
