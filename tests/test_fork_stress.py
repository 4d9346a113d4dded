"""Fork safety under load (issue 9.13): hundreds of fork() calls while other threads are inside
every fastbpe entry point, with every kind of argument; each child must then use every entry point
itself without deadlocking.

A lock (or a once-cell being initialized) that another thread holds at the fork stays held in the
child forever. fastbpe's process-wide locks are `fork_safe::ForkSafeMutex` (the thread pools, the
special-token subset cache) and its lazy values `fork_safe::RaceOnce`, so a child never waits on
one. The children run under `alarm()`, so a deadlock kills the child and fails the test instead of
hanging it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

SCRIPT = r"""
import faulthandler, os, random, signal, sys, threading, time, traceback, warnings
warnings.simplefilter("ignore")  # DeprecationWarning: fork() of a multi-threaded process
import numpy as np
import fastbpe
from fastbpe import training as T
from fastbpe.token_files import encode_file

N_FORKS = int(sys.argv[1])
TMP = sys.argv[2]
SPECIALS = ["<|endoftext|>"] + [f"<|s{i}|>" for i in range(7)]
rng = random.Random(0)
texts = [
    f"hello world {i}{rng.choice(SPECIALS)} the cat sat{rng.choice(SPECIALS)} on it's {i * 7}!"
    for i in range(300)
]
corpus = os.path.join(TMP, "corpus.txt")
with open(corpus, "w", encoding="utf-8") as f:
    f.write("".join(texts) * 5)
tok = T.train(iter(texts), 420, SPECIALS)
VOCAB, MERGES = tok.vocab, tok.merges
SUBSETS = [set(rng.sample(SPECIALS, rng.randint(1, 7))) for _ in range(120)]  # > the cache's 64
want = [tok.encode(t) for t in texts[:8]]


def every_entry_point(t, k, out_name):
    # Encoding, with each kind of special-token argument and thread count.
    sub = SUBSETS[k % len(SUBSETS)]
    assert t.encode(texts[0]) == want[0]
    t.encode(texts[1], allowed_special=sub)
    t.encode(texts[2], allowed_special=set(), disallowed_special=())
    t.encode(texts[3], allowed_special="all")
    t.encode_ordinary(texts[4])
    for n in (None, 1, 2, 3, 1 + k % 5):
        assert t.encode_batch(texts[:8], num_threads=n) == want
    t.encode_batch(texts[:8], allowed_special=sub, num_threads=2)
    t.encode_ordinary_batch(texts[:8], num_threads=2)
    t.encode_to_numpy(texts[5], allowed_special=sub)
    t.encode_batch_to_numpy(texts[:8], num_threads=2)
    t.encode_with_unstable(texts[6][:20], allowed_special=sub)
    list(t.encode_iterable(iter(texts[:4])))
    t.decode(want[0]); t.decode_bytes(np.array(want[1], dtype=np.uint32)); t.decode_tokens_bytes(want[2])
    # Training: counting (iterable and file), merging, reducing counts.
    c = T.count_words(iter(texts[:50]), SPECIALS, threads=1 + k % 3)
    c.update(T.count_words(corpus, SPECIALS, threads=2))
    T.train_from_counts(c, 300, SPECIALS, threads=1 + k % 2)
    # Token files, and a new tokenizer (its caches are built on first use).
    encode_file(t, corpus, out_name, threads=1 + k % 2)
    fresh = fastbpe.Tokenizer(VOCAB, MERGES, SPECIALS)
    fresh.encode(texts[7], allowed_special=sub)
    fresh.encode_with_unstable(texts[7][:10])


LATEST = [fastbpe.Tokenizer(VOCAB, MERGES, SPECIALS)]
stop = threading.Event()
def hammer(seed):
    k = seed
    while not stop.is_set():
        k += 1
        every_entry_point(tok if k % 3 else fastbpe.Tokenizer(VOCAB, MERGES, SPECIALS), k,
                          os.path.join(TMP, f"bg{seed}.npy"))

def hammer_caches():
    # Cache misses on purpose: more distinct subsets than the cache holds, and fresh tokenizers
    # whose lazy tables are still unbuilt, so a fork often lands while a lock is held.
    k = 0
    while not stop.is_set():
        k += 1
        tok.encode(texts[k % 8], allowed_special=SUBSETS[k % len(SUBSETS)])
        if k % 50 == 0:
            # The child uses this one too: a fork can land while its lazy parts (the int
            # objects of its lists, its sorted tokens) are being made on this thread.
            fresh = fastbpe.Tokenizer(VOCAB, MERGES, SPECIALS)
            LATEST[0] = fresh
            fresh.encode(texts[k % 8])
            fresh.encode_with_unstable("hello wor")

threads = [threading.Thread(target=hammer, args=(s,), daemon=True) for s in (0, 1000)]
threads.append(threading.Thread(target=hammer_caches, daemon=True))
for th in threads:
    th.start()
time.sleep(0.2)

failed = []
for i in range(N_FORKS):
    time.sleep(rng.random() * 0.004)  # land the fork at varied points of the other threads' work
    pid = os.fork()
    if pid == 0:
        signal.alarm(10)  # a deadlock ends the child with SIGALRM
        # A crash (SIGSEGV, SIGABRT from malloc's checks) prints every thread's Python stack.
        faulthandler.enable(all_threads=True)
        try:
            every_entry_point(tok, i, os.path.join(TMP, f"child{i}.npy"))
            latest = LATEST[0]
            assert latest.encode(texts[0]) == want[0]
            latest.encode_with_unstable(texts[6][:20])
            os._exit(0)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        if os.WIFSIGNALED(status):
            sig = signal.Signals(os.WTERMSIG(status)).name
            failed.append((i, "deadlocked (SIGALRM)" if sig == "SIGALRM" else f"killed by {sig}"))
        else:
            failed.append((i, f"exit status {os.WEXITSTATUS(status)}"))
        break  # one is enough to fail; more would only cost 10 s each
stop.set()
print("FAILED", failed, flush=True)
print("FORKS-DONE", i + 1, flush=True)
os._exit(0)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_hundreds_of_forks_during_every_entry_point(tmp_path):
    script = tmp_path / "fork_stress.py"
    script.write_text(SCRIPT)
    start = time.monotonic()
    try:
        r = subprocess.run(
            [sys.executable, str(script), "200", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=240,
            # numpy's OpenBLAS starts a thread pool of its own at import and shuts it down in a
            # pthread_atfork handler at every fork; it is not fastbpe's to test here.
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the fork stress run hung: {e.stdout}\n{e.stderr}")
    took = time.monotonic() - start
    assert "FORKS-DONE 200" in r.stdout, f"rc={r.returncode}\n{r.stdout}\n{r.stderr[-4000:]}"
    assert "FAILED []" in r.stdout, f"{r.stdout}\n{r.stderr[-4000:]}"
    print(f"200 forks in {took:.1f} s")
