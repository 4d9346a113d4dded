"""`fastbpe convert`: save a tokenizer in another file format."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from . import _common as c


def run(args: argparse.Namespace) -> int:
    from ..io import save

    tok = c.load_tokenizer(args.tokenizer)
    fmt = args.to
    if fmt is None:
        out = args.output
        fmt = (
            "tiktoken"
            if out.endswith(".tiktoken")
            else ("vocab-merges" if out.endswith(os.sep) or Path(out).is_dir() else "fastbpe")
        )
    save(tok, args.output, format=fmt)
    c.note(args, f"wrote {args.output} ({fmt})")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("convert", help="save a tokenizer in another format")
    c.add_tokenizer_arg(p)
    p.add_argument("-o", "--output", required=True, help="output file (directory for vocab-merges)")
    p.add_argument(
        "--to",
        choices=["fastbpe", "hf", "tiktoken", "vocab-merges"],
        help="output format (default: from the name; fastbpe JSON)",
    )
    c.add_quiet(p)
    p.set_defaults(func=run)
