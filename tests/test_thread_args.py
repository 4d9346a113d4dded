"""Thread counts: one meaning everywhere, bounded whatever the caller passes (issues 13.6, 9.14,
9.19).

* Training (`train`, `train_bpe`, `count_words`, `train_from_counts`): `threads` is None (all cores)
  or 1..=1024; anything else is refused before any work with an error that names `threads`, also
  for ints too big for a machine word (10**20), which PyO3 would report as an anonymous
  OverflowError. (`encode_batch(num_threads=...)` follows tiktoken's rule instead: any number > 0,
  more than the cores runs on all cores; tests/test_special_args.py.)
* Thread pools are cached per size, at most 4 at once: 24 distinct sizes used to leave 300 live
  threads behind.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from fastbpe import training as T
from hypothesis import given, settings
from hypothesis import strategies as st

TEXTS = ["hello world, the cat sat on the mat"] * 20

bad_or_good = st.one_of(
    st.integers(-(10**30), 10**30),
    st.integers(-3, 6),  # small valid counts: a 1024-thread pool per example would be slow
    st.integers(1025, 10**7),
    st.sampled_from([0, 1024, 10**20, -1, True, False, 1.5, "2", None]),
)


def _expect_ok(v: object) -> bool:
    return v is None or (type(v) is int and 1 <= v <= 1024)


@settings(max_examples=40, deadline=None)
@given(bad_or_good)
def test_training_threads_accepted_or_refused_by_name(tmp_path_factory, v):
    path = tmp_path_factory.mktemp("t") / "c.txt"
    path.write_text(" ".join(TEXTS))
    counts = T.count_words(iter(TEXTS))
    calls = {
        "count_words(iterable)": lambda: T.count_words(iter(TEXTS), threads=v),
        "count_words(file)": lambda: T.count_words(str(path), threads=v),
        "train_from_counts": lambda: T.train_from_counts(counts, 260, threads=v),
        "train_bpe": lambda: T.train_bpe(str(path), 260, [], threads=v),
    }
    for name, call in calls.items():
        if _expect_ok(v):
            call()
            continue
        kind = TypeError if not isinstance(v, int) or isinstance(v, bool) else ValueError
        with pytest.raises(kind, match="threads") as e:
            call()
        if kind is ValueError:
            assert "1024" in str(e.value), (name, str(e.value))


POOLS_CHILD = r"""
import os, time
import fastbpe
enc = fastbpe.get_encoding("gpt2")
texts = ["hello world %d" % i for i in range(64)]
def live():
    return len(os.listdir("/proc/self/task"))
start = live()
for n in range(1, 25):  # 24 distinct sizes: 300 threads if every pool stayed
    enc._core.encode_batch(texts, [], n)
for _ in range(50):  # dropped pools' threads exit asynchronously
    if live() - start <= 21 + 22 + 23 + 24:
        break
    time.sleep(0.1)
print(live() - start)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")
def test_distinct_thread_counts_leave_a_bounded_number_of_threads():
    r = subprocess.run(
        [sys.executable, "-c", POOLS_CHILD], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr[-2000:]
    grew = int(r.stdout.strip().splitlines()[-1])
    # At most the 4 most recent pools (21..24 threads) stay cached.
    assert grew <= 21 + 22 + 23 + 24, f"{grew} threads left alive after 24 pool sizes"


def test_a_million_threads_is_refused_at_once():
    for call in (
        lambda: T.train(iter(TEXTS), 300, threads=10**6),
        lambda: T.count_words(iter(TEXTS), threads=10**20),
    ):
        with pytest.raises(ValueError, match=r"threads must be between 1 and 1024"):
            call()
