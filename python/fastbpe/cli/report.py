"""`fastbpe report`: an HTML page on how a tokenizer's vocabulary was learned and how it does on a
sample (token lengths, pair frequency over merge rank, first merges, compression vs GPT-2,
unused tokens)."""

from __future__ import annotations

import argparse
from typing import Any

from . import _common as c


def run(args: argparse.Namespace) -> int:
    from ..report import write_report

    tok = c.load_tokenizer(args.tokenizer)
    sample = args.sample or [c.sample_path()]
    d = write_report(tok, sample, args.output, sample_bytes=args.sample_bytes)
    c.note(args, f"wrote {args.output} ({len(d.merges):,} merges, {len(d.unused):,} unused tokens)")
    if d.gpt2_tokens is None:
        c.note(args, f"no GPT-2 comparison in the page: {d.gpt2_note}")
    return 0


def add_sample_bytes(p: argparse.ArgumentParser) -> None:
    from ..report import SAMPLE_BYTES

    p.add_argument(
        "--report-sample-bytes",
        dest="sample_bytes",
        type=c.size,
        default=SAMPLE_BYTES,
        help="read at most this much of the sample for the report (default 8M)",
    )


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="HTML report: how the vocabulary was learned, compression")
    c.add_tokenizer_arg(p)
    p.add_argument(
        "--sample", nargs="+", metavar="FILE", help="text file(s) to measure on (default: sample)"
    )
    p.add_argument("-o", "--output", default="report.html", help="the page (default report.html)")
    add_sample_bytes(p)
    c.add_quiet(p)
    p.set_defaults(func=run)
