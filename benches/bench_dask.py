"""Counting on a Dask cluster vs in-process counting: the overhead, the bytes shipped per worker,
and the counts file's size against the corpus's.

    python benches/bench_dask.py                                  # /tmp/corpora/english_100M.txt
    python benches/bench_dask.py --input big.txt --workers 2 --shard-mb 16

Without --input it uses /tmp/corpora/english_100M.txt when present, else it concatenates the
Python standard library's .py files up to --mb MB into a temporary file. The counts are checked
equal before anything is reported. Rows:

* in-process: `fastbpe.count_words(path)` on all cores (`threads=None`) and on one;
* LocalCluster start: starting `--workers` single-threaded worker processes (paid once per
  cluster, not per job);
* fastbpe.dask.count: planning, counting the shards, the reduce tree, gathering the result;
* bytes shipped: what went over the network: task arguments (the pickled shard descriptions:
  paths and byte ranges, never text) and each worker's outgoing transfers (counts sent to
  another worker for the reduce, or to the client), from Dask's own counters.
"""

from __future__ import annotations

import argparse
import glob
import os
import pickle
import sys
import sysconfig
import tempfile
import time

import fastbpe
import fastbpe.dask as fdask
from fastbpe import shards

EOT = "<|endoftext|>"


def stdlib_corpus(mb: int) -> str:
    out = os.path.join(tempfile.gettempdir(), f"fastbpe-bench-stdlib-{mb}MB.txt")
    if os.path.exists(out) and os.path.getsize(out) >= mb * 10**6:
        return out
    files = sorted(
        glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "**", "*.py"), recursive=True)
    )
    with open(out, "wb") as f:
        written = 0
        while written < mb * 10**6:
            for p in files:
                data = open(p, "rb").read()
                f.write(data)
                written += len(data)
                if written >= mb * 10**6:
                    break
    return out


def _pickled_counts(shard: shards.Shard) -> int:
    return len(pickle.dumps(shards.count_shard(shard, [EOT], threads=1)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", help="a UTF-8 text file (default: see the module docstring)")
    ap.add_argument("--mb", type=int, default=100, help="size of the stdlib corpus, MB")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--shard-mb", type=int, default=16)
    args = ap.parse_args()
    path = args.input or (
        "/tmp/corpora/english_100M.txt"
        if os.path.exists("/tmp/corpora/english_100M.txt")
        else stdlib_corpus(args.mb)
    )
    size = os.path.getsize(path)
    print(
        f"corpus: {path} ({size / 1e6:.1f} MB); {os.cpu_count()} cores; fastbpe {fastbpe.__version__}"
    )

    rows: list[tuple[str, str]] = []
    t = time.perf_counter()
    local = fastbpe.count_words(path, [EOT])
    t_all = time.perf_counter() - t
    t = time.perf_counter()
    fastbpe.count_words(path, [EOT], threads=1)
    t_one = time.perf_counter() - t
    rows += [
        ("in-process count_words, all cores", f"{t_all:.2f} s ({size / 1e6 / t_all:.1f} MB/s)"),
        ("in-process count_words, 1 thread", f"{t_one:.2f} s ({size / 1e6 / t_one:.1f} MB/s)"),
    ]

    from distributed import Client, LocalCluster

    t = time.perf_counter()
    with (
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        t_start = time.perf_counter() - t
        t = time.perf_counter()
        client.run(lambda: __import__("fastbpe.dask"))  # what a worker's first task pays once
        t_import = time.perf_counter() - t
        shard_bytes = args.shard_mb << 20
        t = time.perf_counter()
        counts = fdask.count([path], [EOT], client=client, shard_bytes=shard_bytes, progress=False)
        t_dask = time.perf_counter() - t
        sent = client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total)
        plan = shards.plan([path], shard_bytes=shard_bytes, special_tokens=[EOT])
        # What a shard's counts weigh on the wire (they pickle as the counts file's bytes).
        wire = client.gather(client.map(_pickled_counts, plan, pure=False))
    if counts.items() != local.items():
        print("ERROR: Dask counts differ from in-process counts", file=sys.stderr)
        return 1
    spec_bytes = sum(len(pickle.dumps(s)) for s in plan)
    with tempfile.TemporaryDirectory() as d:
        counts.save(os.path.join(d, "all.counts"))
        counts_size = os.path.getsize(os.path.join(d, "all.counts"))
    per_worker = ", ".join(f"{b / 1e6:.2f} MB" for b in sent.values())
    rows += [
        (f"LocalCluster start ({args.workers} worker processes)", f"{t_start:.2f} s"),
        ("importing fastbpe on the workers (once per cluster)", f"{t_import:.2f} s"),
        (
            f"fastbpe.dask.count, {args.workers} workers, {len(plan)} shards of {args.shard_mb} MiB",
            f"{t_dask:.2f} s ({size / 1e6 / t_dask:.1f} MB/s; {t_dask / t_all:.2f}x in-process all cores)",
        ),
        (
            "task arguments sent (all shards)",
            f"{spec_bytes:,} bytes ({spec_bytes // len(plan)} per shard)",
        ),
        (
            "counts of one shard, pickled (what a worker ships)",
            f"{sum(wire) / len(wire) / 1e6:.2f} MB on average, {sum(wire) / 1e6:.2f} MB for all shards",
        ),
        ("worker-to-worker transfers per worker (Dask's counter, in-memory sizes)", per_worker),
        (
            "counts file",
            f"{counts_size / 1e6:.2f} MB for {size / 1e6:.0f} MB of text ({100 * counts_size / size:.2f}%), "
            f"{len(counts):,} distinct pre-tokens ({counts_size / len(counts):.1f} bytes each)",
        ),
    ]
    print("\n| measure | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
