"""A training report: one self-contained HTML page (inline SVG, no script, no network) showing how
a vocabulary was learned and how it does on a sample.

>>> from fastbpe.report import write_report
>>> write_report(tok, ["sample.txt"], "report.html")

Sections: token lengths (histogram); the frequency of each merge's pair over merge rank; the
first merges; compression on the sample against GPT-2's; tokens the sample never uses.

Where the frequencies come from: the trainer keeps no per-merge counts, so they are recomputed
on the sample by replaying the merges: each distinct pre-token of the sample (with its count) is
re-built from bytes, lowest rank first (merge_history.MergeTable.pair_counts), and just before a
merge first fires in it, the occurrences of its pair (times the pre-token's count) are added to
that merge. For a tokenizer trained on the sample itself this is exactly the pair count training
saw when it chose the pair (tests/test_report.py checks it against a naive trainer's counts).
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from . import _fastbpe
from .merge_history import MergeTable
from .text_stream import read_blocks

StrPath = Union[str, "os.PathLike[str]"]

__all__ = ["ReportData", "build_report", "render_report", "write_report"]

SAMPLE_BYTES = 8 << 20  # the sample read for the report (replaying costs ~1 s per 8 MB)
REPLAY_MAX_BYTES = 512  # longer pre-tokens are not replayed (quadratic); their count is shown
TOP_MERGES = 30
UNUSED_SHOWN = 200


@dataclass
class ReportData:
    """The numbers behind the page."""

    name: str
    n_vocab: int
    n_special: int
    lengths: dict[int, int]  # token length in bytes -> how many tokens
    merges: list[tuple[bytes, bytes, int, int]]  # (left, right, id, frequency on the sample)
    sample_name: str
    sample_bytes: int
    tokens: int
    gpt2_tokens: int | None
    gpt2_note: str
    unused: list[tuple[int, bytes]]  # (id, bytes) of mergeable tokens the sample never uses
    skipped_words: int = 0
    notes: list[str] = field(default_factory=list)


def _sample_text(paths: Sequence[StrPath], limit: int) -> Iterator[str]:
    left = limit
    for p in paths:
        for block in read_blocks(p, block_bytes=min(4 << 20, max(left, 1))):
            if left <= 0:
                return
            s = block[:left]  # chars, not bytes: a bound, not an exact cut
            left -= len(s.encode("utf-8"))
            yield s


def _load_gpt2() -> tuple[Any | None, str]:
    try:
        from .registry import get_encoding

        return get_encoding("gpt2"), ""
    except Exception as e:  # offline without GPT-2's files: the page says so
        first = str(e).strip().split("\n")[0]
        return None, f"GPT-2's vocabulary is not available here ({type(e).__name__}: {first})"


def build_report(
    tok: Any,
    sample: StrPath | Sequence[StrPath],
    *,
    sample_bytes: int = SAMPLE_BYTES,
    compare_gpt2: bool = True,
) -> ReportData:
    """Counts the sample's pre-tokens (its first `sample_bytes`), replays the merges on them,
    encodes it with `tok` (and GPT-2 when its files are available)."""
    paths = [sample] if isinstance(sample, (str, os.PathLike)) else list(sample)
    for p in paths:
        if not os.path.isfile(p):
            raise FileNotFoundError(2, f"No such sample file: {os.fspath(p)!r}", os.fspath(p))
    table = MergeTable(tok)
    specials = tok.special_tokens
    special_ids = set(specials.values())
    vocab = tok.vocab
    lengths: dict[int, int] = {}
    for i, b in vocab.items():
        if i not in special_ids:
            lengths[len(b)] = lengths.get(len(b), 0) + 1

    counts = _fastbpe.count_iter(
        _sample_text(paths, sample_bytes), list(specials), tok.pattern, errors="replace"
    )
    freq: dict[int, int] = {}
    used: set[int] = set()
    skipped = 0
    for word, n in counts.items():
        whole = table.id.get(word)
        if len(word) > REPLAY_MAX_BYTES:
            skipped += n
            if whole is not None:
                used.add(whole)
            else:
                used.update(tok.encode_ordinary(word.decode("utf-8", "replace")))
            continue
        for r, k in table.pair_counts(word):
            freq[r] = freq.get(r, 0) + k * n
        if whole is not None:  # a pre-token that is itself a token is that one token
            used.add(whole)
        else:
            used.update(table.id[p] for p in table.replay(word)[0])

    merged = [(b, i, r) for r, (b, i) in enumerate(tok._core.ranked()) if len(b) >= 2]
    merges = []
    for b, i, r in merged:
        steps, _ = table.history(b)
        left, right = (steps[-1].left, steps[-1].right) if steps else (b[:1], b[1:])
        merges.append((left, right, i, freq.get(r, 0)))

    text_parts = list(_sample_text(paths, sample_bytes))
    nbytes = sum(len(s.encode("utf-8")) for s in text_parts)
    ntok = sum(len(tok.encode_to_numpy(s, allowed_special="all")) for s in text_parts)
    gpt2_tokens, note = None, ""
    if compare_gpt2:
        gpt2, note = _load_gpt2()
        if gpt2 is not None:
            gpt2_tokens = sum(
                len(gpt2.encode_to_numpy(s, allowed_special="all")) for s in text_parts
            )
    else:
        note = "comparison with GPT-2 not requested"
    unused = sorted((i, b) for i, b in vocab.items() if i not in special_ids and i not in used)
    name = ", ".join(os.path.basename(os.fspath(p)) for p in paths)
    return ReportData(
        name=tok.name,
        n_vocab=tok.n_vocab,
        n_special=len(specials),
        lengths=lengths,
        merges=merges,
        sample_name=name,
        sample_bytes=nbytes,
        tokens=ntok,
        gpt2_tokens=gpt2_tokens,
        gpt2_note=note,
        unused=unused,
        skipped_words=skipped,
    )


# ----------------------------------------------------------------------------- SVG


def _bars_svg(values: Sequence[tuple[str, int]], *, w: int = 720, h: int = 260) -> str:
    pad_l, pad_b, pad_t = 50, 40, 12
    vmax = max((v for _, v in values), default=1) or 1
    bw = (w - pad_l - 10) / max(len(values), 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" class="chart">']
    y0 = h - pad_b
    out.append(f'<line x1="{pad_l}" y1="{y0}" x2="{w - 5}" y2="{y0}" stroke="#333"/>')
    for k in range(5):
        v = vmax * k / 4
        y = y0 - (y0 - pad_t) * k / 4
        out.append(f'<line x1="{pad_l}" y1="{y:.1f}" x2="{w - 5}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{pad_l - 6}" y="{y + 4:.1f}" text-anchor="end">{v:,.0f}</text>')
    for n, (label, v) in enumerate(values):
        bh = (y0 - pad_t) * v / vmax
        x = pad_l + n * bw
        out.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{y0 - bh:.1f}" width="{max(bw - 2, 1):.1f}" '
            f'height="{bh:.1f}" fill="#4a90d9"><title>{html.escape(label)} bytes: {v:,} tokens'
            "</title></rect>"
        )
        out.append(
            f'<text x="{x + bw / 2:.1f}" y="{y0 + 15}" text-anchor="middle">{html.escape(label)}</text>'
        )
    out.append(
        f'<text x="{(w + pad_l) / 2}" y="{h - 6}" text-anchor="middle">token length (bytes)</text>'
    )
    out.append("</svg>")
    return "".join(out)


def _curve_svg(freqs: Sequence[int], *, w: int = 720, h: int = 300) -> str:
    """Pair count over merge rank, log y, in at most 500 buckets (mean: red; max: grey)."""
    import math

    pad_l, pad_b, pad_t = 60, 40, 12
    n = len(freqs)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" class="chart">']
    y0 = h - pad_b
    out.append(f'<line x1="{pad_l}" y1="{y0}" x2="{w - 5}" y2="{y0}" stroke="#333"/>')
    out.append(f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{y0}" stroke="#333"/>')
    top = max(freqs, default=0)
    if n == 0 or top == 0:
        out.append(
            f'<text x="{w / 2}" y="{h / 2}" text-anchor="middle">no merges fire on the sample</text></svg>'
        )
        return "".join(out)
    decades = max(1, math.ceil(math.log10(top + 1)))

    def ypos(v: float) -> float:
        return y0 - (y0 - pad_t) * math.log10(v + 1) / decades

    for d in range(decades + 1):
        y = ypos(10**d - 1)
        out.append(f'<line x1="{pad_l}" y1="{y:.1f}" x2="{w - 5}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{pad_l - 6}" y="{y + 4:.1f}" text-anchor="end">{10**d:,}</text>')
    # Buckets of merges: the max as a thin grey line, the mean as the red curve.
    step = max(1, math.ceil(n / 500))
    hi_pts, mean_pts = [], []
    for s in range(0, n, step):
        bucket = freqs[s : s + step]
        x = pad_l + (w - pad_l - 10) * (s / max(n - 1, 1))
        hi_pts.append(f"{x:.1f},{ypos(max(bucket)):.1f}")
        mean_pts.append(f"{x:.1f},{ypos(sum(bucket) / len(bucket)):.1f}")
    out.append(
        '<polyline class="max" fill="none" stroke="#bbb" stroke-width="1" '
        f'points="{" ".join(hi_pts)}"/>'
    )
    out.append(
        '<polyline class="curve" fill="none" stroke="#d9534f" stroke-width="2" '
        f'points="{" ".join(mean_pts)}"/>'
    )
    for k in range(5):
        r = round((n - 1) * k / 4)
        x = pad_l + (w - pad_l - 10) * (r / max(n - 1, 1))
        anchor = "end" if k == 4 else "middle"
        out.append(f'<text x="{x:.1f}" y="{y0 + 15}" text-anchor="{anchor}">{r:,}</text>')
    out.append(
        f'<text x="{(w + pad_l) / 2}" y="{h - 6}" text-anchor="middle">merge (0 = first learned)</text>'
    )
    out.append("</svg>")
    return "".join(out)


def _vis(b: bytes) -> str:
    from .show import runs_of

    return "".join(s for _, s in runs_of(b))


_CSS = """
body{font-family:system-ui,sans-serif;color:#222;max-width:980px;margin:20px auto;padding:0 14px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.chart text{font-size:11px;fill:#444}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code,.tok{font-family:ui-monospace,Menlo,Consolas,monospace;background:#f3f3f3;border-radius:3px;padding:0 3px}
.note{color:#8a5a00;background:#fff7e0;border:1px solid #f0d890;border-radius:4px;padding:6px 10px}
.unused .tok{display:inline-block;margin:2px}
.muted{color:#666;font-size:13px}
"""


def render_report(d: ReportData) -> str:
    """The page's HTML."""
    e = html.escape
    maxlen = max(d.lengths, default=1)
    cap = 24
    bars = [(str(k), d.lengths.get(k, 0)) for k in range(1, min(maxlen, cap) + 1)]
    if maxlen > cap:
        bars.append((f"{cap + 1}+", sum(v for k, v in d.lengths.items() if k > cap)))
    freqs = [f for _, _, _, f in d.merges]
    body = [f"<h1>Tokenizer report: {e(d.name)}</h1>"]
    body.append(
        f"<p>{d.n_vocab:,} ids: {d.n_special} special, {sum(d.lengths.values()):,} mergeable "
        f"({len(d.merges):,} merges). Sample: {e(d.sample_name)}, {d.sample_bytes:,} bytes.</p>"
    )
    body.append("<h2>Token lengths</h2>" + _bars_svg(bars))
    body.append(
        "<h2>Frequency of each chosen pair, over merge rank</h2>"
        '<p class="muted">Recomputed on the sample by replaying the merges (the trainer keeps no '
        "per-merge counts): each pair's count in the sample's pre-tokens just before its merge. "
        "On the training corpus itself this is the count training saw when it chose the "
        "pair. Red: mean over buckets of merges; grey: their maximum.</p>" + _curve_svg(freqs)
    )
    if d.skipped_words:
        body.append(
            f'<p class="muted">{d.skipped_words:,} pre-token occurrences longer than '
            f"{REPLAY_MAX_BYTES} bytes were not replayed.</p>"
        )

    def merge_rows(items: list[tuple[int, tuple[bytes, bytes, int, int]]]) -> str:
        return "".join(
            f'<tr><td class="n">{k}</td><td><span class="tok">{e(_vis(lft))}</span> + '
            f'<span class="tok">{e(_vis(rgt))}</span></td><td><span class="tok">'
            f'{e(_vis(lft + rgt))}</span></td><td class="n">{i}</td><td class="n">{f:,}</td></tr>'
            for k, (lft, rgt, i, f) in items
        )

    head = (
        "<table><tr><th>merge</th><th>pair</th><th>token</th><th>id</th>"
        "<th>frequency on sample</th></tr>"
    )
    first = list(enumerate(d.merges))[:TOP_MERGES]
    body.append(f"<h2>First {len(first)} merges</h2>{head}{merge_rows(first)}</table>")
    # On a held-out sample the most frequent merges are not the first ones learned.
    frequent = sorted(enumerate(d.merges), key=lambda km: (-km[1][3], km[0]))[:TOP_MERGES]
    body.append(
        f"<h2>Most frequent {len(frequent)} merges on the sample</h2>{head}"
        f"{merge_rows(frequent)}</table>"
    )
    comp = "<h2>Compression on the sample</h2><table><tr><th>tokenizer</th><th>tokens</th><th>bytes/token</th></tr>"
    bpt = d.sample_bytes / d.tokens if d.tokens else 0.0
    comp += (
        f'<tr><td>{e(d.name)}</td><td class="n">{d.tokens:,}</td><td class="n">{bpt:.2f}</td></tr>'
    )
    if d.gpt2_tokens is not None:
        g = d.sample_bytes / d.gpt2_tokens if d.gpt2_tokens else 0.0
        comp += (
            f'<tr><td>gpt2</td><td class="n">{d.gpt2_tokens:,}</td><td class="n">{g:.2f}</td></tr>'
        )
    comp += "</table>"
    if d.gpt2_tokens is None:
        comp += f'<p class="note">No GPT-2 comparison: {e(d.gpt2_note)}.</p>'
    body.append(comp)
    shown = "".join(
        f'<span class="tok" title="id {i}">{e(_vis(b))}</span>' for i, b in d.unused[:UNUSED_SHOWN]
    )
    more = f" (first {UNUSED_SHOWN} by id shown)" if len(d.unused) > UNUSED_SHOWN else ""
    body.append(
        f"<h2>Tokens the sample never uses: {len(d.unused):,}</h2>"
        f'<p class="muted">Mergeable tokens that encoding the sample never outputs{more}. Many '
        "are steps on the way to longer tokens.</p>"
        f'<div class="unused">{shown}</div>'
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>fastbpe report: {e(d.name)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )


def write_report(
    tok: Any,
    sample: StrPath | Sequence[StrPath],
    path: StrPath,
    *,
    sample_bytes: int = SAMPLE_BYTES,
    compare_gpt2: bool = True,
) -> ReportData:
    """Builds the report on `sample` and writes the page to `path` (temporary name, then
    renamed: never half-written). Returns the numbers."""
    d = build_report(tok, sample, sample_bytes=sample_bytes, compare_gpt2=compare_gpt2)
    from .show import write_page

    write_page(path, render_report(d))
    return d
