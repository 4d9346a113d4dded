"""The `fastbpe` command: train a vocabulary, encode corpora to token files, decode, inspect,
convert.

    fastbpe train [INPUT ...] --vocab-size N [--special-token TOK ...] -o tok.json
    fastbpe encode -t tok.json|gpt2 [INPUT ...] -o tokens.npy|tokens.bin
    fastbpe decode -t tok.json|gpt2 tokens.npy [-o text.txt]
    fastbpe info -t tok.json|gpt2 [--sample FILE]
    fastbpe convert -t tok.json|gpt2 -o OUT --to hf|tiktoken|vocab-merges|fastbpe

With no INPUT, `train` and `encode` use a small built-in corpus (`fastbpe/data/sample.txt`), so
`fastbpe train --vocab-size 1000 -o tok.json && fastbpe encode -t tok.json -o tokens.npy` runs on
a fresh machine. Progress goes to stderr when it is a terminal (`--quiet` turns it off). Mistakes
(a missing file, a bad option) print one line and exit with status 1; Ctrl-C exits with 130 and
leaves no half-written output.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from .tokenizer import Tokenizer

PROG = "fastbpe"
SAMPLE = Path(__file__).resolve().parent / "data" / "sample.txt"
ENDOFTEXT = "<|endoftext|>"
INFO_SAMPLE_BYTES = 64 << 20  # `info` measures on at most this much of its sample


class UserError(Exception):
    """A mistake on the command line: reported in one line, exit status 1."""


def sample_path() -> str:
    if not SAMPLE.is_file():
        raise UserError(f"the built-in sample corpus is missing ({SAMPLE}); give an INPUT file")
    return str(SAMPLE)


def _inputs(args: argparse.Namespace) -> tuple[list[str], str]:
    """The input paths, and how to name them in the summary line."""
    if args.inputs:
        n = len(args.inputs)
        return list(args.inputs), args.inputs[0] if n == 1 else f"{n} files"
    return [sample_path()], "the built-in sample corpus (no INPUT given)"


def _progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


def _note(args: argparse.Namespace, msg: str) -> None:
    if not args.quiet:
        print(f"{PROG}: {msg}", file=sys.stderr)


def _load_tokenizer(spec: str) -> Tokenizer:
    from .io import load

    return load(spec)


def _threads(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return n


def _size(value: str) -> int:
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


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


# ----------------------------------------------------------------------------- train


def cmd_train(args: argparse.Namespace) -> int:
    from .io import save
    from .training import train

    inputs, what = _inputs(args)
    specials = [] if args.no_special_tokens else (args.special_token or [ENDOFTEXT])
    start = time.perf_counter()
    tok = train(
        inputs,
        args.vocab_size,
        specials,
        pattern=args.pattern,
        threads=args.threads,
        min_frequency=args.min_frequency,
        progress=_progress(args),
        errors=args.errors,
    )
    secs = time.perf_counter() - start
    save(tok, args.output, format=args.format)
    size = sum(os.path.getsize(p) for p in inputs if p != "-")
    _note(
        args,
        f"trained {tok.n_vocab:,} tokens ({len(tok.special_tokens)} special) on {what} "
        f"({_fmt_bytes(size)}) in {secs:.1f} s; wrote {args.output}",
    )
    return 0


# ----------------------------------------------------------------------------- encode


def cmd_encode(args: argparse.Namespace) -> int:
    from .io import encode_file

    tok = _load_tokenizer(args.tokenizer)
    allowed: Any = () if args.no_special else "all"
    if args.text is not None:
        if args.inputs or args.output:
            raise UserError("--text prints ids; do not combine it with INPUT files or -o")
        if args.no_special:
            ids = tok.encode_ordinary(args.text)
        else:
            ids = tok.encode(args.text, allowed_special="all")
        print(" ".join(map(str, ids)))
        return 0
    if not args.output:
        raise UserError("give -o OUT.npy or -o OUT.bin (or --text TEXT to print ids)")
    inputs, what = _inputs(args)
    result = encode_file(
        tok,
        inputs,
        args.output,
        dtype=args.dtype,
        allowed_special=allowed,
        separator=args.separator,
        errors=args.errors,
        threads=args.threads,
        progress=_progress(args),
        chunk_size=args.chunk_size,
    )
    _note(
        args,
        f"encoded {what} to {result.path}: {result.tokens:,} tokens ({result.dtype}), "
        f"{_fmt_bytes(result.bytes)} in {result.seconds:.2f} s "
        f"({result.mb_per_s:.1f} MB/s, {result.bytes_per_token:.2f} bytes/token)",
    )
    return 0


# ----------------------------------------------------------------------------- decode


def cmd_decode(args: argparse.Namespace) -> int:
    from .io import load_tokens

    tok = _load_tokenizer(args.tokenizer)
    if args.ids is not None:
        if args.input:
            raise UserError("give either a token FILE or --ids, not both")
        try:
            ids = [int(x) for x in args.ids.replace(",", " ").split()]
        except ValueError:
            raise UserError(
                f"--ids must be integers separated by spaces or commas: {args.ids!r}"
            ) from None
        chunks: Any = [ids]
    else:
        if not args.input:
            raise UserError("give a token FILE (.npy or .bin) or --ids '1 2 3'")
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


# ----------------------------------------------------------------------------- info


def _show(b: bytes) -> str:
    try:
        return repr(b.decode("utf-8"))
    except UnicodeDecodeError:
        return repr(b)


def cmd_info(args: argparse.Namespace) -> int:
    from .io import encode_file

    tok = _load_tokenizer(args.tokenizer)
    vocab = tok.vocab
    specials = tok.special_tokens
    ranked = tok._core.ranked()
    merges_known = tok._core.merges()
    from . import GPT2_PATTERN

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
    print("longest tokens:")
    for b, i in longest:
        print(f"  {i:>8}  {len(b):>4} B  {_show(b)}")
    sample = args.sample or sample_path()
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
    print(f"sample:         {name}, {_fmt_bytes(len(data))}, {len(ids):,} tokens")
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


# ----------------------------------------------------------------------------- convert


def cmd_convert(args: argparse.Namespace) -> int:
    from .io import save

    tok = _load_tokenizer(args.tokenizer)
    fmt = args.to
    if fmt is None:
        out = args.output
        fmt = (
            "tiktoken"
            if out.endswith(".tiktoken")
            else ("vocab-merges" if out.endswith(os.sep) or Path(out).is_dir() else "fastbpe")
        )
    save(tok, args.output, format=fmt)
    _note(args, f"wrote {args.output} ({fmt})")
    return 0


# ----------------------------------------------------------------------------- parser


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line (and exit status 2), pointing at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Fast byte-level BPE: train, encode corpora to token files, decode, inspect.",
    )
    from . import __version__

    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")

    def tokenizer_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "-t",
            "--tokenizer",
            required=True,
            help="tokenizer file (fastbpe JSON, HF tokenizer.json, .tiktoken, directory with "
            "vocab.json + merges.txt) or a built-in name: gpt2",
        )

    t = sub.add_parser("train", help="train a byte-level BPE vocabulary")
    t.add_argument("inputs", nargs="*", metavar="INPUT", help="UTF-8 text files (default: sample)")
    t.add_argument("--vocab-size", type=int, required=True, help="total ids, specials included")
    t.add_argument(
        "--special-token",
        action="append",
        metavar="TOK",
        help=f"a special token (repeatable; default {ENDOFTEXT})",
    )
    t.add_argument("--no-special-tokens", action="store_true", help="train without special tokens")
    t.add_argument("--pattern", help="pre-tokenization regex (default: GPT-2's)")
    t.add_argument("--min-frequency", type=int, default=0, help="never merge rarer pairs")
    t.add_argument("--threads", type=_threads, help="worker threads (default: all cores)")
    t.add_argument(
        "--errors",
        choices=["strict", "replace"],
        default="strict",
        help="invalid UTF-8: fail (default) or replace with U+FFFD",
    )
    t.add_argument("-o", "--output", required=True, help="where to write the tokenizer")
    t.add_argument(
        "--format",
        choices=["fastbpe", "hf", "tiktoken", "vocab-merges"],
        help="output format (default: fastbpe JSON; .tiktoken names: tiktoken)",
    )
    common(t)
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("encode", help="encode text files into a token file (.npy or .bin)")
    tokenizer_arg(e)
    e.add_argument(
        "inputs", nargs="*", metavar="INPUT", help="UTF-8 text files, - for stdin (default: sample)"
    )
    e.add_argument("-o", "--output", help="OUT.npy (NumPy) or OUT.bin (raw little-endian ids)")
    e.add_argument("--text", help="encode this text and print the ids instead")
    e.add_argument(
        "--dtype",
        choices=["uint16", "uint32"],
        help="id type (default: uint16 when the vocabulary fits, else uint32)",
    )
    e.add_argument(
        "--separator",
        metavar="TOKEN",
        help="token written between input files, e.g. '<|endoftext|>'",
    )
    e.add_argument(
        "--no-special",
        action="store_true",
        help="encode special-token text (e.g. <|endoftext|>) as ordinary text",
    )
    e.add_argument("--threads", type=_threads, help="worker threads (default: all cores)")
    e.add_argument("--chunk-size", type=_size, help="bytes per parallel chunk (default 1M)")
    e.add_argument(
        "--errors",
        choices=["strict", "replace"],
        default="strict",
        help="invalid UTF-8: fail (default) or replace with U+FFFD",
    )
    common(e)
    e.set_defaults(func=cmd_encode)

    d = sub.add_parser("decode", help="decode a token file (or ids) back to text")
    tokenizer_arg(d)
    d.add_argument("input", nargs="?", metavar="FILE", help="token file (.npy or .bin)")
    d.add_argument("--ids", help="ids to decode, e.g. '31373 995'")
    d.add_argument("--dtype", choices=["uint16", "uint32"], help="id type of a .bin file")
    d.add_argument("-o", "--output", help="write the text here (default: stdout)")
    common(d)
    d.set_defaults(func=cmd_decode)

    i = sub.add_parser("info", help="vocabulary, special tokens, longest tokens, compression")
    tokenizer_arg(i)
    i.add_argument("--sample", help="text file to measure compression and speed on")
    i.add_argument("--top", type=int, default=10, help="how many longest tokens to show")
    i.add_argument("--threads", type=_threads, help="threads for the batch measurement")
    common(i)
    i.set_defaults(func=cmd_info)

    c = sub.add_parser("convert", help="save a tokenizer in another format")
    tokenizer_arg(c)
    c.add_argument("-o", "--output", required=True, help="output file (directory for vocab-merges)")
    c.add_argument(
        "--to",
        choices=["fastbpe", "hf", "tiktoken", "vocab-merges"],
        help="output format (default: from the name; fastbpe JSON)",
    )
    common(c)
    c.set_defaults(func=cmd_convert)
    return p


def _fail(msg: str, code: int = 1) -> int:
    first = msg.strip().split("\n")[0].strip() if msg.strip() else "failed"
    print(f"{PROG}: error: {first}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `fastbpe` console script and `python -m fastbpe`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `fastbpe decode ... | head`: the reader left; not an error.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return 0
    except UserError as e:
        return _fail(str(e))
    except (OSError, ValueError, TypeError, KeyError, ImportError) as e:
        msg = str(e)
        if isinstance(e, KeyError) and e.args:
            msg = str(e.args[0])
        return _fail(msg)


if __name__ == "__main__":
    sys.exit(main())
