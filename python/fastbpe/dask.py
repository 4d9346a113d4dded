"""Train and encode on a Dask cluster (needs ``pip install "dask[distributed]"``).

>>> from dask.distributed import Client
>>> import fastbpe.dask
>>> client = Client("tcp://scheduler:8786")                     # or None: a LocalCluster
>>> tok = fastbpe.dask.train(paths, 32_000, ["<|endoftext|>"], client=client)
>>> manifest = fastbpe.dask.encode_files(tok, paths, "tokens/", client=client, format="megatron")

`train`: the files are cut into byte ranges at safe points (`fastbpe.shards`: never inside a
character, a special token or a whitespace run), each range is counted by a task on a worker, the
counts are added up in a tree of tasks on the workers (`split_every` at a time), and only the
merged counts travel to the client, which runs the merge loop. The result is exactly
`fastbpe.train(paths, ...)` (same merges, same ids), whatever the shard size or cluster.

`encode_files`: one task per shard writes one token file (any `fastbpe.token_formats` format)
into a staging folder inside `out_dir`; when every shard is done the client moves them into
`out_dir` and writes ``manifest.json`` last, listing the shards in order. The shards, concatenated
in manifest order, equal `encode_file(tokenizer, paths, ...)` on one machine.

Workers need only the input paths (the same paths on every worker: a shared file system);
the tokenizer travels pickled (`Tokenizer` pickles whole). Tasks are deterministic and write
under temporary names, so Dask may rerun any of them (a worker that dies is replaced and its tasks
rerun: the result is unchanged). Progress is one line on the client's stderr. With
``client=None`` a `distributed.LocalCluster` with one single-threaded worker process per core is
started for the call and shut down after it.

Failures are one clear exception and leave no partial output: a missing input (on the worker
that plans; every worker must see the same files), invalid UTF-8 (file and byte offset), a worker that
keeps dying on a shard (usually its memory limit: Dask's nanny restarts a worker past 95% of
``memory_limit``, and after ``distributed.scheduler.allowed-failures`` deaths the task fails; the
error names the shard and suggests smaller ``shard_bytes``), and an ``out_dir`` that already holds
a different manifest.

Performance notes (benches/bench_dask.py, docs/cluster.md "Numbers"):
- One thread per task: Dask already runs one task per worker thread, and a Rust pool per task
  on top would oversubscribe the cores.
- What crosses the network is small: a shard is a path and byte ranges (~175 bytes); counts
  pickle as the counts file (front-coded, ~0.9 MB per 16 MiB of English); the tokenizer once per
  worker. The text is read by the workers from the shared file system.
- The reduce tree adds `split_every` (8) counts per task: the client receives one merged result
  instead of one per shard, and merging runs in parallel on the workers.
- 64 MiB shards: large enough that per-task overhead (scheduling, a window read to plan it) is
  noise, small enough that a rerun after a worker death repeats little and a 16-core machine gets
  work from a 1 GB corpus.
- A shard's whole files go to the Rust file counter; parts of files go through Python blocks of
  text (`fastbpe.shards.iter_texts`), ~35 MB/s per thread against ~56 MB/s for the file counter:
  the decode to str and back is the difference (a bytes path into the Rust counter would remove
  it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import shutil
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Union

from . import shards as _shards
from .token_formats import FORMATS, format_paths

if TYPE_CHECKING:
    from .tokenizer import Tokenizer
    from .training import WordCounts

StrPath = Union[str, "os.PathLike[str]"]

__all__ = ["MANIFEST", "count", "encode_files", "manifest_paths", "train"]

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
DEFAULT_SHARD_BYTES = 64 << 20


def _register_sizeof() -> None:
    """Dask sizes results with `dask.sizeof` (memory limits, spilling, transfer accounting); by
    default a WordCounts would count as ~100 bytes. Runs on import, on the client and on every
    worker (they import this module to run its tasks)."""
    try:
        from dask.sizeof import sizeof
    except ImportError:  # pragma: no cover (fastbpe.dask is only useful with dask)
        return
    from .training import WordCounts

    sizeof.register(WordCounts)(lambda counts: counts.nbytes)


_register_sizeof()

# ----------------------------------------------------------------------------- tasks (workers)


def _plan_task(
    paths: list[str],
    shard_bytes: int,
    pattern: str | None,
    specials: list[str],
    doc_token: str | None,
) -> list[_shards.Shard]:
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(
                2,
                f"{p}: no such file on the Dask worker {_worker_name()} (every worker reads the "
                "inputs by the same path: use a shared file system)",
                p,
            )
    return _shards.plan(
        paths,
        shard_bytes=shard_bytes,
        pattern=pattern,
        special_tokens=specials,
        doc_token=doc_token,
    )


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "(not on a worker)"


def _count_task(
    shard: _shards.Shard, specials: list[str], pattern: str | None, errors: str
) -> WordCounts:
    # One thread per task: Dask runs one task per worker thread already.
    return _shards.count_shard(shard, specials, pattern=pattern, errors=errors, threads=1)


def _merge_task(*parts: WordCounts) -> WordCounts:
    from .counts import merge_counts

    return merge_counts((f"part {i}", p) for i, p in enumerate(parts))


def _identity(x: Any) -> Any:
    return x


def _encode_task(
    tok: Tokenizer, shard: _shards.Shard, output: str, options: dict[str, Any]
) -> dict[str, Any]:
    r = _shards.encode_shard(tok, shard, output, threads=1, **options)
    return {"tokens": r.tokens, "bytes": r.bytes}


# ----------------------------------------------------------------------------- the client side


@contextlib.contextmanager
def _client(client: Any) -> Iterator[Any]:
    """`client`, or a LocalCluster (one single-threaded worker process per core) for the call."""
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    n = os.cpu_count() or 1
    with (
        LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


class _Progress:
    """One line on stderr: shards done, bytes, rate (redrawn in place on a terminal)."""

    def __init__(self, what: str, total_shards: int, total_bytes: int, show: bool) -> None:
        self.what, self.n, self.total, self.show = what, total_shards, total_bytes, show
        self.done = self.bytes = 0
        self.start = time.perf_counter()
        self.tty = sys.stderr.isatty()

    def update(self, nbytes: int) -> None:
        self.done += 1
        self.bytes += nbytes
        if not self.show:
            return
        secs = max(time.perf_counter() - self.start, 1e-9)
        line = (
            f"fastbpe.dask: {self.what} {self.done}/{self.n} shards, "
            f"{self.bytes / 1e6:,.1f}/{self.total / 1e6:,.1f} MB ({self.bytes / 1e6 / secs:.1f} MB/s)"
        )
        if self.tty:
            print("\r" + line, end="\n" if self.done == self.n else "", file=sys.stderr, flush=True)
        elif self.done == self.n or self.done % max(1, self.n // 10) == 0:
            print(line, file=sys.stderr, flush=True)


def _explain(e: BaseException, what: dict[str, str]) -> BaseException:
    """A clearer exception for a failed task: a worker that kept dying names the shard."""
    try:
        from distributed import KilledWorker
    except ImportError:  # pragma: no cover
        return e
    if isinstance(e, KilledWorker):
        key = str(e.task) if hasattr(e, "task") else str(e)
        shard = next((v for k, v in what.items() if k in key), key)
        return RuntimeError(
            f"fastbpe.dask: the worker running {shard} died again and again (Dask gave up after "
            "distributed.scheduler.allowed-failures tries). A worker usually dies when it passes "
            "its memory limit (the nanny kills it at 95% of memory_limit): use a smaller "
            "shard_bytes or give the workers more memory"
        )
    return e


def _wait(
    client: Any,
    futures: list[Any],
    sizes: dict[str, int],
    progress: _Progress,
    names: dict[str, str],
) -> None:
    """Waits for `futures`, showing progress; on the first failure cancels the rest and raises."""
    from distributed import as_completed

    try:
        for fut in as_completed(futures, raise_errors=False):
            if fut.status == "error":
                exc = fut.exception()
                raise _explain(exc, names) from None
            progress.update(sizes.get(fut.key, 0))
    except BaseException:
        client.cancel(futures)
        raise


def _specials(special_tokens: Sequence[str]) -> list[str]:
    from .training import _check_specials

    return _check_specials(special_tokens)


def _plan(
    client: Any,
    paths: Sequence[StrPath],
    shard_bytes: int,
    pattern: str | None,
    specials: list[str],
    tag: str,
    doc_token: str | None = None,
) -> list[_shards.Shard]:
    if not isinstance(shard_bytes, int) or isinstance(shard_bytes, bool) or shard_bytes < 1:
        raise ValueError(f"shard_bytes must be a positive int, got {shard_bytes!r}")
    files = [os.fspath(p) for p in paths]
    if not files:
        raise ValueError("no input paths")
    fut = client.submit(
        _plan_task, files, shard_bytes, pattern, specials, doc_token, key=f"fastbpe-plan-{tag}"
    )
    return fut.result()  # type: ignore[no-any-return]


def _shard_name(shard: _shards.Shard) -> str:
    files = sorted({os.path.basename(p.path) for p in shard.pieces})
    where = ", ".join(files[:3]) + (", ..." if len(files) > 3 else "")
    return f"shard {shard.index} of {shard.count} ({shard.nbytes:,} bytes of {where or 'nothing'})"


def count(
    paths: Sequence[StrPath],
    special_tokens: Sequence[str] = (),
    *,
    client: Any = None,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
    pattern: str | None = None,
    errors: str = "strict",
    split_every: int = 8,
    progress: bool = True,
) -> WordCounts:
    """The counting step of `train` alone: the shards are counted and the counts added up in a
    tree on the workers; returns the merged counts (equal to `fastbpe.count_words(paths, ...)`;
    save them with ``.save(path)`` for ``fastbpe train --from-counts``)."""
    specials = _specials(special_tokens)
    if not isinstance(split_every, int) or isinstance(split_every, bool) or split_every < 2:
        raise ValueError(f"split_every must be an int >= 2, got {split_every!r}")
    tag = uuid.uuid4().hex[:10]
    with _client(client) as cl:
        plan = _plan(cl, paths, shard_bytes, pattern, specials, tag)
        names, sizes = {}, {}
        level = []
        for s in plan:
            key = f"fastbpe-count-{tag}-{s.index}"
            names[key], sizes[key] = _shard_name(s), s.nbytes
            level.append(cl.submit(_count_task, s, specials, pattern, errors, key=key))
        counting = list(level)
        depth = 0
        while len(level) > 1:  # the reduce tree, on the workers
            depth += 1
            level = [
                cl.submit(
                    _merge_task, *level[i : i + split_every], key=f"fastbpe-merge-{tag}-{depth}-{i}"
                )
                for i in range(0, len(level), split_every)
            ]
        total = sum(s.nbytes for s in plan)
        _wait(cl, counting, sizes, _Progress("counted", len(plan), total, progress), names)
        try:
            return level[0].result()  # type: ignore[no-any-return]
        except BaseException as e:
            cl.cancel(level)
            raise _explain(e, names) from None


def train(
    paths: Sequence[StrPath],
    vocab_size: int,
    special_tokens: Sequence[str] = (),
    *,
    client: Any = None,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
    pattern: str | None = None,
    min_frequency: int = 0,
    errors: str = "strict",
    split_every: int = 8,
    progress: bool = True,
) -> Tokenizer:
    """Trains on `paths` with the counting on a Dask cluster (`count`) and the merge loop here:
    exactly `fastbpe.train(paths, vocab_size, special_tokens, pattern=pattern)` (see the module
    docstring)."""
    from .counts import tokenizer_from_counts
    from .training import _check_vocab_fits, _check_vocab_size

    specials = _specials(special_tokens)
    _check_vocab_fits(_check_vocab_size(vocab_size), specials)  # before any work
    counts = count(
        paths,
        specials,
        client=client,
        shard_bytes=shard_bytes,
        pattern=pattern,
        errors=errors,
        split_every=split_every,
        progress=progress,
    )
    return tokenizer_from_counts(counts, vocab_size, specials, min_frequency=min_frequency)


# ----------------------------------------------------------------------------- encoding


def _fingerprint(tok: Tokenizer) -> str:
    return hashlib.sha256(pickle.dumps(tok, protocol=4)).hexdigest()


def manifest_paths(manifest: StrPath) -> list[str]:
    """The shards' data files listed by a manifest, in order (absolute paths); concatenated they
    are the whole output (`fastbpe.load_tokens` reads each)."""
    m = os.fspath(manifest)
    with open(m, encoding="utf-8") as f:
        data = json.load(f)
    if data.get("fastbpe_manifest") != MANIFEST_VERSION:
        raise ValueError(f"{m}: not a fastbpe.dask manifest (version {MANIFEST_VERSION})")
    base = os.path.dirname(os.path.abspath(m))
    return [os.path.join(base, s["files"][0]) for s in data["shards"]]


def encode_files(
    tokenizer: Tokenizer,
    paths: Sequence[StrPath],
    out_dir: StrPath,
    *,
    client: Any = None,
    format: str = "npy",
    shard_bytes: int = DEFAULT_SHARD_BYTES,
    allowed_special: Any = "all",
    separator: str | int | None = None,
    dtype: Any = None,
    errors: str = "strict",
    progress: bool = True,
) -> str:
    """Encodes `paths` on a Dask cluster into one token file per shard in `out_dir`, plus
    ``manifest.json`` (written last); returns the manifest's path. See the module docstring."""
    import numpy as np

    from .token_files import _dtype_name, _resolve_allowed, _resolve_separator

    if format not in FORMATS:
        raise ValueError(f"unknown token format {format!r}; choose one of {', '.join(FORMATS)}")
    out = os.path.abspath(os.fspath(out_dir))
    files = [os.path.abspath(os.fspath(p)) for p in paths]
    allowed = _resolve_allowed(tokenizer, allowed_special)
    recognized = sorted(tokenizer.special_tokens) if allowed is None else allowed
    _resolve_separator(tokenizer, separator)  # a bad separator fails before any work
    dt = _dtype_name(dtype) if dtype is not None else np.dtype(tokenizer.numpy_dtype).name
    spec = {
        "tokenizer_sha256": _fingerprint(tokenizer),
        "inputs": files,
        "format": format,
        "dtype": dt,
        "shard_bytes": shard_bytes,
        "allowed_special": "all" if allowed is None else allowed,
        "separator": separator,
        "errors": errors,
    }
    manifest = os.path.join(out, MANIFEST)
    if os.path.exists(manifest):
        try:
            with open(manifest, encoding="utf-8") as f:
                old = json.load(f).get("spec")
        except (OSError, ValueError):
            old = None
        if old != spec:
            raise FileExistsError(
                17,
                f"{out} already holds a different fastbpe.dask manifest (other inputs, tokenizer "
                "or options); write to another out_dir or delete it",
                manifest,
            )
    os.makedirs(out, exist_ok=True)
    tag = uuid.uuid4().hex[:10]
    staging = os.path.join(out, f".fastbpe-staging-{tag}")
    os.makedirs(staging)
    options = {
        "format": format,
        "dtype": dt,
        "allowed_special": "all" if allowed is None else allowed,
        "separator": separator,
        "errors": errors,
    }
    moved: list[str] = []
    try:
        with _client(client) as cl:
            doc = _shards.doc_token_text(tokenizer, separator, recognized)
            plan = _plan(cl, files, shard_bytes, tokenizer.pattern, recognized, tag, doc)
            # A task, not scattered data: if every worker holding it dies, Dask recomputes it
            # from the task's arguments (lost scattered data cannot be rebuilt). Workers fetch
            # it from each other, so it crosses the client's link once.
            tok_f = cl.submit(_identity, tokenizer, key=f"fastbpe-tokenizer-{tag}")
            names, sizes, futures = {}, {}, []
            ext = ".npy" if format == "npy" else ".bin"
            for s in plan:
                key = f"fastbpe-encode-{tag}-{s.index}"
                names[key], sizes[key] = _shard_name(s), s.nbytes
                target = os.path.join(
                    staging, f"shard-{s.index:05d}" + ("" if format == "megatron" else ext)
                )
                futures.append(cl.submit(_encode_task, tok_f, s, target, options, key=key))
            _wait(
                cl,
                futures,
                sizes,
                _Progress("encoded", len(plan), sum(sizes.values()), progress),
                names,
            )
            results = cl.gather(futures)
        if os.path.exists(manifest):  # the same spec: replaced; never left pointing at a mix
            os.unlink(manifest)
        entries = []
        for s, r in zip(plan, results):
            base = f"shard-{s.index:05d}" + ("" if format == "megatron" else ext)
            produced = format_paths(os.path.join(staging, base), format)
            for p in produced:
                final = os.path.join(out, os.path.basename(p))
                os.replace(p, final)
                moved.append(final)
            entries.append(
                {
                    "index": s.index,
                    "files": [os.path.basename(p) for p in produced],
                    "tokens": r["tokens"],
                    "bytes": r["bytes"],
                    "pieces": [[p.file_index, p.start, p.end] for p in s.pieces],
                }
            )
        body = {
            "fastbpe_manifest": MANIFEST_VERSION,
            "spec": spec,
            "tokens": sum(e["tokens"] for e in entries),
            "shards": entries,
        }
        from . import _fastbpe

        _fastbpe.write_file_atomic(manifest, (json.dumps(body, indent=1) + "\n").encode())
    except BaseException:
        for p in moved:
            with contextlib.suppress(OSError):
                os.unlink(p)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
