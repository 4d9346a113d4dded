"""The `fastbpe` command: train a vocabulary, encode corpora to token files, decode, inspect,
convert; count shards for a cluster; see and compare tokens; account for training compute.

    fastbpe train [INPUT ...] --vocab-size N [--special-token TOK ...] -o tok.json [--report R.html]
    fastbpe train --from-counts all.counts --vocab-size N -o tok.json
    fastbpe encode -t tok.json|gpt2 [INPUT ...] -o OUT [--format npy|bin|llmc|megatron] [--shard I/N]
    fastbpe decode -t tok.json|gpt2 tokens.npy [-o text.txt]
    fastbpe info -t tok.json|gpt2 [--sample FILE]
    fastbpe convert -t tok.json|gpt2 -o OUT [--to hf|tiktoken|vocab-merges|fastbpe]
    fastbpe count [INPUT ...] -o part.counts [--shard I/N]   |   fastbpe count --merge A B ... -o all.counts
    fastbpe show TEXT | --file F [-t TOK ...] [--ids] [--html OUT.html]
    fastbpe compare FILE -t gpt2 -t char -t byte -t word [--plot out.png] [--json]
    fastbpe account --params 70B --tokens 15T --gpus 1024 --gpu h100 --mfu 0.5 [--json]
    fastbpe report -t tok.json --sample FILE -o report.html

With no INPUT, `train` and `encode` use a small built-in corpus (`fastbpe/data/sample.txt`), so
`fastbpe train --vocab-size 1000 -o tok.json && fastbpe encode -t tok.json -o tokens.npy` runs on
a fresh machine. `-` is standard input. Progress goes to stderr: redrawn on a terminal, plain lines
in a log (`--quiet` turns it off). Mistakes (a missing file, a bad option) print one
`fastbpe: error:` line and exit with status 1; Ctrl-C exits with 130 and leaves no half-written
output.

One module per subcommand, each with `register(subparsers)` and `run(args)`; `COMMANDS` lists them
in the order `--help` shows them. A new subcommand is a new module plus one entry here.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ._common import PROG, SAMPLE, Parser, UserError, describe_error

__all__ = ["COMMANDS", "PROG", "SAMPLE", "UserError", "build_parser", "main"]

COMMANDS = [
    "train",
    "count",
    "encode",
    "decode",
    "info",
    "convert",
    "show",
    "compare",
    "account",
    "report",
]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    p = Parser(
        prog=PROG,
        description="Fast byte-level BPE: train, encode corpora to token files, decode, inspect.",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
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
    except (OSError, ValueError, TypeError, KeyError, OverflowError, ImportError) as e:
        return _fail(describe_error(e))
    except MemoryError:
        return _fail("out of memory")


if __name__ == "__main__":
    sys.exit(main())
