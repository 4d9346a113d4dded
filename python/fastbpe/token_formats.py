"""The token file formats LM training stacks read, written streaming, with document boundaries.

``format=`` in `encode_file` / ``fastbpe encode --format``:

* ``"npy"``: ``OUT.npy``, a 1-D NumPy array (``numpy.load(path, mmap_mode="r")``; dolma-style
  memmaps), plus the document index ``OUT.docs.npy``.
* ``"bin"``: ``OUT.bin``, raw little-endian ids (nanoGPT's headerless ``train.bin``), plus
  ``OUT.docs.npy``.
* ``"llmc"``: ``OUT.bin`` in llm.c's layout: a header of 256 int32 (magic 20240520, version 1,
  token count) then uint16 ids; magic 20240801 with version 7 and uint32 ids when the vocabulary
  needs them (as llm.c's ``dev/data/data_common.py`` writes them); plus ``OUT.docs.npy``.
* ``"megatron"``: Megatron-LM's indexed dataset ``PREFIX.bin`` + ``PREFIX.idx``, as megatron-core's
  ``IndexedDataset(PREFIX)`` reads it: ``.bin`` holds the ids (uint16, or int32 when the
  vocabulary needs more than 16 bits); ``.idx`` is ``MMIDIDX\\x00\\x00``, u64 version 1, u8 dtype
  code (8 = uint16, 4 = int32), u64 sequence count, u64 document count, then int32 sequence
  lengths, int64 byte pointers and int64 document indices. Each document is one sequence.

Documents: the stream is split *after* each occurrence of the document token, the
``separator`` given to `encode_file`, else the tokenizer's ``<|endoftext|>`` when it is
recognized; a trailing part after the last one is a document too. With no document token the
whole output is one document. The document index ``*.docs.npy`` is an int64 array of
``n_documents + 1`` token offsets: document ``i`` is ``ids[docs[i]:docs[i + 1]]``.

All or nothing: every file is written under a temporary name beside its final one and renamed
into place only when all are complete (the index last); an error or Ctrl-C removes them all.

Performance notes: the ids are produced once, as raw little-endian ids in a temporary file, by the
Rust streaming encoder (`encode_file`) or the shard encoder (`fastbpe.shards`); each format is then
built from that file in blocks of 4M ids: a rename for ``bin`` and ``megatron`` data, a header plus
one sequential copy for ``npy`` and ``llmc`` (about 1 GB/s here, against 30-60 MB/s of text
encoding, i.e. under 2% of the run, at the price of the token file's size in temporary disk
space), and two passes of ``ids == doc_token`` over the memory-mapped ids for the document index
(one counts documents so that the index files can be sized and filled in place, the other fills
them). Memory stays at a few blocks whatever the corpus size. Building the formats in Rust would
save the copy, but the encoder belongs to one module and this keeps it single-purpose.
"""

from __future__ import annotations

import os
import shutil
import struct
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

StrPath = Union[str, "os.PathLike[str]"]

__all__ = ["FORMATS", "Written", "format_paths", "load_documents", "load_tokens", "write_tokens"]

FORMATS = ("npy", "bin", "megatron", "llmc")

MEGATRON_HEADER = b"MMIDIDX\x00\x00"
MEGATRON_DTYPE_CODES = {"uint16": 8, "int32": 4}
LLMC_HEADER_INTS = 256
LLMC_MAGIC = {"uint16": (20240520, 1), "uint32": (20240801, 7)}
_BLOCK = 1 << 22  # ids per block when scanning


@dataclass(frozen=True)
class Written:
    """What `write_tokens` produced."""

    paths: list[str]
    tokens: int
    documents: int
    dtype: str


def _docs_path(data_path: str) -> str:
    root, ext = os.path.splitext(data_path)
    return (root if ext in (".npy", ".bin") else data_path) + ".docs.npy"


def _megatron_prefix(output: str) -> str:
    return output[:-4] if output.endswith((".bin", ".idx")) else output


def format_paths(output: StrPath, format: str) -> list[str]:
    """The files `format` writes for `output`, data first (the document index last)."""
    out = os.fspath(output)
    if format == "megatron":
        prefix = _megatron_prefix(out)
        return [prefix + ".bin", prefix + ".idx"]
    if format in ("npy", "bin", "llmc"):
        want = ".npy" if format == "npy" else ".bin"
        if not out.endswith(want):
            raise ValueError(f"{out}: format {format!r} writes a {want} file; name it *{want}")
        return [out, _docs_path(out)]
    raise ValueError(f"unknown token format {format!r}; choose one of {', '.join(FORMATS)}")


def _temp_name(path: str, tag: str) -> str:
    d, name = os.path.split(path)
    return os.path.join(d, f".{name}.{tag}.tmp")


def write_tokens(
    output: StrPath,
    format: str,
    dtype: str,
    doc_token: int | None,
    produce: Callable[[str], Any],
    *,
    index: bool = True,
) -> tuple[Written, Any]:
    """Writes `format` for `output`: `produce(raw_path)` writes the ids as raw little-endian
    `dtype` to `raw_path` (a temporary file beside the output); its result is returned beside
    what was written. All or nothing (see the module docstring). ``index=False`` leaves out the
    ``*.docs.npy`` document index of npy, bin and llmc (the plain token file of old)."""
    import numpy as np

    finals = format_paths(output, format)
    if not index and format != "megatron":
        finals = finals[:1]
    if dtype not in ("uint16", "uint32"):
        raise ValueError(f"dtype must be uint16 or uint32, got {dtype!r}")
    if format == "llmc" and dtype not in LLMC_MAGIC:
        raise ValueError(f"llm.c files hold uint16 or uint32 ids, not {dtype}")
    tag = uuid.uuid4().hex[:12]
    raw = _temp_name(finals[0], tag + ".ids")
    temps = [_temp_name(p, tag) for p in finals]
    renamed: list[str] = []
    try:
        produced = produce(raw)
        item = np.dtype(dtype).itemsize
        size = os.path.getsize(raw)
        if size % item:
            raise ValueError(
                f"internal error: {size} bytes of ids is not a whole number of {dtype}"
            )
        n = size // item
        ids = _raw_ids(raw, dtype, n)

        def ends() -> Iterator[npt.NDArray[np.int64]]:  # two passes over the same blocks
            return _doc_ends(ids, doc_token)

        n_docs = sum(len(e) for e in ends())
        if format == "megatron":
            os.replace(raw, temps[0])
            _write_megatron_idx(temps[1], dtype, ends(), n_docs)
        else:
            if format == "bin":
                os.replace(raw, temps[0])
            else:
                with open(temps[0], "wb") as out:
                    if format == "npy":
                        header = {
                            "descr": np.dtype(dtype).newbyteorder("<").str,
                            "fortran_order": False,
                            "shape": (n,),
                        }
                        np.lib.format.write_array_header_1_0(out, header)
                    else:
                        out.write(_llmc_header(dtype, n))
                    with open(raw, "rb") as src:
                        shutil.copyfileobj(src, out, 16 << 20)
                os.unlink(raw)
            if index:
                _write_doc_index(temps[1], ends(), n_docs)
        for tmp, final in zip(temps, finals):
            os.replace(tmp, final)
            renamed.append(final)
    except BaseException:
        for p in [raw, *temps, *renamed]:
            try:
                os.unlink(p)
            except OSError:
                pass
        raise
    return Written(paths=finals, tokens=n, documents=n_docs, dtype=dtype), produced


def _dtype_name(dtype: Any) -> str:
    """'uint16' or 'uint32' for a numpy dtype-like; ValueError for anything else."""
    import numpy as np

    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise ValueError(f"dtype must be uint16 or uint32, got {dtype!r}") from e
    if dt == np.dtype(np.uint16):
        return "uint16"
    if dt == np.dtype(np.uint32):
        return "uint32"
    raise ValueError(f"dtype must be uint16 or uint32, got {dt}")


def _raw_ids(path: str, dtype: str, n: int) -> npt.NDArray[Any]:
    import numpy as np

    if n == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=np.dtype(dtype).newbyteorder("<"), mode="r", shape=(n,))


def _doc_ends(ids: npt.NDArray[Any], doc_token: int | None) -> Iterator[npt.NDArray[np.int64]]:
    """Exclusive end offsets of the documents, block by block, in order."""
    import numpy as np

    n = len(ids)
    if doc_token is None:
        if n:
            yield np.array([n], dtype=np.int64)
        return
    last = 0
    for start in range(0, n, _BLOCK):
        block = ids[start : start + _BLOCK]
        ends = np.flatnonzero(block == doc_token).astype(np.int64) + (start + 1)
        if len(ends):
            last = int(ends[-1])
            yield ends
    if last < n:
        yield np.array([n], dtype=np.int64)


def _write_doc_index(path: str, ends: Iterator[npt.NDArray[np.int64]], n_docs: int) -> None:
    import numpy as np

    offsets = np.lib.format.open_memmap(path, mode="w+", dtype=np.int64, shape=(n_docs + 1,))
    offsets[0] = 0
    i = 1
    for e in ends:
        offsets[i : i + len(e)] = e
        i += len(e)
    offsets.flush()
    del offsets


def _llmc_header(dtype: str, n: int) -> bytes:
    import numpy as np

    if n >= 1 << 31:
        raise ValueError(
            f"{n:,} tokens do not fit in one llm.c file (its header counts them in an int32); "
            "encode in shards (--shard I/N or fastbpe.dask.encode_files)"
        )
    header = np.zeros(LLMC_HEADER_INTS, dtype="<i4")
    header[0], header[1] = LLMC_MAGIC[dtype]
    header[2] = n
    return header.tobytes()


def _write_megatron_idx(
    path: str, dtype: str, ends: Iterator[npt.NDArray[np.int64]], n_docs: int
) -> None:
    import numpy as np

    code = MEGATRON_DTYPE_CODES["uint16" if dtype == "uint16" else "int32"]
    item = np.dtype(dtype).itemsize
    head = MEGATRON_HEADER + struct.pack("<QBQQ", 1, code, n_docs, n_docs + 1)
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(len(head) + n_docs * (4 + 8) + (n_docs + 1) * 8)
    if n_docs == 0:
        with open(path, "r+b") as f:
            f.seek(len(head))
            f.write(np.zeros(1, dtype="<i8").tobytes())
        return
    mm = np.memmap(path, dtype=np.uint8, mode="r+")
    off = len(head)
    lengths = np.ndarray((n_docs,), dtype="<i4", buffer=mm, offset=off)
    pointers = np.ndarray((n_docs,), dtype="<i8", buffer=mm, offset=off + 4 * n_docs)
    doc_idx = np.ndarray((n_docs + 1,), dtype="<i8", buffer=mm, offset=off + 12 * n_docs)
    prev, i = 0, 0
    for e in ends:
        starts = np.concatenate(([prev], e[:-1]))
        length = e - starts
        if length.max() >= 1 << 31:
            raise ValueError(
                "a document of 2^31 tokens or more does not fit Megatron's int32 lengths"
            )
        lengths[i : i + len(e)] = length
        pointers[i : i + len(e)] = starts * item
        prev, i = int(e[-1]), i + len(e)
    doc_idx[:] = np.arange(n_docs + 1, dtype=np.int64)
    mm.flush()
    del lengths, pointers, doc_idx, mm


# ----------------------------------------------------------------------------- reading back


def _detect(path: str) -> str:
    if path.endswith(".idx") or (
        not os.path.exists(path) and os.path.exists(_megatron_prefix(path) + ".idx")
    ):
        return "megatron"
    with open(path, "rb") as f:
        head = f.read(LLMC_HEADER_INTS * 4)
    if head[:6] == b"\x93NUMPY":
        return "npy"
    if path.endswith(".bin") and os.path.exists(path[:-4] + ".idx"):
        with open(path[:-4] + ".idx", "rb") as f:
            if f.read(9) == MEGATRON_HEADER:
                return "megatron"
    if len(head) == LLMC_HEADER_INTS * 4:
        magic, version, n = struct.unpack("<iii", head[:12])
        for dt, (m, v) in LLMC_MAGIC.items():
            item = 2 if dt == "uint16" else 4
            if (magic, version) == (m, v) and os.path.getsize(path) == len(head) + n * item:
                return "llmc"
    return "bin"


def _megatron_index(
    prefix: str,
) -> tuple[str, npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
    import numpy as np

    idx = prefix + ".idx"
    with open(idx, "rb") as f:
        head = f.read(34)
    if len(head) < 34 or head[:9] != MEGATRON_HEADER:
        raise ValueError(f"{idx}: not a Megatron-LM index file (no MMIDIDX header)")
    version, code, n_seq, n_doc = struct.unpack("<QBQQ", head[9:])
    if version != 1:
        raise ValueError(f"{idx}: Megatron index version {version}; only version 1 is known")
    names = {v: k for k, v in MEGATRON_DTYPE_CODES.items()}
    if code not in names:
        raise ValueError(f"{idx}: token dtype code {code} is not uint16 (8) or int32 (4)")
    need = 34 + n_seq * 12 + n_doc * 8
    if os.path.getsize(idx) < need:
        raise ValueError(f"{idx}: truncated ({os.path.getsize(idx)} bytes, need {need})")
    mm = np.memmap(idx, dtype=np.uint8, mode="r")
    lengths = np.frombuffer(mm, dtype="<i4", count=n_seq, offset=34)
    pointers = np.frombuffer(mm, dtype="<i8", count=n_seq, offset=34 + 4 * n_seq)
    docs = np.frombuffer(mm, dtype="<i8", count=n_doc, offset=34 + 12 * n_seq)
    return names[code], lengths, pointers, docs


def load_tokens(
    path: StrPath, dtype: Any = None, *, mmap: bool = True, format: str | None = None
) -> npt.NDArray[Any]:
    """The ids of a token file in any of `FORMATS`, as one 1-D array (memory-mapped by default).

    The format is detected when not given: ``.npy`` by its magic, llm.c by its header (magic,
    version and a size that matches the token count), Megatron by ``PREFIX.idx`` beside
    ``PREFIX.bin`` (pass either path or the prefix); anything else is a raw ``.bin`` of
    `dtype` (default uint16).
    """
    import numpy as np

    p = os.fspath(path)
    fmt = format or _detect(p)
    if fmt not in FORMATS:
        raise ValueError(f"unknown token format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "npy":
        return np.load(p, mmap_mode="r" if mmap else None)
    if fmt == "megatron":
        prefix = _megatron_prefix(p)
        dt, lengths, _, _ = _megatron_index(prefix)
        n = int(lengths.sum(dtype=np.int64))
        return _array(prefix + ".bin", np.dtype(dt).newbyteorder("<"), 0, n, mmap)
    if fmt == "llmc":
        with open(p, "rb") as f:
            magic, version, n = struct.unpack("<iii", f.read(12))
        for dt, mv in LLMC_MAGIC.items():
            if mv == (magic, version):
                return _array(p, np.dtype(dt).newbyteorder("<"), LLMC_HEADER_INTS * 4, n, mmap)
        raise ValueError(f"{p}: not an llm.c token file (magic {magic}, version {version})")
    dt = np.dtype(_dtype_name(dtype if dtype is not None else np.uint16)).newbyteorder("<")
    size = os.path.getsize(p)
    if size % dt.itemsize:
        raise ValueError(f"{p}: {size} bytes is not a whole number of {dt.name} ids; wrong dtype?")
    return _array(p, dt, 0, size // dt.itemsize, mmap)


def _array(path: str, dt: Any, offset: int, n: int, mmap: bool) -> npt.NDArray[Any]:
    import numpy as np

    have = (os.path.getsize(path) - offset) // dt.itemsize
    if have < n:
        raise ValueError(f"{path}: truncated: {have:,} ids, the header says {n:,}")
    if n == 0:
        return np.zeros(0, dtype=dt)
    if mmap:
        return np.memmap(path, dtype=dt, mode="r", offset=offset, shape=(n,))
    with open(path, "rb") as f:
        f.seek(offset)
        return np.fromfile(f, dtype=dt, count=n)


def load_documents(path: StrPath, *, format: str | None = None) -> npt.NDArray[np.int64]:
    """Document boundaries of a token file written with ``format=``: int64 offsets, one more
    than there are documents; document ``i`` is ``ids[docs[i]:docs[i + 1]]``."""
    import numpy as np

    p = os.fspath(path)
    fmt = format or _detect(p)
    if fmt == "megatron":
        _, lengths, _, docs = _megatron_index(_megatron_prefix(p))
        starts = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))
        return starts[docs]
    side = _docs_path(p)
    if not os.path.exists(side):
        raise FileNotFoundError(
            2, f"no document index {side} beside {p} (write it with encode_file(format=...))", side
        )
    return np.load(side)
