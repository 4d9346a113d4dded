"""Byte-range shards of a corpus, cut at safe points: the one shard planner, shared by
``fastbpe count/encode --shard I/N`` (Slurm arrays, torchrun) and `fastbpe.dask`.

>>> shards = plan(["a.txt", "b.txt"], n_shards=4, special_tokens=["<|endoftext|>"])
>>> counts = count_shard(shards[2], ["<|endoftext|>"])          # on process 2 of 4
>>> encode_shard(tok, shards[2], "tokens-2.npy", format="npy")

How shards are cut
------------------
The input files are laid end to end. Shard ``k`` of ``N`` nominally starts at byte
``k * total // N`` (or ``k * shard_bytes``); that position is moved forward to the first *safe
cut* at or after it: a position where the byte stream may be split without changing any
pre-token or id (never inside a UTF-8 character, a special token, or a run of whitespace), as
decided by the extension's ``next_safe_cut`` from a bounded window of bytes around the position
(``fastbpe/_fastbpe`` and ``rust/src/cut``). The end of a file is always a cut. Because the
decision reads only the bytes near the position, never where a scan started, every process
computes the same plan from the same files: N independent processes agree on the boundaries
without talking to each other. With ``n_shards`` a shard may be empty (a long stretch without a
safe cut); with ``shard_bytes`` empty shards are dropped.

Inside a shard the bytes are read in blocks of about `BLOCK` bytes, each again cut at a safe
point, so memory stays bounded whatever the shard size. So counting the shards and merging the
counts gives exactly the counts of the whole corpus, and encoding the shards and concatenating the
ids (in shard order) gives exactly `encode_file` on the whole corpus: a file boundary is a
document boundary in both (with the separator, if any, written before each file but the first).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from . import _fastbpe

if TYPE_CHECKING:
    from .token_files import EncodeFileResult
    from .tokenizer import Tokenizer
    from .training import WordCounts

StrPath = Union[str, "os.PathLike[str]"]

__all__ = [
    "BLOCK",
    "Piece",
    "Shard",
    "count_shard",
    "encode_shard",
    "iter_texts",
    "parse_shard_spec",
    "plan",
]

# Bytes read at a time inside a shard (and the window first tried when looking for a cut).
BLOCK = 4 << 20
_WINDOW = 64 << 10


@dataclass(frozen=True)
class Piece:
    """Bytes ``[start, end)`` of input file number `file_index` (of the planned list)."""

    path: str
    file_index: int
    start: int
    end: int


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count`: consecutive pieces of the input, in input order."""

    index: int
    count: int
    pieces: tuple[Piece, ...]

    @property
    def nbytes(self) -> int:
        return sum(p.end - p.start for p in self.pieces)


def parse_shard_spec(spec: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N), with 0 <= I < N (I counts from 0, as SLURM_ARRAY_TASK_ID and RANK)."""
    try:
        i_s, n_s = spec.split("/")
        i, n = int(i_s), int(n_s)
    except ValueError:
        raise ValueError(f"--shard must look like I/N (e.g. 0/8), got {spec!r}") from None
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"--shard I/N needs 0 <= I < N, got {spec!r} (I counts from 0)")
    return i, n


def cutter(pattern: str | None, special_tokens: Sequence[str]) -> Any:
    """The safe-cut finder for `pattern` (None: GPT-2's) and the recognized `special_tokens`."""
    return _fastbpe.SafeCuts(pattern, list(special_tokens))


def safe_cut(f: Any, size: int, offset: int, cuts: Any) -> int:
    """The first safe cut at or after `offset` in the open file `f` of `size` bytes (`size` when
    there is none before the end). Reads a window around `offset`, doubled until decided; the
    answer does not depend on the window (the cut rule is local), so every process agrees."""
    if offset <= 0:
        return 0
    if offset >= size:
        return size
    back = min(offset, cuts.context)
    window = _WINDOW
    while True:
        lo, hi = offset - back, min(size, offset + window)
        f.seek(lo)
        data = f.read(hi - lo)
        if len(data) != hi - lo:
            raise OSError(f"{f.name}: file changed size while planning shards")
        p = cuts.next_cut(data, back, stream_start=lo == 0, stream_end=hi == size)
        if p is not None:
            return int(lo + p)
        if hi == size:
            return size
        window *= 2


# How far past a target a document end is looked for (at most half a shard).
_DOC_SEARCH = 1 << 20


class _DocEnds:
    """Finds the end of the first occurrence of the document token at or after an offset that is
    a safe cut. It is one when the token's start is a safe cut and no longer special token starts
    there: the matcher then takes exactly this token, and text after a special token is
    pre-tokenized afresh, as at the start of a stream."""

    def __init__(self, token: str, specials: Sequence[str], search: int) -> None:
        self.token = token.encode()
        self.longer = [t.encode() for t in specials if len(t.encode()) > len(self.token)]
        self.search = max(search, 1)

    def after(self, f: Any, size: int, offset: int, cuts: Any) -> int | None:
        back = min(offset, cuts.context)
        lo = offset - back
        hi = min(size, offset + self.search + len(self.token) + cuts.context)
        f.seek(lo)
        data = f.read(hi - lo)
        q = data.find(self.token, back)
        while q != -1 and q - back <= self.search:
            safe = cuts.next_cut(data, q, stream_start=lo == 0, stream_end=hi == size) == q
            if safe and not any(data.startswith(t, q) for t in self.longer):
                return lo + q + len(self.token)
            q = data.find(self.token, q + 1)
        return None


def plan(
    paths: Sequence[StrPath],
    *,
    n_shards: int | None = None,
    shard_bytes: int | None = None,
    pattern: str | None = None,
    special_tokens: Sequence[str] = (),
    doc_token: str | None = None,
) -> list[Shard]:
    """Cuts `paths` (in order) into `n_shards` shards, or shards of about `shard_bytes` bytes,
    at safe points for `pattern` (default GPT-2's) and `special_tokens`. With `doc_token` (one
    of `special_tokens` that ends documents, e.g. ``"<|endoftext|>"``) a boundary is put right
    after the first such token within half a shard of its target, when there is one, so that no
    document is split between shards. Deterministic: the same files give the same plan on every
    machine. Raises FileNotFoundError / IsADirectoryError for a bad path before any work."""
    if (n_shards is None) == (shard_bytes is None):
        raise TypeError("give exactly one of n_shards and shard_bytes")
    if n_shards is not None and (not isinstance(n_shards, int) or n_shards < 1):
        raise ValueError(f"n_shards must be a positive int, got {n_shards!r}")
    if shard_bytes is not None and (not isinstance(shard_bytes, int) or shard_bytes < 1):
        raise ValueError(f"shard_bytes must be a positive int, got {shard_bytes!r}")
    files = [os.fspath(p) for p in paths]
    cuts = cutter(pattern, special_tokens)
    sizes = []
    for p in files:
        if os.path.isdir(p):
            raise IsADirectoryError(21, "is a directory, not a file", p)
        sizes.append(os.stat(p).st_size)  # FileNotFoundError names the path
    total = sum(sizes)
    if n_shards is not None:
        targets = [k * total // n_shards for k in range(1, n_shards)]
        step = total // n_shards
    else:
        assert shard_bytes is not None
        targets = list(range(shard_bytes, total, shard_bytes))
        step = shard_bytes
    if doc_token is not None and doc_token not in special_tokens:
        raise ValueError(f"doc_token {doc_token!r} must be one of the special tokens")
    doc = _DocEnds(doc_token, special_tokens, min(step // 2, _DOC_SEARCH)) if doc_token else None
    # Global boundaries, each the first safe cut at or after its target.
    bounds = [0]
    starts = [0, *itertools.accumulate(sizes)][:-1]
    fi = 0
    handle: Any = None
    try:
        for t in targets:
            while fi < len(files) - 1 and t >= starts[fi] + sizes[fi]:
                fi += 1
            if handle is None or handle.name != files[fi]:
                if handle is not None:
                    handle.close()
                handle = open(files[fi], "rb")  # noqa: SIM115 (kept open across targets)
            off = t - starts[fi]
            at = doc.after(handle, sizes[fi], off, cuts) if doc is not None else None
            cut = starts[fi] + (at if at is not None else safe_cut(handle, sizes[fi], off, cuts))
            bounds.append(max(cut, bounds[-1]))
    finally:
        if handle is not None:
            handle.close()
    bounds.append(total)
    ranges = list(zip(bounds, bounds[1:]))
    if shard_bytes is not None:
        ranges = [r for r in ranges if r[1] > r[0]] or [(0, total)]
    # One sweep over files and shards, both in order (linear in files + shards).
    pieces: list[list[Piece]] = [[] for _ in ranges]
    k = 0
    for i, (s, n) in enumerate(zip(starts, sizes)):
        # The first shard that ends after this file starts (else the last): an empty file goes
        # there (it still counts: its separator), a non-empty one starts there.
        while k < len(ranges) - 1 and ranges[k][1] <= s:
            k += 1
        if n == 0:
            pieces[k].append(Piece(files[i], i, 0, 0))
            continue
        j = k
        while j < len(ranges) and ranges[j][0] < s + n:
            lo, hi = max(ranges[j][0], s), min(ranges[j][1], s + n)
            if lo < hi:
                pieces[j].append(Piece(files[i], i, lo - s, hi - s))
            j += 1
    return [Shard(k, len(ranges), tuple(p)) for k, p in enumerate(pieces)]


def doc_token_text(
    tok: Tokenizer, separator: str | int | None, recognized: Sequence[str]
) -> str | None:
    """The special token (text) that ends documents in `tok`'s output (the separator, else a
    recognized `<|endoftext|>`; see `fastbpe.token_formats`), if it is a recognized special token:
    shard boundaries are then put after it (`plan(doc_token=...)`)."""
    from .token_files import _doc_token, _resolve_separator

    sep = _resolve_separator(tok, separator)
    doc = sep if sep is not None else _doc_token(tok, list(recognized))
    return next((t for t, i in tok.special_tokens.items() if i == doc and t in recognized), None)


def iter_texts(piece: Piece, cuts: Any, *, errors: str = "strict") -> Iterator[str]:
    """The text of `piece`, in blocks of about `BLOCK` bytes cut at safe points (each block can be
    pre-tokenized on its own). Invalid UTF-8 raises ValueError naming the file and the byte
    offset (``errors="replace"``: U+FFFD, the same as replacing in the whole file, since cuts fall
    before ASCII bytes or a special token's first byte)."""
    with open(piece.path, "rb") as f:
        f.seek(piece.start)
        pos, buf = piece.start, b""  # pos: file offset of buf[0], always a safe cut
        while True:
            left = piece.end - pos - len(buf)
            if left > 0:
                more = f.read(min(left, max(BLOCK, len(buf))))
                if not more:
                    raise OSError(f"{piece.path}: file changed size while reading")
                buf += more
                left -= len(more)
            if left == 0:
                if buf:
                    yield _decode(buf, piece.path, pos, errors)
                return
            # Cut in the last quarter, so blocks are 3/4 to 1 BLOCK; None: no cut proved there
            # yet (a long stretch without whitespace): read more and look again.
            cut = cuts.next_cut(buf, len(buf) * 3 // 4 or 1, stream_start=True)
            if cut is None:
                continue
            yield _decode(buf[:cut], piece.path, pos, errors)
            pos, buf = pos + cut, buf[cut:]


def _decode(data: bytes, path: str, offset: int, errors: str) -> str:
    try:
        return data.decode("utf-8", errors="strict" if errors == "strict" else "replace")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: invalid UTF-8 at byte offset {offset + e.start}") from None


def count_shard(
    shard: Shard,
    special_tokens: Sequence[str] = (),
    *,
    pattern: str | None = None,
    errors: str = "strict",
    threads: int | None = None,
) -> WordCounts:
    """The pre-token counts of one shard (merge the shards' counts with ``update``).

    Whole files of the shard go to the Rust file counter (parallel chunks, no Python strings:
    ~1.6x faster per byte); parts of files are read here in blocks (`iter_texts`). Both count a
    file boundary as a document boundary, so the sum is the same either way."""
    from .training import count_words

    specials = list(special_tokens)
    whole = [p for p in shard.pieces if p.start == 0 and p.end > 0 and p.end == _size(p.path)]
    parts = [p for p in shard.pieces if p not in whole]
    cuts = cutter(pattern, special_tokens)
    texts = (t for p in parts for t in iter_texts(p, cuts, errors=errors) if t)
    counts = count_words(texts, specials, pattern=pattern, threads=threads, errors=errors)
    if whole:
        counts.update(
            count_words(
                [p.path for p in whole], specials, pattern=pattern, threads=threads, errors=errors
            )
        )
    return counts


def _size(path: str) -> int:
    return os.stat(path).st_size


def encode_shard(
    tok: Tokenizer,
    shard: Shard,
    output: StrPath,
    *,
    format: str | None = None,
    dtype: Any = None,
    allowed_special: Any = "all",
    separator: str | int | None = None,
    errors: str = "strict",
    threads: int | None = None,
) -> EncodeFileResult:
    """Encodes one shard to `output` (any format of `encode_file`); the shards' outputs, in shard
    order, concatenate to `encode_file` on the whole input with the same arguments."""
    import time

    import numpy as np

    from .token_files import (
        EncodeFileResult,
        _doc_token,
        _dtype_name,
        _resolve_allowed,
        _resolve_separator,
    )
    from .token_formats import write_tokens

    start = time.perf_counter()
    allowed = _resolve_allowed(tok, allowed_special)
    recognized = sorted(tok.special_tokens) if allowed is None else allowed
    sep = _resolve_separator(tok, separator)
    dt = _dtype_name(dtype) if dtype is not None else np.dtype(tok.numpy_dtype).name
    out = os.fspath(output)
    fmt = format
    if fmt is None:
        fmt = "npy" if out.endswith(".npy") else "bin"
        if not out.endswith((".npy", ".bin")):
            raise ValueError(f"{out}: output must end in .npy (NumPy array) or .bin (raw ids)")

    cuts = cutter(tok.pattern, recognized)

    def produce(raw: str) -> int:
        n_in = 0
        with open(raw, "wb") as f:
            batch: list[str] = []
            batch_bytes = 0

            def flush() -> None:
                nonlocal batch, batch_bytes
                if batch:
                    ids, _ = tok.encode_batch_to_numpy(
                        batch,
                        num_threads=threads,
                        allowed_special=set(recognized),
                        disallowed_special=(),
                        dtype=dt,
                    )
                    f.write(ids.astype(np.dtype(dt).newbyteorder("<"), copy=False).tobytes())
                batch, batch_bytes = [], 0

            for p in shard.pieces:
                if sep is not None and p.file_index > 0 and p.start == 0:
                    flush()
                    f.write(np.array([sep], dtype=np.dtype(dt).newbyteorder("<")).tobytes())
                for text in iter_texts(p, cuts, errors=errors):
                    batch.append(text)
                    batch_bytes += len(text)
                    if batch_bytes >= 4 * BLOCK:
                        flush()
                n_in += p.end - p.start
            flush()
        return n_in

    doc = sep if sep is not None else _doc_token(tok, allowed)
    # format=None: the plain file named by the extension, as encode_file writes it (no index).
    written, n_in = write_tokens(out, fmt, dt, doc, produce, index=format is not None)
    return EncodeFileResult(
        path=out,
        tokens=written.tokens,
        bytes=n_in,
        dtype=dt,
        format=fmt,
        files=len({p.file_index for p in shard.pieces}),
        chunks=0,
        seconds=time.perf_counter() - start,
    )
