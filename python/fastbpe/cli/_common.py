"""What every `fastbpe` subcommand shares: the error type, checked argument types, input and
tokenizer lookup, and the one-line messages on stderr."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
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
    """Usage mistakes are one `fastbpe: error: ...` line (exit status 2), pointing at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {one_line(message)} (see {self.prog} --help)\n")


def one_line(msg: str) -> str:
    """`msg` on one line (a user's value may hold newlines)."""
    return " ".join(msg.split()) or "failed"


def describe_error(e: BaseException) -> str:
    """One clean line for an exception: an OSError names its file once (str() of
    `FileNotFoundError(2, "No such file: 'x'", "x")` repeats it), never "[Errno 2]"."""
    if isinstance(e, OSError) and e.strerror:
        msg = e.strerror
        name = e.filename
        if name is not None and os.fsdecode(name) not in msg:
            msg = f"{os.fsdecode(name)}: {msg}"
        return one_line(msg)
    if isinstance(e, KeyError) and e.args:
        return one_line(str(e.args[0]))
    return one_line(str(e).split("\n")[0])


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
    """The CLI draws progress only on a terminal (a log gets the summary line alone)."""
    return not args.quiet and sys.stderr.isatty()


def note(args: argparse.Namespace, msg: str) -> None:
    if not args.quiet:
        print(f"{PROG}: {msg}", file=sys.stderr)


def warn(msg: str) -> None:
    """A warning line on stderr; printed even with --quiet (it is about the result)."""
    print(f"{PROG}: warning: {one_line(msg)}", file=sys.stderr)


def load_tokenizer(spec: str) -> Tokenizer:
    """A tokenizer file or a tiktoken encoding name; tiktoken's own vocabulary files (known by
    their pinned SHA-256) load as their encoding, pattern and special tokens included."""
    from .. import registry
    from ..io import load

    try:
        if spec in registry.ENCODINGS and not os.path.exists(spec):
            return registry.get_encoding(spec)
        name = registry.name_for_pinned_file(spec)
        if name is not None:
            return registry.get_encoding(name, path=spec)
        return load(spec)
    except registry.VocabularyUnavailable as e:
        # The API's message lists the ways out on several lines; the CLI says them in one.
        raise UserError(f"{str(e).split(chr(10))[0]} {e.hint}") from None
    except FileNotFoundError as e:
        raise UserError(describe_error(e)) from None


# ----------------------------------------------------------------------------- numbers
# Every numeric option uses one of these types: each checks its range, so no value reaches the
# Rust core that it would overflow on (tests/test_cli_args.py tries bad values on every option).

MAX_THREADS = 1024  # the library's own limit (rust/src/parallel.rs)
MAX_SIZE = 1 << 40  # 1 TiB: a chunk larger than any memory
_SIZE_RE = re.compile(r"([0-9]+(?:\.[0-9]*)?)([KMG]?)B?", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def _integer(value: str, what: str, lo: int, hi: int) -> int:
    text = value.strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}")
    if len(text) > 40:  # int() of a huge digit string is slow; it is out of range anyway
        raise argparse.ArgumentTypeError(f"expected {what} (at most {hi:,}), got {value[:20]!r}...")
    n = int(text)
    if not lo <= n <= hi:
        raise argparse.ArgumentTypeError(f"expected {what} from {lo:,} to {hi:,}, got {value!r}")
    return n


def integer(what: str, lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a decimal integer in [lo, hi]."""

    def parse(value: str) -> int:
        return _integer(value, what, lo, hi)

    parse.__name__ = what  # argparse names the type in some messages
    NUMERIC_TYPES.append(parse)
    return parse


def threads(value: str) -> int:
    return _integer(value, "a positive number of threads", 1, MAX_THREADS)


def size(value: str) -> int:
    """A byte count with an optional K/M/G suffix (powers of 1024), e.g. 4M, 1.5G, 65536."""
    m = _SIZE_RE.fullmatch(value.strip())
    if m is None or len(m.group(1)) > 20:
        raise argparse.ArgumentTypeError(f"expected a size like 4M or 65536, got {value!r}")
    number, unit = m.groups()
    whole, _, frac = number.partition(".")
    mult = _SIZE_UNITS[unit.upper()]
    # Exact integer arithmetic: no float overflow or rounding.
    n = int(whole) * mult + (int(frac) * mult // 10 ** len(frac) if frac else 0)
    if not 1 <= n <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"expected a size from 1 to 1T bytes, got {value!r}")
    return n


NUMERIC_TYPES: list[Callable[[str], int]] = [threads, size]

vocab_size = integer("a vocabulary size", 1, 1 << 32)
min_frequency = integer("a count", 0, (1 << 64) - 1)
top = integer("a number of tokens", 0, 1 << 32)


def token_id(value: str, n_vocab: int, option: str) -> int:
    """A token id given to `option`, checked against the vocabulary."""
    try:
        return _integer(value, "integer token ids", 0, max(n_vocab - 1, 0))
    except argparse.ArgumentTypeError as e:
        raise UserError(f"{option}: {e}") from None


def separator(tok: Tokenizer, value: str | None) -> str | int | None:
    """`--separator`: a special token, else digits as a token id (docs/cli.md), else the text
    (which encode_file accepts when it is one token)."""
    if value is None or value in tok.special_tokens:
        return value
    if re.fullmatch(r"[0-9]+", value.strip()):
        return token_id(value, tok.n_vocab, "--separator")
    return value


# The file a single-file format gets inside a directory given as -o (`fastbpe.load(dir)` finds it).
_FILE_IN_DIRECTORY = {
    "fastbpe": "tokenizer.fastbpe.json",
    "hf": "tokenizer.json",
    "tiktoken": "tokenizer.tiktoken",
}


def output_target(output: str, fmt: str | None) -> tuple[str, str]:
    """(path, format) for `-o OUTPUT [--format/--to FMT]`. The format defaults to what the name
    says (`fastbpe.io.save_format_for`: tokenizer.json -> hf, *.tiktoken, a directory ->
    vocab.json + merges.txt). A directory (existing, or named with a trailing /) with a
    single-file format gets that format's usual file name inside it."""
    from ..io import save_format_for

    fmt = fmt or save_format_for(output)
    is_dir = os.path.isdir(output) or output.endswith(("/", os.sep))
    if fmt != "vocab-merges" and is_dir:
        os.makedirs(output, exist_ok=True)
        return os.path.join(output, _FILE_IN_DIRECTORY[fmt]), fmt
    parent = os.path.dirname(os.path.abspath(output.rstrip("/" + os.sep) or output))
    if not os.path.isdir(parent):
        raise UserError(f"{output}: the directory {parent} does not exist")
    if fmt == "vocab-merges" and os.path.exists(output) and not os.path.isdir(output):
        raise UserError(
            f"{output}: is a file; vocab-merges writes vocab.json + merges.txt into a directory"
        )
    return output, fmt


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
        "vocab.json + merges.txt) or a tiktoken encoding name: gpt2, r50k_base, p50k_base, "
        "cl100k_base, o200k_base, ...",
    )


def special_tokens(args: argparse.Namespace) -> list[str]:
    """The special tokens of `train` and `count`: --special-token ..., none with
    --no-special-tokens, else <|endoftext|>."""
    return [] if args.no_special_tokens else (args.special_token or [ENDOFTEXT])


def add_errors_arg(sp: argparse.ArgumentParser) -> None:
    """`--errors strict|replace`: what invalid UTF-8 in the input does."""
    sp.add_argument(
        "--errors",
        choices=["strict", "replace"],
        default="strict",
        help="invalid UTF-8: fail (default) or replace with U+FFFD",
    )
