"""`fastbpe convert`: save a tokenizer in another file format."""

from __future__ import annotations

import argparse
from typing import Any

from . import _common as c


def run(args: argparse.Namespace) -> int:
    from ..io import save

    tok = c.load_tokenizer(args.tokenizer)
    path, fmt = c.output_target(args.output, args.to)
    save(tok, path, format=fmt)  # type: ignore[arg-type]
    c.note(args, f"wrote {path} ({fmt})")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("convert", help="save a tokenizer in another format")
    c.add_tokenizer_arg(p)
    p.add_argument("-o", "--output", required=True, help="output file (directory for vocab-merges)")
    p.add_argument(
        "--to",
        choices=["fastbpe", "hf", "tiktoken", "vocab-merges"],
        help="output format (default: from the name: tokenizer.json -> hf, *.tiktoken -> tiktoken, "
        "a directory -> vocab-merges, else fastbpe JSON)",
    )
    c.add_quiet(p)
    p.set_defaults(func=run)
