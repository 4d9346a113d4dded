"""`fastbpe train`: learn a byte-level BPE vocabulary from text files (or the built-in sample)."""

from __future__ import annotations

import argparse
import os
import time
import warnings
from typing import Any

from . import _common as c


def run(args: argparse.Namespace) -> int:
    if args.from_counts:  # the merge loop alone, on a counts file (`fastbpe count`)
        from .count import train_from_counts_file

        return train_from_counts_file(args)
    from ..io import save
    from ..training import ShortVocabularyWarning, train

    inputs, what = c.inputs(args)
    specials = c.special_tokens(args)
    path, fmt = c.output_target(args.output, args.format)  # before the work: a bad -o fails fast
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ShortVocabularyWarning)
        tok = train(
            inputs,
            args.vocab_size,
            specials,
            pattern=args.pattern,
            threads=args.threads,
            min_frequency=args.min_frequency,
            progress=c.progress(args),
            errors=args.errors,
        )
    secs = time.perf_counter() - start
    for w in caught:
        if issubclass(w.category, ShortVocabularyWarning):
            # Even with --quiet: the result is not what was asked for. With progress shown,
            # train() has printed this line after the progress lines already.
            if not c.progress(args):
                c.warn(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    save(tok, path, format=fmt)  # type: ignore[arg-type]
    if args.report:  # the training input is the report's sample (report.py)
        from ..report import write_report

        write_report(tok, [p for p in inputs if p != "-"] or [c.sample_path()], args.report)
    size = sum(os.path.getsize(p) for p in inputs if p != "-")
    c.note(
        args,
        f"trained {tok.n_vocab:,} tokens ({len(tok.special_tokens)} special) on {what} "
        f"({c.fmt_bytes(size)}) in {secs:.1f} s; wrote {path} ({fmt})",
    )
    return 0


def register(sub: Any) -> None:
    t = sub.add_parser("train", help="train a byte-level BPE vocabulary")
    t.add_argument("inputs", nargs="*", metavar="INPUT", help="UTF-8 text files (default: sample)")
    t.add_argument(
        "--vocab-size", type=c.vocab_size, required=True, help="total ids, specials included"
    )
    t.add_argument(
        "--special-token",
        action="append",
        metavar="TOK",
        help=f"a special token (repeatable; default {c.ENDOFTEXT})",
    )
    t.add_argument("--no-special-tokens", action="store_true", help="train without special tokens")
    t.add_argument("--pattern", help="pre-tokenization regex (default: GPT-2's)")
    t.add_argument(
        "--min-frequency", type=c.min_frequency, default=0, help="never merge rarer pairs"
    )
    t.add_argument("--threads", type=c.threads, help="worker threads (default: all cores)")
    c.add_errors_arg(t)
    t.add_argument(
        "-o",
        "--output",
        required=True,
        help="where to write the tokenizer (a directory: the format's file inside it)",
    )
    t.add_argument(
        "--format",
        choices=["fastbpe", "hf", "tiktoken", "vocab-merges"],
        help="output format (default: from the name: tokenizer.json -> hf, *.tiktoken -> tiktoken, "
        "a directory -> vocab-merges, else fastbpe JSON)",
    )
    t.add_argument("--report", metavar="OUT.html", help="also write an HTML training report")
    t.add_argument(
        "--from-counts",
        metavar="FILE",
        help="train from a counts file of `fastbpe count` instead of text files",
    )
    c.add_quiet(t)
    t.set_defaults(func=run)
