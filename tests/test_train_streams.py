"""Training reads streams as streams (issue 9.10, the counting side): a FIFO or a pipe's
`/dev/fd/N` (what `<(zcat corpus.gz)` gives) used to be read as a 0-byte file, because its size
came from metadata. Counts from a stream must equal counts from the same bytes in a file, for any
text and chunk size (chunks are cut while reading, counted in parallel)."""

from __future__ import annotations

import os
import sys
import threading

import pytest
from fastbpe import training as T
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/fd")

EOT = "<|endoftext|>"
texts = st.lists(
    st.sampled_from(["hello", " world", "\n", "  ", EOT, "é世", "can't", "42", "\r\n", "x" * 50]),
    max_size=400,
).map("".join)


def _feed(fd: int, data: bytes) -> threading.Thread:
    def run() -> None:
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    t = threading.Thread(target=run)
    t.start()
    return t


@settings(max_examples=25, deadline=None)
@given(texts, st.sampled_from([1, 7, 64, 4096]))
def test_pipe_counts_equal_file_counts(tmp_path_factory, text, chunk_size):
    data = text.encode("utf-8")
    path = tmp_path_factory.mktemp("s") / "c.txt"
    path.write_bytes(data)
    want = T.count_words(str(path), [EOT], _chunk_size=chunk_size)
    r, w = os.pipe()
    writer = _feed(w, data)
    try:
        got = T.count_words(f"/dev/fd/{r}", [EOT], _chunk_size=chunk_size, threads=2)
    finally:
        writer.join()
        os.close(r)
    assert dict(got.items()) == dict(want.items())


def test_fifo_trains_like_the_file(tmp_path):
    text = ("the cat sat on the mat. " * 200 + EOT) * 20
    path = tmp_path / "c.txt"
    path.write_text(text, encoding="utf-8")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as f:
            f.write(text.encode())

    t = threading.Thread(target=write)
    t.start()
    got = T.train_bpe(str(fifo), 265, [EOT])
    t.join()
    assert got == T.train_bpe(str(path), 265, [EOT])
    assert len(got[1]) > 0  # not trained on 0 bytes


def test_bad_utf8_in_a_stream_names_it_and_the_offset(tmp_path):
    r, w = os.pipe()
    writer = _feed(w, b"hello world\n" * 1000 + b"\xff tail")
    try:
        with pytest.raises(ValueError, match=rf"/dev/fd/{r}.*12000"):
            T.count_words(f"/dev/fd/{r}", _chunk_size=100)
    finally:
        writer.join()
        os.close(r)


@settings(max_examples=25, deadline=None)
@given(st.lists(texts, max_size=6))
def test_count_iter_bytes_items_equal_str_items(docs):
    """`count_iter(..., bytes_items=True)` (for callers holding raw UTF-8 blocks, fastbpe.shards)
    counts exactly like the same texts as str."""
    from fastbpe import _fastbpe

    want = _fastbpe.count_iter(iter(docs), [EOT])
    got = _fastbpe.count_iter(iter([d.encode() for d in docs]), [EOT], bytes_items=True)
    assert dict(got.items()) == dict(want.items())


def test_count_iter_bytes_items_check_utf8():
    from fastbpe import _fastbpe

    with pytest.raises(ValueError, match="training text 1: invalid UTF-8 at byte offset 3"):
        _fastbpe.count_iter(iter([b"ok", b"bad\xff"]), [], bytes_items=True)
    got = _fastbpe.count_iter(iter([b"bad\xff"]), [], errors="replace", bytes_items=True)
    assert any(w.endswith("\ufffd".encode()) for w, _ in got.items())
    with pytest.raises(TypeError, match="str"):  # without the flag, bytes stay refused
        _fastbpe.count_iter(iter([b"ok"]), [])
