"""`fastbpe account`: training FLOPs (6·N·D), days on N GPUs at an MFU, tokens per parameter,
and training memory by dtype (fastbpe.account)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from . import _common as c


def _tokens(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """account() keyword for the data, and how to name where the count came from."""
    from ..accounting import parse_count

    if args.corpus:
        if args.tokens is not None:
            raise c.UserError("give --tokens or --corpus, not both")
        if not args.tokenizer:
            raise c.UserError("--corpus needs -t TOKENIZER to count its tokens")
        from ..compare import count_tokens, load_spec

        tok = load_spec(args.tokenizer, args.corpus)
        total = 0
        for path in args.corpus:
            total += count_tokens(tok, path).tokens
        if total == 0:
            raise c.UserError("the corpus holds no tokens (empty files?)")
        return {"tokens": total}, f"counted with {args.tokenizer} in {', '.join(args.corpus)}"
    if args.tokens is None:
        raise c.UserError("give --tokens 15T (or a token file), or --corpus FILE -t TOKENIZER")
    try:
        return {"tokens": parse_count(args.tokens, "--tokens")}, "given"
    except ValueError:
        if os.path.exists(args.tokens):
            return {"token_file": args.tokens}, f"ids in {args.tokens}"
        raise c.UserError(
            f"--tokens: expected a count like 15T or an existing token file, got {args.tokens!r}"
        ) from None


def run(args: argparse.Namespace) -> int:
    from ..accounting import account, format_report

    data, source = _tokens(args)
    try:
        a = account(
            params=args.params,
            gpus=args.gpus,
            gpu=args.gpu,
            peak_flops=args.peak_flops,
            mfu=args.mfu,
            dtype=args.dtype,
            **data,
        )
    except ValueError as e:
        raise c.UserError(str(e)) from None
    if args.json:
        print(json.dumps({**a.to_dict(), "tokens_source": source}, indent=2))
    else:
        print(format_report(a, {"tokens": source}))
    return 0


def _mfu(value: str) -> float:
    try:
        f = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction like 0.5, got {value!r}") from None
    if not 0 < f <= 1:
        raise argparse.ArgumentTypeError(
            f"MFU is a fraction of peak FLOP/s: 0 < MFU <= 1, got {value!r}"
        )
    return f


def register(sub: Any) -> None:
    from ..accounting import BYTES_PER_DTYPE, GPU_PEAK_FLOPS

    a = sub.add_parser(
        "account",
        help="training FLOPs (6*N*D), days on GPUs, tokens/param, memory by dtype",
    )
    a.add_argument("--params", required=True, help="model parameters, e.g. 124M, 7B, 70B")
    a.add_argument("--tokens", help="training tokens (e.g. 15T) or a token file (.npy/.bin)")
    a.add_argument("--corpus", nargs="+", metavar="FILE", help="count the tokens of these files")
    a.add_argument(
        "-t", "--tokenizer", help="tokenizer for --corpus (a file, gpt2, byte, char, word)"
    )
    a.add_argument("--gpus", type=c.threads, default=1, help="number of GPUs (default 1)")
    a.add_argument(
        "--gpu",
        default="h100",
        help=f"GPU kind: {', '.join(GPU_PEAK_FLOPS)} (default h100; see docs/lecture.md)",
    )
    a.add_argument("--peak-flops", help="dense peak FLOP/s of one GPU (instead of --gpu)")
    a.add_argument("--mfu", type=_mfu, default=0.5, help="model FLOPs utilization (default 0.5)")
    a.add_argument(
        "--dtype",
        default="bf16",
        choices=list(BYTES_PER_DTYPE),
        help="compute dtype for the peak rate (default bf16)",
    )
    a.add_argument("--json", action="store_true", help="print the numbers as JSON")
    a.set_defaults(func=run)
