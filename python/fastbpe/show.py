"""See tokens, as the tiktokenizer web app shows them: in a terminal (alternating background
colours, visible whitespace) and as a self-contained HTML page whose hover card also shows each
token's merge history.

>>> print(tok.show("Hello world"))                 # colours in a terminal, `|` between tokens otherwise
>>> tok.visualize("Hello world")                   # Jupyter: the HTML view
>>> from fastbpe.show import write_html
>>> write_html([tok, other], text, "tokens.html")   # several tokenizers, one page

Whitespace is drawn as tiktokenizer draws it: `·` space, `→` tab, `⏎` newline (then a line
break). Bytes that are not whole UTF-8 characters (a character split between tokens) and control
characters are drawn as hex, e.g. `<e2 80>`; lone surrogates become U+FFFD (`�`) as in
`encode`. Every byte of the text is in exactly one drawn token, in order (tests/test_show.py).
"""

from __future__ import annotations

import html
import json
import os
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union

from ._text import fix_surrogates

StrPath = Union[str, "os.PathLike[str]"]
Color = Literal["auto", "always", "never"]

__all__ = ["Piece", "TokenView", "pieces", "render_terminal", "render_html", "write_html"]

# Run kinds of a drawn token: its text, a whitespace marker, a newline marker, hex bytes.
TEXT, SPACE, NEWLINE, HEX = "text", "ws", "nl", "hex"
_MARKS = {" ": "·", "\t": "→"}
PLAIN_SEPARATOR = "|"


@dataclass(frozen=True)
class Piece:
    """One token as drawn: its id, its bytes, whether it is special, and its runs
    ((kind, shown text) pairs; the shown texts joined are its label)."""

    id: int
    bytes: bytes
    special: bool
    runs: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        return "".join(s for _, s in self.runs)


def _hex(b: bytes) -> str:
    return "<" + " ".join(f"{x:02x}" for x in b) + ">"


def _char_runs(s: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for ch in s:
        if ch in _MARKS:
            out.append((SPACE, _MARKS[ch]))
        elif ch == "\n":
            out.append((NEWLINE, "⏎"))
        elif unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            # Control characters (ESC, CR, ...) would act on the terminal: drawn as their bytes.
            out.append((HEX, _hex(ch.encode("utf-8"))))
        elif out and out[-1][0] == TEXT:
            out[-1] = (TEXT, out[-1][1] + ch)
        else:
            out.append((TEXT, ch))
    return out


def runs_of(b: bytes) -> tuple[tuple[str, str], ...]:
    """How the bytes of one token are drawn: valid UTF-8 as text (whitespace marked), any byte
    that is not part of a whole character as hex."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(b):
        try:
            out += _char_runs(b[i:].decode("utf-8"))
            break
        except UnicodeDecodeError as e:
            if e.start:
                out += _char_runs(b[i : i + e.start].decode("utf-8"))
            out.append((HEX, _hex(b[i + e.start : i + e.end])))
            i += e.end
    return tuple(out)


def _is_bpe(tok: Any) -> bool:
    """A fastbpe `Tokenizer` (it has a Rust core with ranks), told apart structurally: this module
    sits below `tokenizer` (whose `show`/`visualize` call it), so it must not import it."""
    return hasattr(tok, "_core") and hasattr(tok, "special_tokens")


def _encode(tok: Any, text: str) -> tuple[list[int], list[bytes], set[int]]:
    if _is_bpe(tok):
        ids = tok.encode(text, allowed_special="all")
        return ids, tok.decode_tokens_bytes(ids), set(tok.special_tokens.values())
    ids = tok.encode(text)
    return ids, tok.decode_tokens_bytes(ids), set()


def pieces(tok: Any, text: str) -> list[Piece]:
    """`text` as drawn tokens (a `Tokenizer` or a baseline). Special-token text counts as the
    special token; lone surrogates become U+FFFD first."""
    if not isinstance(text, str):
        raise TypeError(f"expected text as str, got {type(text).__name__}")
    text = fix_surrogates(text)
    ids, tbytes, specials = _encode(tok, text)
    # Special tokens are drawn like any token (their whitespace and controls marked too), in
    # their own style.
    return [Piece(i, b, i in specials, runs_of(b)) for i, b in zip(ids, tbytes)]


# ----------------------------------------------------------------------------- terminal

# 256-colour pastel backgrounds (tiktokenizer's idea: neighbours never share a colour), black text.
_BACKGROUNDS = (153, 194, 223, 218, 189, 230)
_SGR_RESET = "\x1b[0m"


def _sgr(bg: int, kind: str, special: bool) -> str:
    fg = {SPACE: 244, NEWLINE: 244, HEX: 124}.get(kind, 16)
    bold = "1;" if special else ""
    return f"\x1b[{bold}38;5;{fg};48;5;{bg}m"


def use_color(color: Color, stream: Any = None) -> bool:
    """`always`, `never`, or `auto`: colour when the stream is a terminal and NO_COLOR is unset."""
    if color == "always":
        return True
    if color == "never":
        return False
    if color != "auto":
        raise ValueError(f"color must be 'auto', 'always' or 'never', got {color!r}")
    s = stream if stream is not None else sys.stdout
    return bool(getattr(s, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def render_terminal(ps: Sequence[Piece], *, color: bool) -> str:
    """The drawn text: with `color`, ANSI background colours alternate per token; without, the
    tokens are separated by `|`. A newline marker ends its line."""
    out: list[str] = []
    for n, p in enumerate(ps):
        bg = 203 if p.special else _BACKGROUNDS[n % len(_BACKGROUNDS)]
        if not color and n:
            out.append(PLAIN_SEPARATOR)
        for kind, s in p.runs:
            out.append(_sgr(bg, kind, p.special) + s + _SGR_RESET if color else s)
            if kind == NEWLINE:
                out.append("\n")
    return "".join(out)


def summary(name: str, ps: Sequence[Piece]) -> str:
    n = len(ps)
    nbytes = sum(len(p.bytes) for p in ps)
    ratio = f", {nbytes / n:.2f} bytes/token" if n else ""
    return f"{name}: {n:,} token{'s' if n != 1 else ''}, {nbytes:,} bytes{ratio}"


def show(
    tok: Any, text: str, *, ids: bool = False, color: Color = "auto", name: str | None = None
) -> str:
    """The terminal view of `text` under `tok`: a summary line, the drawn tokens, and the ids
    when asked."""
    ps = pieces(tok, text)
    lines = [summary(name or getattr(tok, "name", "tokenizer"), ps)]
    # A text's final newline is drawn (⏎); its line break would only add an empty line.
    lines.append(render_terminal(ps, color=use_color(color)).removesuffix("\n"))
    if ids:
        lines.append("ids: " + " ".join(str(p.id) for p in ps))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- HTML

_CSS = """
.fbv{font-family:system-ui,sans-serif;color:#222;max-width:1100px}
.fbv h2{font-size:15px;margin:18px 0 6px}
.fbv .sum{color:#555;font-size:13px;margin:0 0 6px}
.fbv .txt{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:15px;line-height:1.9;
white-space:pre-wrap;word-break:break-all;border:1px solid #ddd;border-radius:6px;padding:10px}
.fbv .t{border-radius:3px;padding:1px 0;cursor:default}
.fbv .t:hover{outline:2px solid #333}
.fbv .c0{background:#bfe0ff}.fbv .c1{background:#c8f0c8}.fbv .c2{background:#ffe0b8}
.fbv .c3{background:#ffc8dc}.fbv .c4{background:#dcd0ff}.fbv .c5{background:#fff4b0}
.fbv .sp{background:#ff8a80;font-weight:bold}
.fbv .ws{color:#888}.fbv .hex{color:#b00;font-size:12px}
.fbv .ids{font-family:ui-monospace,monospace;font-size:12px;color:#444;margin-top:6px;
word-break:break-all}
.fbv .tip{position:fixed;z-index:10;display:none;background:#fff;border:1px solid #999;
border-radius:6px;box-shadow:0 2px 10px rgba(0,0,0,.2);padding:8px 10px;font-size:13px;
max-width:560px}
.fbv .tip table{border-collapse:collapse;margin-top:4px}
.fbv .tip td{padding:1px 6px;font-family:ui-monospace,monospace;font-size:12px}
.fbv .tip .h{color:#555}
"""

# Fills the hover card from the JSON data; no network, no libraries.
_JS = """
(function(){
var root=document.getElementById(%(root)s);
var data=JSON.parse(document.getElementById(%(data)s).textContent);
var tip=root.querySelector('.tip');
/* The card replaces the native tooltip (kept in the markup for views where scripts are off). */
root.querySelectorAll('.t[title]').forEach(function(t){t.removeAttribute('title');});
function esc(s){return s.replace(/[&<>"]/g,function(c){return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});}
function card(sec,id){
  var t=data[sec].tokens[id], h='<b>id '+id+'</b>';
  if(t.rank!==null)h+=' &middot; rank '+t.rank;
  if(t.special)h+=' &middot; special token';
  h+='<div class="h">bytes ('+t.len+'): '+esc(t.hex)+'</div><div>'+esc(t.repr)+'</div>';
  if(t.note)h+='<div class="h">'+esc(t.note)+'</div>';
  if(t.merges.length){
    h+='<div class="h">merge history (BPE from bytes, lowest rank first):</div><table class="mh">';
    t.merges.forEach(function(m,k){h+='<tr><td>'+(k+1)+'.</td><td>'+esc(m[0])+' + '+esc(m[1])+
      '</td><td>&rarr; '+esc(m[2])+'</td><td>rank '+m[3]+'</td><td>id '+m[4]+'</td></tr>';});
    h+='</table>';
  }
  return h;
}
root.addEventListener('mouseover',function(e){
  var s=e.target.closest('.t'); if(!s||!root.contains(s))return;
  tip.innerHTML=card(s.dataset.s,s.dataset.id); tip.style.display='block';
  var r=s.getBoundingClientRect();
  tip.style.left=Math.min(r.left,window.innerWidth-580)+'px';
  tip.style.top=(r.bottom+6)+'px';
});
root.addEventListener('mouseout',function(e){
  var s=e.target.closest('.t'); if(s&&!s.contains(e.relatedTarget))tip.style.display='none';
});
})();
"""


def _token_info(table: Any, p: Piece, tok: Any) -> dict[str, Any]:
    info: dict[str, Any] = {
        "hex": " ".join(f"{x:02x}" for x in p.bytes),
        "repr": repr(p.bytes),
        "len": len(p.bytes),
        "special": p.special,
        "rank": None,
        "merges": [],
        "note": "",
    }
    if p.special:
        info["note"] = "special token: matched before pre-tokenization, never merged"
        return info
    if table is None:
        info["note"] = f"{getattr(tok, 'name', 'baseline')} tokenizer: no merges"
        return info
    info["rank"] = table.rank.get(p.bytes)
    if len(p.bytes) == 1:
        info["note"] = "a single byte: where every merge starts"
        return info
    steps, reached = table.history(p.bytes)
    info["merges"] = [[repr(m.left), repr(m.right), repr(m.merged), m.rank, m.id] for m in steps]
    if not reached:
        info["note"] = (
            "BPE from these bytes does not reach this token; it is produced only when a whole "
            "pre-token equals it"
        )
    return info


def _html_run(kind: str, s: str) -> str:
    e = html.escape(s)
    if kind == NEWLINE:  # the marker, then the line break itself (the text is pre-wrap)
        return f'<span class="ws">{e}</span>\n'
    if kind in (SPACE, HEX):
        return f'<span class="{kind}">{e}</span>'
    return e


_counter = [0]


def render_html(
    toks: Sequence[Any],
    text: str,
    *,
    names: Sequence[str] | None = None,
    ids: bool = False,
    page: bool = True,
    title: str = "fastbpe: tokens",
) -> str:
    """The HTML view of `text` under each tokenizer, one section each. `page=False` gives a
    fragment for Jupyter (same markup, CSS and script, scoped to one element)."""
    from .merge_history import MergeTable

    _counter[0] += 1
    uid = f"fbv{os.getpid()}x{_counter[0]}"
    sections, data = [], []
    for k, tok in enumerate(toks):
        name = names[k] if names else getattr(tok, "name", "tokenizer")
        ps = pieces(tok, text)
        table = MergeTable(tok) if _is_bpe(tok) else None
        infos: dict[str, Any] = {}
        spans = []
        for n, p in enumerate(ps):
            if str(p.id) not in infos:
                infos[str(p.id)] = _token_info(table, p, tok)
            cls = "sp" if p.special else f"c{n % 6}"
            inner = "".join(_html_run(kind, s) for kind, s in p.runs)
            spans.append(
                f'<span class="t {cls}" data-s="{k}" data-id="{p.id}" '
                f'title="id {p.id}">{inner}</span>'
            )
        data.append({"name": name, "tokens": infos})
        body = f'<h2>{html.escape(name)}</h2><p class="sum">{html.escape(summary(name, ps))}</p>'
        body += f'<div class="txt">{"".join(spans)}</div>'
        if ids:
            body += '<div class="ids">ids: ' + " ".join(str(p.id) for p in ps) + "</div>"
        sections.append(f'<section data-s="{k}">{body}</section>')
    # "<" escaped so the JSON can never close its <script> element.
    blob = json.dumps(data, ensure_ascii=True).replace("<", "\\u003c")
    js = _JS % {"root": json.dumps(uid), "data": json.dumps(uid + "-data")}
    frag = (
        f'<div class="fbv" id="{uid}"><style>{_CSS}</style>{"".join(sections)}'
        f'<div class="tip"></div>'
        f'<script type="application/json" id="{uid}-data">{blob}</script>'
        f"<script>{js}</script></div>"
    )
    if not page:
        return frag
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{frag}</body></html>"
    )


def write_html(
    toks: Sequence[Any],
    text: str,
    path: StrPath,
    *,
    names: Sequence[str] | None = None,
    ids: bool = False,
) -> None:
    """Writes the page (to a temporary name, then renamed: never half-written)."""
    write_page(path, render_html(toks, text, names=names, ids=ids))


def write_page(path: StrPath, page: str) -> None:
    """Writes an HTML page all or nothing (the core's atomic write: a unique temporary name
    beside `path`, then a rename)."""
    from . import _fastbpe

    _fastbpe.write_file_atomic(os.fspath(path), page.encode("utf-8"))


class TokenView:
    """What `Tokenizer.visualize` returns: HTML in Jupyter (`_repr_html_`), the terminal view
    as `str()`, `save(path)` for a standalone page."""

    def __init__(self, tok: Any, text: str) -> None:
        self._tok = tok
        self._text = text
        self.pieces = pieces(tok, text)

    def _repr_html_(self) -> str:
        return render_html([self._tok], self._text, page=False)

    def __str__(self) -> str:
        return show(self._tok, self._text, color="never")

    def __repr__(self) -> str:
        return f"<TokenView {summary(getattr(self._tok, 'name', 'tokenizer'), self.pieces)}>"

    def save(self, path: StrPath) -> None:
        write_html([self._tok], self._text, path)
