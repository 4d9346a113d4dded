"""Ctrl-C stops a batch soon even when one of its texts has no safe cut (one long job): the
calling thread, which is the only one Python lets check for signals, never runs such a job
itself (rust/src/tokenizer/batch/ordered.rs), so it keeps checking while the job runs."""

import signal
import subprocess
import sys
import textwrap
import time

import pytest

CHILD = """
import os, time, fastbpe
enc = fastbpe.get_encoding("gpt2")
# 60 MB of random letters: one pre-token, no safe cut, several seconds of merging.
table = bytes(97 + b % 26 for b in range(256))
text = os.urandom(60_000_000).translate(table).decode()
print("START", flush=True)
try:
    enc.encode_ordinary_batch([text, "hello world"], num_threads={threads})
    print("FINISHED", flush=True)
except KeyboardInterrupt:
    print("KBI", flush=True)
assert enc.encode_ordinary_batch(["hello world"], num_threads={threads}) == [[31373, 995]]
print("AFTER-OK", flush=True)
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_stops_a_batch_inside_one_long_text(threads):
    script = textwrap.dedent(CHILD).replace("{threads}", str(threads))
    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "START", proc.stderr.read() if proc.stderr else ""
        time.sleep(0.5)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        first = proc.stdout.readline().strip()
        latency = time.monotonic() - sent
        proc.wait(timeout=60)
        rest = proc.stdout.read()  # not communicate(): readline may have buffered the rest
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        proc.kill()
    assert first == "KBI", (first, err)
    # Encoding the text takes several seconds; before the fix the signal waited for all of it.
    assert latency < 2.0, f"KeyboardInterrupt came {latency:.2f} s after the signal"
    assert "AFTER-OK" in rest and proc.returncode == 0, err
