"""What every `fastbpe` subcommand shares: the error type, argument types, input and tokenizer
lookup, and the one-line messages on stderr."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from ..tokenizer import Tokenizer

PROG = "fastbpe"
SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample.txt"
ENDOFTEXT = "<|endoftext|>"


class UserError(Exception):
    """A mistake on the command line: reported in one line, exit status 1."""


class Parser(argparse.ArgumentParser):
    """Usage mistakes are one line (and exit status 2), pointing at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def sample_path() -> str:
    if not SAMPLE.is_file():
        raise UserError(f"the built-in sample corpus is missing ({SAMPLE}); give an INPUT file")
    return str(SAMPLE)


def inputs(args: argparse.Namespace) -> tuple[list[str], str]:
    """The input paths, and how to name them in the summary line."""
    if args.inputs:
        n = len(args.inputs)
        return list(args.inputs), args.inputs[0] if n == 1 else f"{n} files"
    return [sample_path()], "the built-in sample corpus (no INPUT given)"


def progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


def note(args: argparse.Namespace, msg: str) -> None:
    if not args.quiet:
        print(f"{PROG}: {msg}", file=sys.stderr)


def load_tokenizer(spec: str) -> Tokenizer:
    from ..io import load

    return load(spec)


def threads(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return n


def size(value: str) -> int:
    """A byte count with an optional K/M/G suffix (powers of 1024)."""
    v = value.strip().upper().removesuffix("B")
    mult = 1
    for suffix, m in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)):
        if v.endswith(suffix):
            v, mult = v[:-1], m
            break
    try:
        n = int(float(v) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a size like 4M or 65536, got {value!r}"
        ) from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive size, got {value!r}")
    return n


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def add_quiet(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")


def add_tokenizer_arg(sp: argparse.ArgumentParser, *, repeat: bool = False) -> None:
    """`-t/--tokenizer`: a file in any supported format or a built-in name. With `repeat`, the
    option may be given several times (a list, in order)."""
    sp.add_argument(
        "-t",
        "--tokenizer",
        required=True,
        action="append" if repeat else "store",
        help="tokenizer file (fastbpe JSON, HF tokenizer.json, .tiktoken, directory with "
        "vocab.json + merges.txt) or a built-in name: gpt2",
    )
