"""Token formats (`encode_file(format=...)`, `fastbpe encode --format`, `load_tokens`): each file is
checked by a reader written here from the format's specification (Megatron-LM's `.idx`/`.bin` as
megatron-core's `IndexedDataset` reads them; llm.c's header as its `_load_data_shard` reads it; NumPy
`.npy`), for generated documents; plus megatron-core's own reader when it is installed."""

from __future__ import annotations

import os
import struct
import tempfile

import fastbpe
import numpy as np
import pytest
from fastbpe.cli import main
from fastbpe.token_formats import load_documents, load_tokens
from hypothesis import given, settings
from hypothesis import strategies as st

EOT = "<|endoftext|>"
MEGATRON_DTYPES = {
    1: np.uint8,
    2: np.int8,
    3: np.int16,
    4: np.int32,
    5: np.int64,
    6: np.float64,
    7: np.float32,
    8: np.uint16,
}


def read_megatron(prefix: str) -> list[np.ndarray]:
    """The documents of an indexed dataset, read from the layout alone: MMIDIDX\\x00\\x00, <Q version
    (1), <B dtype code, <Q sequence count, <Q document count, int32 lengths, int64 byte pointers,
    int64 document indices (sequence ranges), all little-endian; data in PREFIX.bin."""
    with open(prefix + ".idx", "rb") as f:
        assert f.read(9) == b"MMIDIDX\x00\x00"
        assert struct.unpack("<Q", f.read(8)) == (1,)
        (code,) = struct.unpack("<B", f.read(1))
        n_seq, n_doc = struct.unpack("<QQ", f.read(16))
        lengths = np.frombuffer(f.read(4 * n_seq), dtype="<i4")
        pointers = np.frombuffer(f.read(8 * n_seq), dtype="<i8")
        doc_idx = np.frombuffer(f.read(8 * n_doc), dtype="<i8")
        assert f.read() == b""
    # What IndexedDataset asserts on opening.
    assert lengths.shape[0] == n_seq == doc_idx[-1] and doc_idx[0] == 0
    dt = np.dtype(MEGATRON_DTYPES[code]).newbyteorder("<")
    data = open(prefix + ".bin", "rb").read()
    seqs = [np.frombuffer(data, dtype=dt, count=n, offset=p) for n, p in zip(lengths, pointers)]
    assert sum(len(s) for s in seqs) * dt.itemsize == len(data)
    return [np.concatenate(seqs[a:b]) for a, b in zip(doc_idx, doc_idx[1:])]


def read_llmc(path: str) -> np.ndarray:
    """llm.c's `.bin`: 256 int32 (magic, version, token count), then the tokens; the size must
    match the count exactly (its C loader checks that)."""
    with open(path, "rb") as f:
        header = np.frombuffer(f.read(256 * 4), dtype="<i4")
        kinds = {(20240520, 1): "<u2", (20240801, 7): "<u4"}
        dt = kinds[(int(header[0]), int(header[1]))]
        tokens = np.frombuffer(f.read(), dtype=dt)
    assert len(tokens) == header[2]
    return tokens


def split_after(ids: np.ndarray, token: int) -> list[np.ndarray]:
    """Reference documents: split after every `token`, a trailing rest is one more."""
    out, start = [], 0
    for i, t in enumerate(ids):
        if t == token:
            out.append(ids[start : i + 1])
            start = i + 1
    if start < len(ids):
        out.append(ids[start:])
    return out


docs = st.lists(st.text(st.sampled_from("ab é世 \n.'s1"), max_size=30), max_size=8)


@settings(max_examples=25, deadline=None)
@given(documents=docs, trailing=st.booleans(), dtype=st.sampled_from(["uint16", "uint32"]))
def test_every_format_matches_its_spec_reader(documents, trailing, dtype):
    enc = fastbpe.get_encoding("gpt2")
    text = EOT.join(documents) + (EOT if trailing and documents else "")
    want = np.array(enc.encode(text, allowed_special="all"), dtype=np.int64)
    want_docs = split_after(want, enc.eot_token)
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.txt")
        with open(src, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        for fmt, out in [("npy", "t.npy"), ("bin", "t.bin"), ("llmc", "l.bin"), ("megatron", "m")]:
            path = os.path.join(d, out)
            r = fastbpe.encode_file(enc, src, path, format=fmt, dtype=dtype)
            assert r.tokens == len(want) and r.format == fmt
            if fmt == "megatron":
                got_docs = read_megatron(path)
                ids = load_tokens(path + ".bin")
            else:
                if fmt == "npy":
                    ids = np.load(path)
                    assert ids.dtype == np.dtype(dtype)
                elif fmt == "bin":
                    ids = np.fromfile(path, dtype=np.dtype(dtype).newbyteorder("<"))
                else:
                    ids = read_llmc(path)
                offsets = np.load(path[:-4] + ".docs.npy")
                assert offsets[0] == 0 and offsets[-1] == len(ids)
                got_docs = [ids[a:b] for a, b in zip(offsets, offsets[1:])]
                assert np.array_equal(load_tokens(path, dtype=dtype), ids)
            assert np.array_equal(np.asarray(ids, dtype=np.int64), want)
            assert [list(x) for x in got_docs] == [list(x) for x in want_docs]
            assert list(np.diff(load_documents(path))) == [len(x) for x in want_docs]


def test_separator_between_files_marks_documents(tmp_path):
    enc = fastbpe.get_encoding("gpt2")
    paths = []
    for i, t in enumerate(["first file", "second\nfile", "third"]):
        (tmp_path / f"{i}.txt").write_text(t, encoding="utf-8")
        paths.append(str(tmp_path / f"{i}.txt"))
    out = str(tmp_path / "m")
    fastbpe.encode_file(enc, paths, out, format="megatron", separator=EOT)
    got = read_megatron(out)
    assert [enc.decode(list(x)) for x in got] == ["first file" + EOT, "second\nfile" + EOT, "third"]
    # No document token at all: one document.
    fastbpe.encode_file(enc, paths[0], str(tmp_path / "o.npy"), format="npy", allowed_special=())
    assert list(load_documents(str(tmp_path / "o.npy"))) == [0, len(enc.encode("first file"))]


def test_empty_input_is_a_valid_empty_file_in_every_format(tmp_path):
    enc = fastbpe.get_encoding("gpt2")
    (tmp_path / "e.txt").write_text("", encoding="utf-8")
    for fmt, out in [("npy", "t.npy"), ("bin", "t.bin"), ("llmc", "l.bin"), ("megatron", "m")]:
        path = str(tmp_path / out)
        fastbpe.encode_file(enc, str(tmp_path / "e.txt"), path, format=fmt)
        assert len(load_tokens(path + (".bin" if fmt == "megatron" else ""))) == 0
        assert list(load_documents(path)) == [0]
    assert read_megatron(str(tmp_path / "m")) == []


def test_errors_leave_no_files(tmp_path):
    enc = fastbpe.get_encoding("gpt2")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine text " * 1000 + b"\xff")
    for fmt, out in [("npy", "t.npy"), ("bin", "t.bin"), ("llmc", "l.bin"), ("megatron", "m")]:
        with pytest.raises(ValueError, match="invalid UTF-8"):
            fastbpe.encode_file(enc, str(bad), str(tmp_path / out), format=fmt)
        assert sorted(os.listdir(tmp_path)) == ["bad.txt"]
    with pytest.raises(ValueError, match=r"\.npy"):
        fastbpe.encode_file(enc, str(bad), str(tmp_path / "x.bin"), format="npy")
    with pytest.raises(ValueError, match="unknown token format"):
        fastbpe.encode_file(enc, str(bad), str(tmp_path / "x.bin"), format="parquet")


def test_load_tokens_detects_and_checks(tmp_path):
    enc = fastbpe.get_encoding("gpt2")
    (tmp_path / "a.txt").write_text("hello world " * 50, encoding="utf-8")
    want = np.array(enc.encode("hello world " * 50))
    fastbpe.encode_file(enc, str(tmp_path / "a.txt"), str(tmp_path / "l.bin"), format="llmc")
    fastbpe.encode_file(enc, str(tmp_path / "a.txt"), str(tmp_path / "m"), format="megatron")
    for p in ["l.bin", "m", "m.bin", "m.idx"]:
        assert np.array_equal(load_tokens(str(tmp_path / p)), want), p
    raw = (tmp_path / "l.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(raw[:-2])  # no longer an llm.c file: read as raw ids
    assert len(load_tokens(str(tmp_path / "cut.bin"))) == len(raw) // 2 - 1
    idx = (tmp_path / "m.idx").read_bytes()
    (tmp_path / "m.idx").write_bytes(idx[:40])
    with pytest.raises(ValueError, match="truncated"):
        load_tokens(str(tmp_path / "m"))


def test_cli_format(tmp_path, capsys):
    (tmp_path / "a.txt").write_text(("a story." + EOT) * 20, encoding="utf-8")
    out = str(tmp_path / "ds")
    assert (
        main(
            [
                "encode",
                "-t",
                "gpt2",
                str(tmp_path / "a.txt"),
                "--format",
                "megatron",
                "-o",
                out,
                "-q",
            ]
        )
        == 0
    )
    assert len(read_megatron(out)) == 20
    assert (
        main(
            ["encode", "-t", "gpt2", str(tmp_path / "a.txt"), "--format", "npy", "-o", out + ".bin"]
        )
        == 1
    )
    assert "npy" in capsys.readouterr().err


@pytest.mark.real_reader
def test_megatron_core_reads_it(tmp_path):
    """megatron-core's own reader. It needs torch, so CI (which checks the spec readers above)
    leaves it out: `pip install ".[real-readers]" && pytest -m real_reader` runs it."""
    import megatron.core.datasets.indexed_dataset as indexed
    enc = fastbpe.get_encoding("gpt2")
    (tmp_path / "a.txt").write_text(EOT.join(["one doc", "two docs", "three"]), encoding="utf-8")
    fastbpe.encode_file(enc, str(tmp_path / "a.txt"), str(tmp_path / "m"), format="megatron")
    ds = indexed.IndexedDataset(str(tmp_path / "m"))
    assert [enc.decode(list(ds[i])) for i in range(len(ds))] == [
        "one doc" + EOT,
        "two docs" + EOT,
        "three",
    ]
