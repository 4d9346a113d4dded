"""`fastbpe decode`: a token file (or `--ids`) back to text."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import _common as c


def run(args: argparse.Namespace) -> int:
    from ..io import load_tokens

    tok = c.load_tokenizer(args.tokenizer)
    if args.ids is not None:
        if args.input:
            raise c.UserError("give either a token FILE or --ids, not both")
        try:
            ids = [int(x) for x in args.ids.replace(",", " ").split()]
        except ValueError:
            raise c.UserError(
                f"--ids must be integers separated by spaces or commas: {args.ids!r}"
            ) from None
        chunks: Any = [ids]
    else:
        if not args.input:
            raise c.UserError("give a token FILE (.npy or .bin) or --ids '1 2 3'")
        arr = load_tokens(args.input, args.dtype)
        step = 1 << 20
        chunks = (arr[i : i + step].tolist() for i in range(0, len(arr), step))
    out = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115
    try:
        for ids in chunks:
            out.write(tok.decode_bytes(ids))
        out.flush()
    finally:
        if args.output:
            out.close()
    return 0


def register(sub: Any) -> None:
    d = sub.add_parser("decode", help="decode a token file (or ids) back to text")
    c.add_tokenizer_arg(d)
    d.add_argument("input", nargs="?", metavar="FILE", help="token file (.npy or .bin)")
    d.add_argument("--ids", help="ids to decode, e.g. '31373 995'")
    d.add_argument("--dtype", choices=["uint16", "uint32"], help="id type of a .bin file")
    d.add_argument("-o", "--output", help="write the text here (default: stdout)")
    c.add_quiet(d)
    d.set_defaults(func=run)
