"""`fastbpe compare`: BPE tokenizers and the lecture's baselines (byte, char, word) side by side on
one corpus: vocabulary size, tokens, bytes/token, UNK/OOV rate, encode MB/s."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from . import _common as c


def run(args: argparse.Namespace) -> int:
    from ..compare import compare, format_table, plot

    path = args.file
    if not os.path.exists(path):
        raise c.UserError(f"no such file: {path}")
    if os.path.isdir(path):
        raise c.UserError(f"{path} is a directory; give a text file")
    if os.path.getsize(path) == 0:
        raise c.UserError(f"{path} is empty: nothing to compare")
    if args.plot and os.path.isdir(args.plot):  # before the work, not after
        raise c.UserError(f"--plot {args.plot}: is a directory; give a file name like out.png")
    rows = compare(path, args.tokenizer)
    if args.plot:
        plot(rows, args.plot, title=f"compression vs vocabulary size: {os.path.basename(path)}")
    if args.json:
        print(json.dumps({"file": path, "rows": [r.to_dict() for r in rows]}, indent=2))
    else:
        print(f"{path}: {c.fmt_bytes(os.path.getsize(path))}")
        print(format_table(rows))
        print("encode MB/s: one thread, streaming; word/char:N vocabularies are built from FILE")
    if args.plot:
        c.note(args, f"wrote {args.plot}")
    return 0


def register(sub: Any) -> None:
    from ..compare import BASELINE_SPECS

    p = sub.add_parser(
        "compare",
        help="tokenizers side by side on a corpus: vocab, tokens, bytes/token, OOV, MB/s",
        description="Baselines for -t: "
        + "; ".join(f"{k}: {v}" for k, v in BASELINE_SPECS.items()),
    )
    p.add_argument("file", metavar="FILE", help="UTF-8 text file")
    p.add_argument(
        "-t",
        "--tokenizer",
        action="append",
        required=True,
        help="a tokenizer file, gpt2, or a baseline: byte, char, char:N, word[:N], word-ws[:N] "
        "(repeatable)",
    )
    p.add_argument("--plot", metavar="OUT.png", help="draw compression vs vocabulary size")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    c.add_quiet(p)
    p.set_defaults(func=run)
