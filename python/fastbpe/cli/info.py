"""`fastbpe info`: what a tokenizer holds (sizes, specials, longest tokens) and how it does on a
sample (compression, speed)."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from . import _common as c

INFO_SAMPLE_BYTES = 64 << 20  # `info` measures on at most this much of its sample
SHOW_BYTES = 64  # a longer token is shown cut to this many bytes, with its length


def _show(b: bytes) -> str:
    """A token as Python would write it, cut to SHOW_BYTES (a 1 MB token is one line, not 1 MB)."""
    head = b[:SHOW_BYTES]
    shown = repr(head)
    # Text when it is UTF-8; a cut may fall inside a character: drop up to 3 bytes of it.
    for drop in range(4 if len(b) > SHOW_BYTES else 1):
        try:
            shown = repr(head[: len(head) - drop].decode("utf-8"))
            break
        except UnicodeDecodeError:
            continue
    return shown if len(b) <= SHOW_BYTES else f"{shown}... (first {SHOW_BYTES} of {len(b):,} B)"


def run(args: argparse.Namespace) -> int:
    from ..io import encode_file
    from ..tokenizer import GPT2_PATTERN

    tok = c.load_tokenizer(args.tokenizer)
    sample = args.sample or c.sample_path()
    if not os.path.isfile(sample):  # before printing anything: an error is one line, alone
        what = "is not a file" if os.path.exists(sample) else "does not exist"
        raise c.UserError(f"--sample {sample}: {what}")
    vocab = tok.vocab
    specials = tok.special_tokens
    ranked = tok._core.ranked()
    merges_known = tok._core.merges()

    print(f"tokenizer:      {args.tokenizer} ({tok.name})")
    print(
        f"vocab size:     {tok.n_vocab:,} ids ({len(ranked):,} mergeable, {len(specials)} special)"
    )
    if merges_known is not None:
        print(f"merges:         {len(merges_known):,}")
    print(f"pattern:        {'GPT-2' if tok.pattern == GPT2_PATTERN else repr(tok.pattern)}")
    if specials:
        listed = ", ".join(f"{s!r}={i}" for s, i in sorted(specials.items(), key=lambda kv: kv[1]))
        print(f"special tokens: {listed}")
    else:
        print("special tokens: none")
    special_ids = set(specials.values())
    longest = sorted(
        ((b, i) for i, b in vocab.items() if i not in special_ids),
        key=lambda bi: (-len(bi[0]), bi[1]),
    )[: args.top]
    if longest:
        print("longest tokens:")
    for b, i in longest:
        print(f"  {i:>8}  {len(b):>4} B  {_show(b)}")
    # Statistics from the first 64 MB at most (a multi-GB sample would not fit in memory as str).
    with open(sample, "rb") as f:
        data = f.read(INFO_SAMPLE_BYTES)
    text = data.decode("utf-8", errors="replace")
    # Repeat a small sample until a quarter second has passed: one short call measures noise.
    ids = tok.encode_to_numpy(text, allowed_special="all")  # warm-up: imports, page faults
    runs, t0 = 0, time.perf_counter()
    while True:
        ids = tok.encode_to_numpy(text, allowed_special="all")  # no list of Python ints
        runs += 1
        one = (time.perf_counter() - t0) / runs
        if runs * one >= 0.25:
            break
    with tempfile.TemporaryDirectory(prefix="fastbpe-info-") as tmp:
        if len(data) == INFO_SAMPLE_BYTES:  # a big file: time encode_file on the same 64 MB
            sample = os.path.join(tmp, "head.txt")
            Path(sample).write_bytes(data)
        r = encode_file(
            tok,
            sample,
            os.path.join(tmp, "t.npy"),
            errors="replace",
            threads=args.threads,
            progress=False,
            chunk_size=64 << 10,
        )
    mb = len(data) / 1e6
    name = "built-in sample" if args.sample is None else str(args.sample)
    if len(data) == INFO_SAMPLE_BYTES:
        name += " (first 64 MiB)"
    print(f"sample:         {name}, {c.fmt_bytes(len(data))}, {len(ids):,} tokens")
    if len(ids):
        print(
            f"compression:    {len(data) / len(ids):.2f} bytes/token, "
            f"{len(text) / len(ids):.2f} characters/token"
        )
    print(
        f"throughput:     {mb / one:.1f} MB/s (encode, one thread), "
        f"{r.mb_per_s:.1f} MB/s (encode_file, {args.threads or os.cpu_count()} threads)"
    )
    return 0


def register(sub: Any) -> None:
    i = sub.add_parser("info", help="vocabulary, special tokens, longest tokens, compression")
    c.add_tokenizer_arg(i)
    i.add_argument("--sample", help="text file to measure compression and speed on")
    i.add_argument(
        "--top", type=c.top, default=10, help="how many longest tokens to show (0: none)"
    )
    i.add_argument("--threads", type=c.threads, help="threads for the batch measurement")
    c.add_quiet(i)
    i.set_defaults(func=run)
