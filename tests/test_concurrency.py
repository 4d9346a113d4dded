"""Thread safety, GIL release, thread pools and fork.

* One tokenizer shared by 32 Python threads, encoding and decoding at once, gives the serial ids.
* Long Rust work (encode, encode_batch, encode_file, train) releases the GIL: another Python
  thread keeps ticking while it runs.
* No deadlock from a ThreadPoolExecutor, or in a child made by fork() after the parent used the
  Rust thread pool (rayon's global pool deadlocks there; fastbpe's pools must not). The fork cases
  run in a subprocess with a timeout so that a deadlock fails the test instead of hanging pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fastbpe
import pytest
from fastbpe import training as _training

train = getattr(fastbpe, "train", _training.train)
train_bpe = getattr(fastbpe, "train_bpe", _training.train_bpe)

EOT = "<|endoftext|>"
HERE = Path(__file__).resolve().parent


def _texts(n: int = 64) -> list[str]:
    base = [
        "Hello world, it's a test.\n",
        "日本語のテキストと 😀 emoji 👍🏽",
        "   lots   of   spaces \t\t\n\n",
        "numbers 1234567890 and ½ ² ١٢٣",
        "x" * 300,
        " " * 500 + "end",
        "can't won't they'll we've I'm you'd",
        "Ωμέγα Ελληνικά русский текст",
    ]
    return [base[i % len(base)] * (1 + i % 7) + str(i) for i in range(n)]


@pytest.fixture(scope="module")
def enc(gpt2_fastbpe):
    return gpt2_fastbpe


# ----------------------------------------------------------------------------- shared tokenizer


def test_32_threads_share_one_tokenizer(enc):
    texts = _texts(96)
    want_ids = [enc.encode(t) for t in texts]
    want_batch = enc.encode_batch(texts[:16])
    n_threads = 32
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []
    results: dict[int, list] = {}

    def work(k: int) -> None:
        try:
            barrier.wait()
            out = []
            for rep in range(3):
                for i in range(k, len(texts), 5):
                    ids = enc.encode(texts[i])
                    out.append((i, ids, enc.decode(ids)))
                    # special-token subsets exercise the tokenizer's shared matcher cache
                    enc.encode(texts[i], allowed_special={EOT} if (k + rep) % 2 else set())
                if k % 4 == 0:
                    assert enc.encode_batch(texts[:16]) == want_batch
                if k % 4 == 1:
                    arr = enc.encode_to_numpy(texts[k])
                    assert arr.tolist() == want_ids[k]
            results[k] = out
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "threads did not finish (deadlock?)"
    assert not errors, errors[0]
    for out in results.values():
        for i, ids, text in out:
            assert ids == want_ids[i]
            assert text == texts[i]


def test_thread_pool_executor_encode_batch_nested(enc):
    """Many Python threads each starting Rust-parallel batch work at once: no deadlock, same ids."""
    texts = _texts(40)
    want = enc.encode_batch(texts)
    with ThreadPoolExecutor(max_workers=16) as ex:
        futs = [ex.submit(enc.encode_batch, texts, num_threads=1 + i % 3) for i in range(32)]
        futs += [ex.submit(enc.encode_ordinary, t) for t in texts]
        for f in futs[:32]:
            assert f.result(timeout=120) == want
        for f, t in zip(futs[32:], texts):
            assert f.result(timeout=120) == enc.encode_ordinary(t)


def test_thread_pool_executor_training(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text(("the quick brown fox " * 200 + EOT) * 20, encoding="utf-8")
    want = train_bpe(str(p), 300, [EOT], threads=1)
    with ThreadPoolExecutor(max_workers=4) as ex:
        futs = [ex.submit(train_bpe, str(p), 300, [EOT], threads=1 + i % 2) for i in range(8)]
        for f in futs:
            assert f.result(timeout=120) == want


# ----------------------------------------------------------------------------- GIL release


def _max_gap_while(fn) -> tuple[float, float, int]:
    """Runs `fn` on a worker thread while this thread ticks; returns (fn's duration, the longest
    gap between ticks during it, the number of ticks). If `fn` held the GIL, the gap would be
    about its duration."""
    done = threading.Event()
    box: dict[str, object] = {}

    def run() -> None:
        t0 = time.perf_counter()
        try:
            box["result"] = fn()
        except BaseException as e:  # noqa: BLE001
            box["error"] = e
        box["duration"] = time.perf_counter() - t0
        done.set()

    worker = threading.Thread(target=run)
    ticks = [time.perf_counter()]
    worker.start()
    while not done.is_set():
        x = 0
        for i in range(200):  # pure-Python work: needs the GIL
            x += i
        ticks.append(time.perf_counter())
    worker.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    return float(box["duration"]), max(gaps, default=0.0), len(gaps)  # type: ignore[arg-type]


def _assert_releases_gil(what: str, make_fn, min_duration: float = 0.3) -> None:
    """`make_fn(scale)` returns the call to time; the scale doubles until the call is long enough
    to measure (machines differ by 10x in speed, and an idle machine is 3x faster than a loaded one)."""
    scale = 1
    while True:
        duration, gap, ticks = _max_gap_while(make_fn(scale))
        if duration >= min_duration or scale >= 1024:
            break
        scale *= 2
    if duration < min_duration:
        pytest.fail(f"{what} took only {duration:.3f} s at scale {scale}; enlarge the input")
    # A call that held the GIL throughout would leave one gap as long as the call and no ticks.
    # Turning arguments and results into Python objects needs the GIL (a few % of the call), and
    # a loaded 2-core machine delays threads by hundreds of ms now and then, so the bound is loose.
    assert ticks >= 10 and gap < max(0.1, duration * 0.6), (
        f"{what}: another Python thread ticked {ticks} times and stalled up to {gap:.3f} s "
        f"during a {duration:.3f} s call (the GIL is held)"
    )


def _prose(scale: int) -> str:
    """~250 KB * scale of mixed text (no pathological long pieces: this is about the GIL)."""
    base = "".join(t for t in _texts(64) if "xxxx" not in t)
    return base * (250_000 * scale // len(base) + 1)


def _random_words(scale: int, seed: int = 0) -> str:
    """Many distinct words, so that training's merge loop has work to do."""
    import random

    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyzéü"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(20_000)]
    return " ".join(rng.choice(words) for _ in range(60_000 * scale))


def test_encode_releases_gil(enc):
    for name in ("encode_ordinary", "encode", "encode_to_numpy"):
        method = getattr(enc, name)

        def make(k, method=method):
            text = _prose(k)
            return lambda: method(text)

        _assert_releases_gil(name, make)


def test_encode_batch_releases_gil(enc):
    def make(k):
        text = _prose(k)
        texts = [text[i : i + 50_000] for i in range(0, len(text), 50_000)]
        return lambda: enc.encode_batch(texts, num_threads=1)

    _assert_releases_gil("encode_batch", make)


def test_train_releases_gil(tmp_path):
    def make(k):
        p = tmp_path / f"c{k}.txt"
        p.write_text(_random_words(k), encoding="utf-8")
        return lambda: train_bpe(str(p), 3000, [EOT], threads=1)

    _assert_releases_gil("train_bpe", make)


def test_train_iterable_releases_gil(tmp_path):
    """Training from an iterable pulls items under the GIL but counts and merges without it."""

    def make(k):
        text = _random_words(k, seed=1)
        items = [text[i : i + 20_000] for i in range(0, len(text), 20_000)]
        return lambda: train(iter(items), 3000, threads=1)

    _assert_releases_gil("train(iterable)", make)


def test_encode_file_releases_gil(enc, tmp_path):
    encode_file = getattr(fastbpe, "encode_file", None)
    if encode_file is None:
        from fastbpe.io import encode_file

    def make(k):
        src = tmp_path / f"in{k}.txt"
        src.write_text(_prose(k), encoding="utf-8")
        return lambda: encode_file(enc, str(src), str(tmp_path / "o.bin"), threads=1)

    _assert_releases_gil("encode_file", make)


# ----------------------------------------------------------------------------- fork


FORK_SCRIPT = r"""
import multiprocessing as mp, os, sys, threading, time
sys.path.insert(0, {tests!r})
import fastbpe
from fastbpe import training as _training
train_bpe = getattr(fastbpe, "train_bpe", _training.train_bpe)

enc = fastbpe.get_encoding("gpt2")
texts = ["hello world %d " % i * 50 for i in range(200)]
want = enc.encode_batch(texts)                     # parent starts the Rust thread pool
want_one = enc.encode(texts[3])
corpus = {corpus!r}
want_train = train_bpe(corpus, 300, ["<|endoftext|>"])  # and the training pool

from fastbpe import io as _io
encode_file = getattr(fastbpe, "encode_file", _io.encode_file)
train = getattr(fastbpe, "train", _training.train)
want_file = encode_file(enc, corpus, corpus + ".parent.bin").tokens
want_iter = train(iter(texts), 300).merges

def child(k):
    assert enc.encode(texts[3]) == want_one
    assert enc.encode_batch(texts) == want          # the pool again, in the child
    assert enc.encode_batch(texts, num_threads=2) == want
    assert train_bpe(corpus, 300, ["<|endoftext|>"]) == want_train
    assert encode_file(enc, corpus, corpus + ".%d.%d.bin" % (k, os.getpid())).tokens == want_file
    assert train(iter(texts), 300, threads=2).merges == want_iter
    return k

if __name__ == "__main__":
    mode = sys.argv[1]
    ctx = mp.get_context("fork")
    if mode == "busy":
        # fork while another parent thread is inside Rust-parallel work
        stop = threading.Event()
        def spin():
            while not stop.is_set():
                enc.encode_batch(texts)
        t = threading.Thread(target=spin, daemon=True)
        t.start()
        time.sleep(0.2)
    with ctx.Pool(2) as pool:
        assert pool.map(child, range(4), chunksize=1) == list(range(4))
    p = ctx.Process(target=child, args=(0,))
    p.start(); p.join(60)
    assert p.exitcode == 0, p.exitcode
    if mode == "busy":
        stop.set()
        t.join()  # (a daemon thread still inside fastbpe at exit is test_daemon_thread_at_exit)
    # and the parent's pool still works after forking
    assert enc.encode_batch(texts) == want
    print("FORK-OK", flush=True)
"""


@pytest.mark.parametrize("mode", ["idle", "busy"])
def test_fork_after_parallel_work_does_not_deadlock(tmp_path, mode):
    if (
        sys.platform == "win32"
        or "fork" not in __import__("multiprocessing").get_all_start_methods()
    ):
        pytest.skip("no fork on this platform")
    corpus = tmp_path / "c.txt"
    corpus.write_text(("the cat sat on the mat " * 300 + EOT) * 10, encoding="utf-8")
    script = tmp_path / "fork_check.py"
    script.write_text(FORK_SCRIPT.format(tests=str(HERE), corpus=str(corpus)))
    env = dict(os.environ)
    try:
        r = subprocess.run(
            [sys.executable, str(script), mode],
            capture_output=True,
            text=True,
            timeout=90,
            env=env,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(
            f"fork ({mode}): deadlock - the child did not finish within 90 s\n"
            f"stdout: {e.stdout}\nstderr: {e.stderr}"
        )
    assert r.returncode == 0 and "FORK-OK" in r.stdout, (
        f"fork ({mode}) failed: rc={r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr[-3000:]}"
    )


DAEMON_SCRIPT = r"""
import sys, threading, time
import fastbpe
enc = fastbpe.get_encoding("gpt2")
text = "hello world, this is some text. " * 20000
texts = [text[:50000]] * 8
call = sys.argv[1]
def spin():
    while True:
        if call == "batch":
            enc.encode_ordinary_batch(texts)
        elif call == "train":
            fastbpe.train(iter(texts), 400)
        else:
            enc.encode_ordinary(text)
threading.Thread(target=spin, daemon=True).start()
time.sleep(0.3)
print("EXITING", flush=True)
"""


@pytest.mark.parametrize("call", ["encode", "batch", "train"])
def test_daemon_thread_inside_fastbpe_at_exit(tmp_path, call):
    """A daemon thread (a data loader, say) still inside a fastbpe call when the interpreter exits
    must not crash the process. (CPython < 3.14 ends such threads with pthread_exit when they
    take the GIL back, CPython issue #87135; fastbpe parks them instead: rust/src/py/shutdown.rs.)"""
    script = tmp_path / "daemon.py"
    script.write_text(DAEMON_SCRIPT)
    failures = []
    for _ in range(3):
        r = subprocess.run(
            [sys.executable, str(script), call], capture_output=True, text=True, timeout=60
        )
        if r.returncode != 0:
            failures.append(f"rc={r.returncode}: {r.stderr.strip()[:200]}")
    assert not failures, f"process died at exit with a daemon thread in {call}: {failures}"
