"""Decoding many ids costs the output and little more (issue 9.21).

Decoding 10^7 ids from numpy used to go through two Python lists: +580 MB peak and 3.7 s on 10^7
ids of Python source, where tiktoken takes +116 MB and 0.8 s. The ids are now read in place
(rust/src/py/ids_in.rs: numpy arrays through `__array_interface__`, lists item by item) and the
bytes object is sized first and written once: +116 MB (the str is most of it) and 0.4 s.

Each case runs in a child process that resets its peak RSS (`/proc/self/clear_refs`) and reports
how far decoding raised it, so neither the test process nor the setup blurs the number. The bound is data-independent: peak growth of `decode_bytes` <= the
output's size, plus 4 bytes per id for a list (its ints are read into a u32 array), plus slack.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CHILD = r"""
import gc, json, sys
import numpy as np
import fastbpe
kind = sys.argv[1]
enc = fastbpe.get_encoding("gpt2")
text = "".join(f"line {i}: the quick brown fox, é世界 {i * 7919 % 1000}\n" for i in range(120_000))
ids = np.asarray(enc.encode_ordinary(text), dtype=np.uint32)
data = {"uint32": ids, "int64": ids.astype(np.int64), "uint16": ids.astype(np.uint16) % 30000,
        "list": ids.tolist(), "tuple": tuple(ids.tolist())}[kind]
enc.decode_bytes(data[:100])
del text
gc.collect()

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak (VmHWM) to the current RSS: earlier peaks do not hide ours
base = status("VmRSS")
out = enc.decode_bytes(data)
peak = status("VmHWM")
want = b"".join(enc.decode_single_token_bytes(int(i)) for i in data[:2000])
assert out.startswith(want)
print(json.dumps({"grew": (peak - base) * 1024, "out": len(out), "n": len(ids)}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self")
@pytest.mark.parametrize("kind", ["uint32", "int64", "uint16", "list", "tuple"])
def test_decode_bytes_peak_memory_is_the_output(kind):
    r = subprocess.run(
        [sys.executable, "-c", CHILD, kind], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    per_id = 4 if kind in ("list", "tuple") else 0
    bound = got["out"] + per_id * got["n"] + (8 << 20)
    assert got["grew"] <= bound, (
        f"{kind}: peak grew {got['grew'] >> 20} MB for {got['n']} ids and a "
        f"{got['out'] >> 20} MB output (bound {bound >> 20} MB)"
    )
