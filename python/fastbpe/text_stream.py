"""Text files as a stream of str blocks, cut where a tokenizer's ids cannot change: how compare,
account and the baselines read multi-GB corpora in bounded memory."""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Iterable, Iterator

BLOCK_BYTES = 4 << 20
# A stretch this long with no safe cut (a non-GPT-2 pattern with no special tokens, one huge
# line) is cut at its last newline anyway: memory stays bounded, counts may move by a token.
MAX_BUFFER_CHARS = 64 << 20


def read_blocks(path: str | os.PathLike[str], block_bytes: int = BLOCK_BYTES) -> Iterator[str]:
    """The file's text in blocks of about `block_bytes`; invalid UTF-8 becomes U+FFFD (a
    character split between two reads is decoded whole)."""
    dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with open(path, "rb") as f:
        while True:
            b = f.read(block_bytes)
            if not b:
                break
            s = dec.decode(b)
            if s:
                yield s
    tail = dec.decode(b"", final=True)
    if tail:
        yield tail


def cut_stream(
    blocks: Iterable[str],
    safe_cut: Callable[[str], int],
    max_buffer: int = MAX_BUFFER_CHARS,
) -> Iterator[str]:
    """Re-cuts `blocks` into pieces that each end where `safe_cut(buf)` (the last index at which
    cutting `buf` leaves every id unchanged, 0 for none) allows."""
    buf = ""
    for block in blocks:
        buf = buf + block if buf else block
        cut = safe_cut(buf)
        if cut <= 0 and len(buf) > max_buffer:
            cut = buf.rfind("\n") + 1 or len(buf)
        if cut > 0:
            yield buf[:cut]
            buf = buf[cut:]
    if buf:
        yield buf
