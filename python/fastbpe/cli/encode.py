"""`fastbpe encode`: text files (or stdin) to a token file, streaming; or `--text` to print ids.

`--format npy|bin|llmc|megatron` writes the formats training stacks read, with document boundaries
(`fastbpe.token_formats`); `--shard I/N` encodes only shard I of N (`fastbpe.shards`): the N outputs,
concatenated in shard order, are the single-process output.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import _common as c


def run(args: argparse.Namespace) -> int:
    from ..io import encode_file

    tok = c.load_tokenizer(args.tokenizer)
    allowed: Any = () if args.no_special else "all"
    if args.text is not None:
        if args.inputs or args.output:
            raise c.UserError("--text prints ids; do not combine it with INPUT files or -o")
        if args.no_special:
            ids = tok.encode_ordinary(args.text)
        else:
            ids = tok.encode(args.text, allowed_special="all")
        print(" ".join(map(str, ids)))
        return 0
    if not args.output:
        raise c.UserError("give -o OUT.npy or -o OUT.bin (or --text TEXT to print ids)")
    inputs, what = c.inputs(args)
    separator = c.separator(tok, args.separator)
    if args.shard:
        from ..shards import doc_token_text, encode_shard, parse_shard_spec, plan

        if "-" in inputs:
            raise c.UserError("--shard reads byte ranges of files; not standard input")
        try:
            i, n = parse_shard_spec(args.shard)
        except ValueError as e:
            raise c.UserError(str(e)) from None
        recognized = [] if args.no_special else sorted(tok.special_tokens)
        doc = doc_token_text(tok, separator, recognized)
        part = plan(
            inputs, n_shards=n, pattern=tok.pattern, special_tokens=recognized, doc_token=doc
        )[i]
        what += f" (shard {args.shard})"
        result = encode_shard(
            tok,
            part,
            args.output,
            format=args.format,
            dtype=args.dtype,
            allowed_special=allowed,
            separator=separator,
            errors=args.errors,
            threads=args.threads,
        )
    else:
        result = encode_file(
            tok,
            inputs,
            args.output,
            dtype=args.dtype,
            allowed_special=allowed,
            separator=separator,
            errors=args.errors,
            threads=args.threads,
            progress=c.progress(args),
            chunk_size=args.chunk_size,
            format=args.format,
        )
    c.note(
        args,
        f"encoded {what} to {result.path}: {result.tokens:,} tokens ({result.dtype}), "
        f"{c.fmt_bytes(result.bytes)} in {result.seconds:.2f} s "
        f"({result.mb_per_s:.1f} MB/s, {result.bytes_per_token:.2f} bytes/token)",
    )
    return 0


def register(sub: Any) -> None:
    e = sub.add_parser(
        "encode", help="encode text files into a token file (.npy, .bin, llm.c or Megatron)"
    )
    c.add_tokenizer_arg(e)
    e.add_argument(
        "inputs", nargs="*", metavar="INPUT", help="UTF-8 text files, - for stdin (default: sample)"
    )
    e.add_argument("-o", "--output", help="OUT.npy (NumPy) or OUT.bin (raw little-endian ids)")
    e.add_argument("--text", help="encode this text and print the ids instead")
    e.add_argument(
        "--format",
        choices=["npy", "bin", "llmc", "megatron"],
        help="a training format with document boundaries: npy/bin (+ OUT.docs.npy), llmc "
        "(llm.c/nanoGPT header), megatron (-o PREFIX: PREFIX.bin + PREFIX.idx); default: the "
        "plain .npy/.bin file named by -o",
    )
    e.add_argument(
        "--shard",
        metavar="I/N",
        help="encode only shard I of N (0 <= I < N; cut at safe points, the same on every "
        "machine); the N outputs concatenated in order are the whole output",
    )
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
    e.add_argument("--threads", type=c.threads, help="worker threads (default: all cores)")
    e.add_argument("--chunk-size", type=c.size, help="bytes per parallel chunk (default 1M)")
    c.add_errors_arg(e)
    c.add_quiet(e)
    e.set_defaults(func=run)
