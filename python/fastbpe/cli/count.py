"""`fastbpe count`: the map and reduce steps of training, as counts files.

    fastbpe count FILE... -o part.counts [--special-token T ...] [--pattern P] [--shard I/N]
    fastbpe count --merge a.counts b.counts ... -o all.counts
    fastbpe train --from-counts all.counts --vocab-size V -o tok.json    # the merge loop, once

`--shard I/N` counts only shard I (0 <= I < N) of the inputs (`fastbpe.shards`), so N processes of a
Slurm array or torchrun job count a corpus together; merging their files gives the counts of the
whole, and training from them the tokenizer `fastbpe train FILE...` gives. The special-token
defaults are `fastbpe train`'s (`<|endoftext|>`), so the two routes agree with the same options.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from . import _common as c


def run(args: argparse.Namespace) -> int:
    from ..counts import count_paths, merge_files

    start = time.perf_counter()
    if args.merge:
        if args.shard or args.pattern or args.special_token or args.no_special_tokens:
            raise c.UserError(
                "--merge adds up counts files as they are; --shard, --pattern and special-token "
                "options belong to counting"
            )
        if not args.inputs:
            raise c.UserError("--merge needs the counts files to merge")
        counts = merge_files(args.inputs)
        what = f"{len(args.inputs)} counts files"
    else:
        if not args.inputs:
            raise c.UserError("give the text files to count (FILE ...)")
        if "-" in args.inputs:
            raise c.UserError("count reads files (byte ranges for --shard); not standard input")
        shard = None
        if args.shard:
            from ..shards import parse_shard_spec

            try:
                shard = parse_shard_spec(args.shard)
            except ValueError as e:
                raise c.UserError(str(e)) from None
        counts = count_paths(
            args.inputs,
            c.special_tokens(args),
            pattern=args.pattern,
            shard=shard,
            threads=args.threads,
            errors=args.errors,
            progress=c.progress(args),
        )
        n = len(args.inputs)
        what = (args.inputs[0] if n == 1 else f"{n} files") + (
            f" (shard {args.shard})" if shard else ""
        )
    counts.save(args.output)
    c.note(
        args,
        f"counted {what}: {c.fmt_bytes(counts.bytes_read)} of text, {len(counts):,} distinct "
        f"pre-tokens, {counts.total():,} in all, in {time.perf_counter() - start:.1f} s; wrote "
        f"{args.output} ({c.fmt_bytes(os.path.getsize(args.output))})",
    )
    return 0


def train_from_counts_file(args: argparse.Namespace) -> int:
    """`fastbpe train --from-counts FILE`: the merge loop on a (merged) counts file; the tokenizer
    equals `fastbpe train` on the counted files with the same options."""
    from ..counts import tokenizer_from_counts
    from ..io import save
    from ..training import WordCounts, count_words

    if args.inputs:
        raise c.UserError("--from-counts trains from a counts file; give no INPUT files")
    if args.report:
        raise c.UserError("--report needs the training text; it cannot be used with --from-counts")
    path, fmt = c.output_target(args.output, args.format)
    start = time.perf_counter()
    counts = WordCounts.load(args.from_counts)
    given = args.special_token is not None or args.no_special_tokens
    if args.pattern is not None and counts.pattern is not None:
        # The core spells a pattern canonically; empty counts made with it tell us how.
        if count_words(iter(()), [], pattern=args.pattern).pattern != counts.pattern:
            raise c.UserError(f"{args.from_counts} was counted with another --pattern")
    try:
        tok = tokenizer_from_counts(
            counts,
            args.vocab_size,
            c.special_tokens(args) if given else None,
            min_frequency=args.min_frequency,
            threads=args.threads,
            progress=c.progress(args),
        )
    except ValueError as e:
        raise c.UserError(f"{args.from_counts}: {e}") from None
    secs = time.perf_counter() - start
    save(tok, path, format=fmt)  # type: ignore[arg-type]
    c.note(
        args,
        f"trained {tok.n_vocab:,} tokens ({len(tok.special_tokens)} special) from "
        f"{args.from_counts} ({c.fmt_bytes(counts.bytes_read)} of text counted) in {secs:.1f} s; "
        f"wrote {path} ({fmt})",
    )
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "count", help="count pre-tokens into a counts file (or --merge counts files)"
    )
    p.add_argument(
        "inputs", nargs="*", metavar="FILE", help="UTF-8 text files (counts files with --merge)"
    )
    p.add_argument(
        "-o", "--output", required=True, help="the counts file to write (e.g. part.counts)"
    )
    p.add_argument("--merge", action="store_true", help="add up the counts files given as FILE")
    p.add_argument(
        "--special-token",
        action="append",
        metavar="TOK",
        help=f"a special token, removed as a document separator (repeatable; default {c.ENDOFTEXT})",
    )
    p.add_argument("--no-special-tokens", action="store_true", help="count without special tokens")
    p.add_argument("--pattern", help="pre-tokenization regex (default: GPT-2's)")
    p.add_argument(
        "--shard",
        metavar="I/N",
        help="count only shard I of N (0 <= I < N; cut at safe points, the same on every machine)",
    )
    p.add_argument("--threads", type=c.threads, help="worker threads (default: all cores)")
    c.add_errors_arg(p)
    c.add_quiet(p)
    p.set_defaults(func=run)
