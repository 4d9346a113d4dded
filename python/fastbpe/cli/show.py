"""`fastbpe show`: see how tokenizers cut a text, in the terminal (colours, visible whitespace,
token counts, ids) or as an HTML page whose hover card shows each token's merge history."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import _common as c


def _text(args: argparse.Namespace) -> str:
    if (args.text is None) == (args.file is None):
        raise c.UserError("give TEXT (or - for stdin) or --file FILE, not both")
    if args.file is not None:
        with open(args.file, "rb") as f:
            data = f.read()
        text = data.decode("utf-8", errors="replace")
        if "\ufffd" in text and "\ufffd".encode() not in data:
            c.note(args, f"{args.file}: invalid UTF-8 bytes are shown as U+FFFD")
        return text
    if args.text == "-":
        return sys.stdin.buffer.read().decode("utf-8", errors="replace")
    return args.text


def run(args: argparse.Namespace) -> int:
    from ..compare import load_spec
    from ..show import show, use_color, write_html

    text = _text(args)
    specs = args.tokenizer or ["gpt2"]
    toks = []
    for s in specs:
        if s.startswith(("word", "char:")):
            raise c.UserError(f"{s!r} needs a corpus; show takes byte, char or a tokenizer")
        toks.append(load_spec(s))
    if args.html:
        write_html(toks, text, args.html, names=specs, ids=args.ids)
        c.note(args, f"wrote {args.html} (hover a token for its id, bytes and merge history)")
        return 0
    color = "always" if use_color(args.color) else "never"
    out = [show(t, text, ids=args.ids, color=color, name=s) for t, s in zip(toks, specs)]
    print("\n\n".join(out))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("show", help="see the tokens of a text (terminal colours or --html page)")
    p.add_argument("text", nargs="?", metavar="TEXT", help="the text (- reads stdin)")
    p.add_argument("--file", help="read the text from this file (invalid UTF-8 shown as U+FFFD)")
    p.add_argument(
        "-t",
        "--tokenizer",
        action="append",
        help="a tokenizer file, gpt2, byte or char (repeatable; default gpt2)",
    )
    p.add_argument("--ids", action="store_true", help="print the token ids too")
    p.add_argument("--html", metavar="OUT.html", help="write a self-contained HTML page instead")
    p.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="colours: auto (when stdout is a terminal; NO_COLOR turns them off), always, never",
    )
    c.add_quiet(p)
    p.set_defaults(func=run)
