"""`fastbpe decode`: a token file (or `--ids`) back to text."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Iterator
from typing import Any

from . import _common as c

# Token files `fastbpe encode` writes, and what they are recognized by.
_NPY_MAGIC = b"\x93NUMPY"
# llm.c's .bin files start with a 256 x int32 header whose first word is one of these.
_LLMC_MAGICS = (20240520, 20240801)


def _token_chunks(path: str, dtype: str | None, step: int = 1 << 20) -> Iterator[list[int]]:
    """The ids of a token file, in lists of `step`; UserError when `path` is no token file."""
    import numpy as np

    from ..io import load_tokens

    if not os.path.isfile(path):
        raise c.UserError(
            f"{path}: no such token file" if not os.path.exists(path) else f"{path}: not a file"
        )
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(_NPY_MAGIC):
        arr = load_tokens(path)
        if arr.ndim != 1 or arr.dtype.kind not in "ui":
            raise c.UserError(
                f"{path}: not a token file (a .npy of {arr.dtype} with shape {arr.shape}; token "
                "files hold one row of integer ids)"
            )
    elif path.endswith(".bin"):
        if len(head) >= 4 and int.from_bytes(head[:4], "little") in _LLMC_MAGICS:
            raise c.UserError(
                f"{path}: an llm.c token file (it starts with llm.c's header); this command "
                "reads raw .bin ids (nanoGPT's format) and .npy files"
            )
        arr = load_tokens(path, dtype)
    else:
        raise c.UserError(
            f"{path}: not a token file: no .npy header, and not named .bin (raw little-endian "
            "ids); give a file written by `fastbpe encode`"
        )
    for i in range(0, len(arr), step):
        yield np.asarray(arr[i : i + step]).tolist()


def run(args: argparse.Namespace) -> int:
    tok = c.load_tokenizer(args.tokenizer)
    if args.ids is not None:
        if args.input:
            raise c.UserError("give either a token FILE or --ids, not both")
        parts = args.ids.replace(",", " ").split()
        if not parts:
            raise c.UserError("--ids: expected integer token ids separated by spaces or commas")
        chunks: Any = [[c.token_id(x, tok.n_vocab, "--ids") for x in parts]]
    else:
        if not args.input:
            raise c.UserError("give a token FILE (.npy or .bin) or --ids '1 2 3'")
        chunks = _token_chunks(args.input, args.dtype)
    if args.output and os.path.isdir(args.output):
        raise c.UserError(f"-o {args.output}: is a directory; give the text file to write")
    if args.output:
        # Written under a unique temporary name and renamed when complete: a bad id half-way
        # through leaves no half-written text (an existing output stays as it was).
        tmp = f"{args.output}.{uuid.uuid4().hex}.tmp"
        try:
            with open(tmp, "wb") as out:
                for ids in chunks:
                    out.write(tok.decode_bytes(ids))
            os.replace(tmp, args.output)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return 0
    out = sys.stdout.buffer
    last = b""
    for ids in chunks:
        data = tok.decode_bytes(ids)
        out.write(data)
        last = data[-1:] or last
    # On a terminal, end the text with a newline so that the shell prompt starts on its own line;
    # a file or a pipe gets the exact bytes.
    if last != b"\n" and sys.stdout.isatty():
        out.write(b"\n")
    out.flush()
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
