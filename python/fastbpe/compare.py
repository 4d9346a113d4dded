"""Compare tokenization schemes on one corpus (CS336 lecture 1): vocabulary size, tokens, bytes
per token (the compression ratio), UNK/OOV rate and encode speed.

>>> from fastbpe.compare import compare
>>> rows = compare("corpus.txt", ["gpt2", "my32k.json", "char", "byte", "word"])

Every tokenizer reads the file the same way: streamed in blocks cut where its ids cannot change
(text_stream), encoded on one thread, so the MB/s column compares like with like.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Union

from .text_stream import cut_stream, read_blocks

StrPath = Union[str, "os.PathLike[str]"]

__all__ = [
    "BASELINE_SPECS",
    "Stats",
    "compare",
    "count_tokens",
    "format_table",
    "load_spec",
    "plot",
]

BASELINE_SPECS = {
    "byte": "UTF-8 bytes (256 ids)",
    "char": "Unicode code points, the full range (0x110000 ids)",
    "char:N": "the N most frequent characters of the corpus, plus UNK",
    "word": "GPT-2 pre-tokens, the 50,000 most frequent in the corpus, plus UNK (word:N for N)",
    "word-ws": "whitespace-separated words, 50,000 most frequent, plus UNK (word-ws:N)",
}
DEFAULT_WORDS = 50_000


@dataclass(frozen=True)
class Stats:
    """One tokenizer on one corpus."""

    name: str
    n_vocab: int
    tokens: int
    bytes: int
    unk: int | None
    seconds: float

    @property
    def bytes_per_token(self) -> float:
        return self.bytes / self.tokens if self.tokens else 0.0

    @property
    def unk_rate(self) -> float | None:
        if self.unk is None:
            return None
        return self.unk / self.tokens if self.tokens else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_vocab": self.n_vocab,
            "tokens": self.tokens,
            "bytes": self.bytes,
            "bytes_per_token": self.bytes_per_token,
            "unk": self.unk,
            "unk_rate": self.unk_rate,
            "encode_mb_per_s": self.mb_per_s,
            "seconds": self.seconds,
        }


def _size(spec: str, default: int | None) -> int | None:
    _, _, n = spec.partition(":")
    if not n:
        return default
    try:
        v = int(n.replace("_", ""))
    except ValueError:
        raise ValueError(f"{spec!r}: expected {spec.split(':')[0]}:N with an integer N") from None
    if v < 2:
        raise ValueError(f"{spec!r}: N must be at least 2 (UNK and one entry)")
    return v


def load_spec(spec: str, corpus: StrPath | Sequence[StrPath] | None = None) -> Any:
    """A tokenizer from a name: `byte`, `char`, `char:N`, `word[:N]`, `word-ws[:N]` (baselines;
    those with a vocabulary build it from `corpus`), else anything `fastbpe.load` takes
    (a tokenizer file or `gpt2`)."""
    from .baselines import ByteTokenizer, CharTokenizer, WordTokenizer

    base = spec.split(":", 1)[0]
    if base == "byte" and spec == "byte":
        return ByteTokenizer()
    if base == "char":
        n = _size(spec, None)
        if n is None:
            return CharTokenizer()
        return CharTokenizer.from_file(_need(corpus, spec), max_size=n)
    if base in ("word", "word-ws"):
        n = _size(spec, DEFAULT_WORDS)
        assert n is not None
        mode = "whitespace" if base == "word-ws" else "gpt2"
        return WordTokenizer.from_file(_need(corpus, spec), max_size=n, mode=mode)
    from .io import load

    return load(spec)


def _need(corpus: Any, spec: str) -> Any:
    if corpus is None:
        raise ValueError(f"{spec!r} builds its vocabulary from a corpus; none was given")
    return corpus


def _encoder(tok: Any) -> Any:
    from .tokenizer import Tokenizer

    if isinstance(tok, Tokenizer):
        return lambda s: tok.encode_to_numpy(s, allowed_special="all")
    return tok.encode_to_numpy


def count_tokens(tok: Any, path: StrPath, name: str | None = None) -> Stats:
    """Encodes `path` with `tok`, streaming on one thread; counts tokens and UNKs, times the
    encoding alone (not the reading)."""
    encode = _encoder(tok)
    unk_id = getattr(tok, "unk_id", None)
    tokens = unk = 0
    seconds = 0.0
    warm = False
    for piece in cut_stream(read_blocks(path), tok._safe_cut):
        if not warm:  # first call pays one-time costs (lazy tables, page faults): not speed
            encode(piece[: 1 << 16])
            warm = True
        t0 = time.perf_counter()
        ids = encode(piece)
        seconds += time.perf_counter() - t0
        tokens += len(ids)
        if unk_id is not None:
            unk += int((ids == unk_id).sum())
    return Stats(
        name=name or getattr(tok, "name", "?"),
        n_vocab=int(tok.n_vocab),
        tokens=tokens,
        bytes=os.path.getsize(path),
        unk=unk if unk_id is not None else None,
        seconds=seconds,
    )


def compare(path: StrPath, specs: Sequence[str]) -> list[Stats]:
    """One row per tokenizer spec (see `load_spec`) on the file at `path`."""
    p = os.fspath(path)
    if os.path.isdir(p):
        raise IsADirectoryError(21, f"{p} is a directory; give a text file", p)
    if not os.path.isfile(p):
        raise FileNotFoundError(2, f"No such file: {p!r}", p)
    if os.path.getsize(p) == 0:
        raise ValueError(f"{p} is empty: nothing to compare")
    if not specs:
        raise ValueError("give at least one tokenizer to compare")
    return [count_tokens(load_spec(s, p), p, name=s) for s in specs]


def format_table(rows: Sequence[Stats]) -> str:
    head = ["tokenizer", "vocab", "tokens", "bytes/token", "UNK/OOV", "encode MB/s"]
    body = [
        [
            r.name,
            f"{r.n_vocab:,}",
            f"{r.tokens:,}",
            f"{r.bytes_per_token:.2f}",
            "-" if r.unk_rate is None else f"{100 * r.unk_rate:.2f}%",
            f"{r.mb_per_s:.1f}",
        ]
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    lines = []
    for i, row in enumerate([head, *body]):
        cells = [c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def plot(rows: Sequence[Stats], out: StrPath, title: str | None = None) -> None:
    """Compression (bytes/token) against vocabulary size, one labelled point per tokenizer,
    written as a PNG (needs matplotlib: `pip install fastbpe[plot]`)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "--plot needs matplotlib: pip install 'fastbpe[plot]' (or pip install matplotlib)"
        ) from None
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    # Tokenizers that land on the same point (byte and char:256) share one marker and label.
    points: dict[tuple[int, float], list[str]] = {}
    for r in rows:
        points.setdefault((r.n_vocab, round(r.bytes_per_token, 2)), []).append(r.name)
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    ax.scatter(xs, ys, s=60, color="tab:blue", zorder=3)
    for (x, y), names in points.items():
        ax.annotate(", ".join(names), (x, y), textcoords="offset points", xytext=(6, 6), fontsize=9)
    ax.set_xscale("log")
    ax.set_xlabel("vocabulary size (log scale)")
    ax.set_ylabel("bytes per token (higher: better compression)")
    ax.set_title(title or "compression vs vocabulary size")
    ax.grid(True, which="both", alpha=0.3)
    lo, hi = min(xs), max(xs)
    ax.set_xlim(lo / 2, hi * 3)
    ax.set_ylim(0, max(ys) * 1.2 + 0.1)
    fig.tight_layout()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    from . import _fastbpe

    _fastbpe.write_file_atomic(os.fspath(out), buf.getvalue())  # all or nothing
