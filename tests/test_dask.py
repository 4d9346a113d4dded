"""`fastbpe.dask` on a real `distributed.LocalCluster(n_workers=2, processes=True)`: the same merges
as `train_bpe`, the same ids as `encode_file`, and unchanged results when a worker dies mid-task
(Dask reruns it); clear errors and no partial output otherwise."""

from __future__ import annotations

import json
import os
import random
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402
import fastbpe  # noqa: E402
import fastbpe.dask as fdask  # noqa: E402
from fastbpe.token_formats import load_documents, load_tokens  # noqa: E402

EOT = "<|endoftext|>"
# Small memory limit: the out-of-memory test needs a worker to cross it quickly.
MEMORY_LIMIT = 700 * 2**20


@pytest.fixture(scope="module")
def client():
    # One death = one retry (default 3): keeps the "always dies" cases short.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with (
            distributed.LocalCluster(
                n_workers=2,
                processes=True,
                threads_per_worker=1,
                memory_limit=MEMORY_LIMIT,
                dashboard_address=":0",
            ) as cluster,
            distributed.Client(cluster) as c,
        ):
            yield c


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    rng = random.Random(5)
    words = [
        "the",
        " cat",
        "sat",
        " on",
        "\n",
        EOT,
        "é世",
        " mat.",
        "  ",
        "dog",
        "12",
        "\n\n",
        "ran",
    ]
    paths = []
    for k, n in enumerate([30000, 0, 12000, 20000]):
        p = d / f"c{k}.txt"
        p.write_text(
            "".join(rng.choice(words) + rng.choice(["", " "]) for _ in range(n)), encoding="utf-8"
        )
        paths.append(str(p))
    return paths


def test_train_equals_train_bpe(client, corpus):
    tok = fdask.train(corpus, 420, [EOT], client=client, shard_bytes=20_000, progress=False)
    vocab, merges = fastbpe.train_bpe(corpus[0], 420, [EOT])  # one file: train_bpe's signature
    one = fdask.train(corpus[:1], 420, [EOT], client=client, shard_bytes=20_000, progress=False)
    assert (one.vocab, one.merges) == (vocab, merges)
    ref = fastbpe.train(corpus, 420, [EOT])
    assert (tok.vocab, tok.merges) == (ref.vocab, ref.merges)


def test_encode_files_equals_encode_file(client, corpus, tmp_path, capsys):
    enc = fastbpe.get_encoding("gpt2")
    manifest = fdask.encode_files(
        enc, corpus, tmp_path / "out", client=client, shard_bytes=15_000, separator=EOT
    )
    whole = tmp_path / "whole.npy"
    fastbpe.encode_file(enc, corpus, whole, separator=EOT)
    files = fdask.manifest_paths(manifest)
    assert len(files) > 4
    assert np.array_equal(np.concatenate([load_tokens(f) for f in files]), np.load(whole))
    m = json.loads(open(manifest).read())
    assert [s["index"] for s in m["shards"]] == list(range(len(files)))
    assert m["tokens"] == len(np.load(whole))
    assert "fastbpe.dask: encoded" in capsys.readouterr().err  # progress on the client
    assert not [n for n in os.listdir(tmp_path / "out") if n.startswith(".")]  # no staging left
    # Megatron shards: the same ids, and every document boundary of the whole.
    meg = fdask.encode_files(
        enc,
        corpus,
        tmp_path / "meg",
        client=client,
        format="megatron",
        shard_bytes=15_000,
        separator=EOT,
        progress=False,
    )
    prefixes = [f[: -len(".bin")] for f in fdask.manifest_paths(meg)]
    assert np.array_equal(
        np.concatenate([load_tokens(p) for p in prefixes]).astype(np.int64), np.load(whole)
    )
    ends, base = [], 0
    for p in prefixes:
        ends += [base + int(e) for e in load_documents(p)[1:]]
        base += len(load_tokens(p))
    ids = np.load(whole)
    want = [i + 1 for i in np.flatnonzero(ids == enc.eot_token)]
    assert [e for e in ends if e != len(ids)] == [e for e in want if e != len(ids)]


def test_missing_file_on_the_worker(client, corpus, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.txt: no such file on the Dask worker"):
        fdask.train(
            [*corpus, str(tmp_path / "nope.txt")], 300, [EOT], client=client, progress=False
        )


def test_out_dir_with_a_different_manifest(client, corpus, tmp_path):
    enc = fastbpe.get_encoding("gpt2")
    out = tmp_path / "out"
    first = fdask.encode_files(enc, corpus[:1], out, client=client, progress=False)
    before = sorted(os.listdir(out))
    with pytest.raises(FileExistsError, match="different fastbpe.dask manifest"):
        fdask.encode_files(enc, corpus, out, client=client, progress=False)
    assert sorted(os.listdir(out)) == before
    # The same job again replaces it.
    assert fdask.encode_files(enc, corpus[:1], out, client=client, progress=False) == first


def test_bad_arguments_fail_before_work(client, corpus, tmp_path):
    with pytest.raises(ValueError, match="vocab_size"):
        fdask.train(corpus, 10, [EOT], client=client)
    with pytest.raises(ValueError, match="shard_bytes"):
        fdask.train(corpus, 300, [EOT], client=client, shard_bytes=0)
    with pytest.raises(ValueError, match="unknown token format"):
        fdask.encode_files(
            fastbpe.get_encoding("gpt2"), corpus, tmp_path, client=client, format="x"
        )


def test_client_none_starts_and_stops_a_local_cluster(corpus):
    tok = fdask.train(corpus[:1], 300, [EOT], progress=False)
    assert tok.merges == fastbpe.train(corpus[:1], 300, [EOT]).merges


# Tests that kill workers come last (pytest runs them in this order): a worker restarted on a
# busy machine can be slow to come back, and only they depend on it.


def _install(kind: str, marker: str) -> None:
    """On a worker: the next `kind` task ("count" or "encode") kills its worker process
    (os._exit) -- once in all (the marker file is created exclusively), or every time (marker
    ""); kind "hog": count tasks allocate more memory than the worker's limit."""
    import fastbpe.shards as s

    name = "encode_shard" if kind == "encode" else "count_shard"
    orig = getattr(s, "_orig_" + name, getattr(s, name))
    setattr(s, "_orig_" + name, orig)

    def dying(*args, **kwargs):
        if marker:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return orig(*args, **kwargs)
        if kind == "hog":
            block = np.ones(2 * MEMORY_LIMIT // 8)  # touched pages: real resident memory
            time.sleep(60)  # the nanny kills the worker long before this ends
            return block.sum()
        if kind == "encode":
            orig(*args, **kwargs)  # die after writing the shard, before reporting it
        os._exit(1)

    setattr(s, name, dying)


def _uninstall() -> None:
    import fastbpe.shards as s

    for name in ("count_shard", "encode_shard"):
        if hasattr(s, "_orig_" + name):
            setattr(s, name, getattr(s, "_orig_" + name))


class Sabotage(distributed.WorkerPlugin):
    """`_install` on every worker, also on those that replace the killed ones."""

    def __init__(self, kind: str, marker: str) -> None:
        self.kind, self.marker = kind, marker

    def setup(self, worker):
        _install(self.kind, self.marker)

    def teardown(self, worker):
        _uninstall()


# A restarted worker is a new process (spawned, importing distributed and fastbpe): on a busy
# machine that takes a while. A task killed with its worker reruns on the other worker or on the
# restarted one, so one worker is enough to start a test with.
RESTART_TIMEOUT = 180


@pytest.fixture
def sabotage(client):
    client.wait_for_workers(1, timeout=RESTART_TIMEOUT)
    names = []

    def install(kind: str, marker: str = "") -> None:
        names.append(f"sabotage-{kind}-{len(names)}-{os.getpid()}")
        client.register_plugin(Sabotage(kind, marker), name=names[-1])

    yield install
    for name in names:
        client.unregister_worker_plugin(name)


def test_worker_killed_mid_count_is_rerun(client, corpus, tmp_path, sabotage):
    ref = fastbpe.train(corpus, 400, [EOT])
    sabotage("count", str(tmp_path / "died-once"))
    tok = fdask.train(corpus, 400, [EOT], client=client, shard_bytes=20_000, progress=False)
    assert (tmp_path / "died-once").exists()  # a worker did die
    assert (tok.vocab, tok.merges) == (ref.vocab, ref.merges)


def test_worker_killed_mid_encode_is_rerun(client, corpus, tmp_path, sabotage):
    enc = fastbpe.get_encoding("gpt2")
    fastbpe.encode_file(enc, corpus, tmp_path / "whole.npy")
    sabotage("encode", str(tmp_path / "died-once"))
    manifest = fdask.encode_files(
        enc, corpus, tmp_path / "out", client=client, shard_bytes=20_000, progress=False
    )
    assert (tmp_path / "died-once").exists()
    ids = np.concatenate([load_tokens(f) for f in fdask.manifest_paths(manifest)])
    assert np.array_equal(ids, np.load(tmp_path / "whole.npy"))


def test_worker_that_keeps_dying_is_a_clear_error_and_no_output(client, corpus, tmp_path, sabotage):
    sabotage("encode")
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match=r"died again and again.*memory"):
        fdask.encode_files(fastbpe.get_encoding("gpt2"), corpus, out, client=client, progress=False)
    assert os.listdir(out) == []


def test_worker_out_of_memory_is_a_clear_error(client, corpus, sabotage):
    sabotage("hog")
    with pytest.raises(RuntimeError, match="memory"):
        fdask.train(corpus, 300, [EOT], client=client, progress=False)
