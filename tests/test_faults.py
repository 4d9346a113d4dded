"""Faults: corrupted or truncated tokenizer files, wrong format versions, a full disk.

Every failure must be a Python exception of a documented kind (ValueError for malformed files,
OSError for I/O) whose message names the file, never a crash; and writing (token files,
tokenizer files) is all or nothing: nothing half-written under the final name.
"""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import fastbpe
import pytest
from fastbpe import io as _io
from fastbpe import training as _training

load = getattr(fastbpe, "load", _io.load)
save = getattr(fastbpe, "save", _io.save)
encode_file = getattr(fastbpe, "encode_file", _io.encode_file)
train = getattr(fastbpe, "train", _training.train)

EOT = "<|endoftext|>"
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def small_tok():
    corpus = ("low lower lowest newer wider " * 40 + EOT) * 5 + "日本語 😀"
    return train(iter([corpus]), 320, [EOT])


def _assert_clean_error(exc: BaseException, path: Path) -> None:
    assert isinstance(exc, (ValueError, OSError)), f"{type(exc).__name__}: {exc}"
    assert "panicked" not in str(exc) and "internal error" not in str(exc), str(exc)
    assert path.name in str(exc), f"error does not name the file: {exc}"


def _load_expect_error(path: Path, **kw) -> BaseException:
    with pytest.raises(Exception) as info:
        load(path, **kw)
    _assert_clean_error(info.value, path)
    return info.value


# ----------------------------------------------------------------------------- native format


@pytest.fixture()
def native_file(small_tok, tmp_path) -> Path:
    p = tmp_path / "tok.json"
    save(small_tok, p)
    assert load(p).encode("lowest" + EOT) == small_tok.encode("lowest" + EOT)
    return p


def test_native_truncated_everywhere(native_file):
    data = native_file.read_bytes()
    cut_points = sorted(set(range(0, 200)) | set(range(0, len(data), max(1, len(data) // 300))))
    bad = native_file.with_name("bad.json")
    for cut in cut_points:
        if cut >= len(data) or not data[:cut].strip():
            continue
        bad.write_bytes(data[:cut])
        try:
            load(bad)
        except (ValueError, OSError) as e:
            assert bad.name in str(e), f"cut at {cut}: {e}"
            assert "panicked" not in str(e)
        else:
            # A JSON document cut after its closing brace is only missing whitespace.
            assert not data[cut:].strip(), f"truncated at {cut}/{len(data)} but loaded"


def test_native_corrupted_bytes(native_file):
    data = native_file.read_bytes()
    rng = random.Random(5)
    bad = native_file.with_name("bad.json")
    loaded = 0
    for _ in range(300):
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        bad.write_bytes(bytes(b))
        try:
            load(bad)
            loaded += 1  # a flip inside a base64 string can give another valid file
        except (ValueError, OSError) as e:
            assert "panicked" not in str(e), str(e)
    assert loaded < 300


NATIVE_EDITS = {
    "version-2": (lambda d: d.update(version=2), "newer"),
    "version-999": (lambda d: d.update(version=999), "newer"),
    "version-0": (lambda d: d.update(version=0), "version"),
    "version-str": (lambda d: d.update(version="1"), "version"),
    "version-missing": (lambda d: d.pop("version"), "version"),
    "format-other": (lambda d: d.update(format="tiktoken"), ""),  # then sniffed as HF
    "vocab-null": (lambda d: d.update(vocab=None), "vocab"),
    "pattern-bad": (lambda d: d.update(pattern="(unclosed"), "pattern"),
    "unknown-field": (lambda d: d.update(extra_field=1), "extra_field"),
    "vocab-id-u32max": (lambda d: d["vocab"].update({"4294967295": "QQ=="}), ""),
    "vocab-id-negative": (lambda d: d["vocab"].update({"-1": "QQ=="}), "-1"),
    "vocab-bad-base64": (lambda d: d["vocab"].update({"300": "not base64!"}), "base64"),
    "special-id-u32max": (
        lambda d: d.update(special_tokens=[{"token": EOT, "id": 4294967295}]),
        "",
    ),
    "ranks-duplicate": (lambda d: d.update(ranks=[1, 1]), "twice"),
    "merges-unknown": (lambda d: d.update(merges=[["QQ==", "QQ=="]] * 3, ranks=None), ""),
}


@pytest.mark.parametrize("case", sorted(NATIVE_EDITS))
def test_native_wrong_fields(native_file, case):
    edit, message = NATIVE_EDITS[case]
    d = json.loads(native_file.read_text(encoding="utf-8"))
    edit(d)
    native_file.write_text(json.dumps(d), encoding="utf-8")
    e = _run_isolated_load(native_file)
    assert message in e, e


def _run_isolated_load(path: Path, extra: str = "") -> str:
    """Loads in a subprocess (a huge id must not abort the test process): returns the error
    text of a clean Python exception; fails on success, a crash, or an abort."""
    code = textwrap.dedent(
        f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        import fastbpe
        from fastbpe import io
        load = getattr(fastbpe, "load", io.load)
        try:
            load({str(path)!r}{extra})
        except (ValueError, OSError) as e:
            print("CLEAN-ERROR", type(e).__name__, e)
            sys.exit(0)
        except MemoryError as e:
            print("MEMORY-ERROR", e)
            sys.exit(3)
        print("LOADED")
        """
    )
    env = dict(os.environ, RUST_BACKTRACE="0")
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert r.returncode == 0 and "CLEAN-ERROR" in r.stdout, (
        f"loading {path.name} did not fail cleanly: rc={r.returncode}\n"
        f"stdout: {r.stdout[-2000:]}\nstderr: {r.stderr[:1500]}"
    )
    assert path.name in r.stdout, f"error does not name the file: {r.stdout}"
    return r.stdout


# ----------------------------------------------------------------------------- other formats


TIKTOKEN_CASES = {
    "bad_b64": lambda data: data.replace(b"\n", b"\n!!!! 999999\n", 1),
    "cut_inside_base64": lambda data: data[: data.index(b" ", len(data) // 2) - 1],
    "no_rank": lambda data: b"IQ==\n",
    "neg_rank": lambda data: b"IQ== -1\n",
    "empty": lambda data: b"",
    "binary": lambda data: bytes(range(256)) * 4,
    "dup_rank": lambda data: b"".join(base64.b64encode(bytes([b])) + b" 0\n" for b in range(256)),
    "missing_byte": lambda data: b"".join(
        base64.b64encode(bytes([b])) + b" %d\n" % b for b in range(255)
    ),
}


@pytest.mark.parametrize("case", sorted(TIKTOKEN_CASES))
def test_tiktoken_file_faults(tmp_path, small_tok, case):
    """(A .tiktoken file cut at a line end is a valid, smaller file: the format cannot tell.)"""
    good = tmp_path / "t.tiktoken"
    save(small_tok, good)
    p = tmp_path / f"{case}.tiktoken"
    p.write_bytes(TIKTOKEN_CASES[case](good.read_bytes()))
    with pytest.raises(ValueError) as info:
        fastbpe.Tokenizer.from_tiktoken_file(p)
    _assert_clean_error(info.value, p)


def test_tiktoken_file_huge_rank_is_an_error_not_an_abort(tmp_path):
    """A rank of 2^32-1 (valid u32) must not allocate a 2^32-entry table."""
    p = tmp_path / "huge.tiktoken"
    lines = [base64.b64encode(bytes([b])) + b" %d" % b for b in range(256)]
    lines.append(base64.b64encode(b"ab") + b" 4294967295")
    p.write_bytes(b"\n".join(lines) + b"\n")
    code = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        import fastbpe
        try:
            tok = fastbpe.Tokenizer.from_tiktoken_file({str(p)!r})
            print("LOADED", tok.n_vocab)
        except (ValueError, OSError, MemoryError) as e:
            print("ERROR", type(e).__name__, e)
        """
    )
    env = dict(os.environ, RUST_BACKTRACE="0")
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert r.returncode == 0, (
        f"process died (rc={r.returncode}) loading a .tiktoken file with rank 4294967295:\n"
        f"{r.stderr[:1500]}"
    )
    assert "LOADED" in r.stdout or "ValueError" in r.stdout, r.stdout


def test_vocab_merges_faults(tmp_path, small_tok):
    d = tmp_path / "vm"
    save(small_tok, d, format="vocab-merges")
    vocab, merges = d / "vocab.json", d / "merges.txt"
    v, m = vocab.read_bytes(), merges.read_bytes()
    for cut in (1, len(v) // 3, len(v) - 2):
        vocab.write_bytes(v[:cut])
        with pytest.raises(ValueError) as info:
            fastbpe.Tokenizer.from_files(vocab, merges)
        assert "vocab.json" in str(info.value)
    vocab.write_bytes(v)
    merges.write_bytes(m + b"this line has three\n")
    with pytest.raises(ValueError, match="merges.txt"):
        fastbpe.Tokenizer.from_files(vocab, merges)
    merges.write_bytes(m + "\u0100\u0101 x\n".encode())  # tokens not in the vocabulary
    with pytest.raises(ValueError, match="not in the vocabulary"):
        fastbpe.Tokenizer.from_files(vocab, merges)
    merges.write_bytes(b"\xff\xfe garbage")
    with pytest.raises(ValueError, match="merges.txt"):
        fastbpe.Tokenizer.from_files(vocab, merges)
    vocab.write_bytes(b'{"a": 4294967295, "b": 1}')
    merges.write_bytes(b"")
    with pytest.raises(ValueError):
        fastbpe.Tokenizer.from_files(vocab, merges)


def test_vocab_json_huge_id_is_an_error_not_an_abort(tmp_path):
    """vocab.json with all 256 bytes and one id of 2^32-1: an error (or a working tokenizer),
    never an overflow panic or a 2^32-entry allocation."""
    from fastbpe.convert import save_vocab_merges  # noqa: F401 - only to check it imports

    d = tmp_path / "vm"
    d.mkdir()
    ranks = {bytes([b]): b for b in range(256)}
    tok = fastbpe.Tokenizer.from_ranks(ranks)
    save(tok, d, format="vocab-merges")
    v = json.loads((d / "vocab.json").read_text(encoding="utf-8"))
    v[next(iter(v))] = 4294967295
    (d / "vocab.json").write_text(json.dumps(v), encoding="utf-8")
    out = _run_isolated_load(d, extra=', special_tokens=["<|endoftext|>"]')
    assert "vocab.json" in out or "4294967295" in out


def test_hf_tokenizer_json_faults(tmp_path, small_tok):
    p = tmp_path / "tokenizer.json"
    save(small_tok, p, format="hf")
    data = p.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 3):
        p.write_bytes(data[:cut])
        _load_expect_error(p)
    d = json.loads(data)
    d["model"]["type"] = "WordPiece"
    p.write_text(json.dumps(d), encoding="utf-8")
    _load_expect_error(p)


def test_missing_and_directory_paths(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.json")
    with pytest.raises((ValueError, IsADirectoryError)):
        load(tmp_path)
    with pytest.raises((FileNotFoundError, OSError)):
        fastbpe.Tokenizer.from_tiktoken_file(tmp_path / "nope.tiktoken")


# ----------------------------------------------------------------------------- full disk

FSIZE_SCRIPT = r"""
import os, resource, sys
sys.path.insert(0, {here!r})
import fastbpe
from fastbpe import io
encode_file = getattr(fastbpe, "encode_file", io.encode_file)
save = getattr(fastbpe, "save", io.save)
limit = {limit}
what, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
enc = fastbpe.get_encoding("gpt2")
# CPython ignores SIGXFSZ, so writing past the limit fails with EFBIG instead of killing us.
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    if what == "encode_file":
        encode_file(enc, src, out)
    elif what == "save":
        save(enc, out)
    elif what == "cli":
        from fastbpe.cli import main
        rc = main(["encode", "-t", "gpt2", src, "-o", out, "-q"])
        print("CLI-RC", rc)
        sys.exit(0)
    print("NO-ERROR")
except OSError as e:
    print("OSERROR", e.errno, e)
except BaseException as e:
    print("OTHER", type(e).__name__, e)
"""


def _run_fsize(tmp_path: Path, what: str, src: Path, out: Path, limit: int) -> str:
    script = FSIZE_SCRIPT.format(here=str(HERE), limit=limit)
    r = subprocess.run(
        [sys.executable, "-c", script, what, str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, f"{what}: child died rc={r.returncode}\n{r.stderr[-2000:]}"
    return r.stdout + r.stderr


@pytest.fixture()
def corpus(tmp_path) -> Path:
    p = tmp_path / "in" / "corpus.txt"
    p.parent.mkdir()
    p.write_text("the quick brown fox jumps over the lazy dog.\n" * 100_000, encoding="utf-8")
    return p


@pytest.mark.parametrize("suffix", [".bin", ".npy"])
def test_encode_file_disk_full(tmp_path, corpus, suffix):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / f"tokens{suffix}"
    text = _run_fsize(tmp_path, "encode_file", corpus, out, limit=256 * 1024)
    assert "OSERROR" in text, f"encode_file past the file size limit did not raise OSError:\n{text}"
    assert "27" in text.split("OSERROR", 1)[1].split()[0] or "too large" in text.lower()
    assert not out.exists(), "a partial token file was left under the final name"
    assert os.listdir(out_dir) == [], f"leftover temporary files: {os.listdir(out_dir)}"


def test_encode_file_disk_full_keeps_previous_output(tmp_path, corpus):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "tokens.bin"
    out.write_bytes(b"previous run")
    text = _run_fsize(tmp_path, "encode_file", corpus, out, limit=256 * 1024)
    assert "OSERROR" in text, text
    assert out.read_bytes() == b"previous run", "the previous file was damaged"
    assert sorted(os.listdir(out_dir)) == ["tokens.bin"]


def test_cli_encode_disk_full(tmp_path, corpus):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "tokens.bin"
    text = _run_fsize(tmp_path, "cli", corpus, out, limit=256 * 1024)
    assert "CLI-RC 0" not in text, f"the CLI reported success on a full disk:\n{text}"
    assert "error" in text.lower(), text
    assert "Traceback" not in text, f"the CLI printed a traceback:\n{text}"
    assert os.listdir(out_dir) == []


def test_save_tokenizer_disk_full(tmp_path, corpus):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "gpt2.json"
    out.write_text("old")
    text = _run_fsize(tmp_path, "save", corpus, out, limit=64 * 1024)
    assert "OSERROR" in text, f"saving past the file size limit did not raise OSError:\n{text}"
    assert out.read_text() == "old"
    assert sorted(os.listdir(out_dir)) == ["gpt2.json"], os.listdir(out_dir)


def test_encode_file_unwritable_directory(tmp_path, corpus, gpt2_fastbpe):
    with pytest.raises(OSError):
        encode_file(gpt2_fastbpe, corpus, tmp_path / "no" / "such" / "dir" / "t.bin")


def test_encode_file_invalid_utf8_leaves_nothing(tmp_path, gpt2_fastbpe):
    src = tmp_path / "bad.txt"
    src.write_bytes(b"hello world\n" * 200_000 + b"\xff\xfe" + b"more\n" * 1000)
    out = tmp_path / "o" / "t.npy"
    out.parent.mkdir()
    with pytest.raises(ValueError) as info:
        encode_file(gpt2_fastbpe, src, out)
    assert "bad.txt" in str(info.value) and str(200_000 * 12) in str(info.value)
    assert os.listdir(out.parent) == []


# ----------------------------------------------------------------------------- bad ids


@pytest.mark.parametrize("bad", [50257, 10**9, 2**32, 2**40, -1])
def test_decode_unknown_ids_raise_keyerror(gpt2_fastbpe, bad):
    for call in (gpt2_fastbpe.decode, gpt2_fastbpe.decode_bytes, gpt2_fastbpe.decode_tokens_bytes):
        with pytest.raises(KeyError) as info:
            call([31373, bad])
        assert str(bad) in str(info.value), f"the message should name the id {bad}: {info.value}"
    with pytest.raises((KeyError, ValueError, OverflowError)):
        gpt2_fastbpe.decode_single_token_bytes(bad)


# ----------------------------------------------------------------------------- every write path
# A real full disk: a small tmpfs mounted for the test when running as root; otherwise the same
# writers run in a child under RLIMIT_FSIZE (writes past the limit fail with EFBIG). Each writer
# runs with 0, 4 KiB, 16 KiB, ... of room: it either succeeds with the whole file, or raises
# OSError and leaves the previous file and nothing else.

ROOM = (0, 4096, 16384, 65536, 262144)
WRITERS = [
    "encode_file.bin",
    "encode_file.npy",
    "save.fastbpe",
    "save.hf",
    "save.tiktoken",
    "save.vocab-merges",
    "WordCounts.save",
    "write_file_atomic",
]


def _make_writers(tok, src: Path) -> dict:
    wc = fastbpe._fastbpe.count_files([str(src)], [EOT])
    blob = random.Random(0).randbytes(100_000)
    return {
        "encode_file.bin": lambda out: encode_file(tok, src, out / "t.bin"),
        "encode_file.npy": lambda out: encode_file(tok, src, out / "t.npy"),
        "save.fastbpe": lambda out: save(tok, out / "tok.json"),
        "save.hf": lambda out: save(tok, out / "tokenizer.json"),
        "save.tiktoken": lambda out: save(tok, out / "tok.tiktoken"),
        "save.vocab-merges": lambda out: save(tok, out / "vm", format="vocab-merges"),
        "WordCounts.save": lambda out: wc.save(str(out / "w.counts")),
        "write_file_atomic": lambda out: fastbpe._fastbpe.write_file_atomic(
            str(out / "blob.bin"), blob
        ),
    }


def _mount_tmpfs(where: Path, size: int) -> bool:
    # FASTBPE_TEST_NO_TMPFS=1 runs the non-root path (RLIMIT_FSIZE) as root too.
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or os.environ.get("FASTBPE_TEST_NO_TMPFS"):
        return False
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
    )
    return r.returncode == 0


def _fill(disk: Path, leave: int) -> None:
    """Fills `disk` (a tmpfs) until `leave` bytes (rounded to pages) are free."""
    filler = disk / "filler"
    block = b"\0" * 4096
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError:
            pass
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - leave))


def _empty(d: Path) -> None:
    for p in sorted(d.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


FULL_DISK_CHILD = r"""
import resource, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
import test_faults as t
what, tok, src, out, limit = sys.argv[1:6]
write = t._make_writers(t.load(tok), Path(src))[what]
resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
try:
    write(Path(out))
    print("OK")
except OSError as e:
    print("OSERROR", e)
"""


@pytest.fixture(scope="module")
def writer_inputs(small_tok, tmp_path_factory):
    d = tmp_path_factory.mktemp("src")
    src = d / "corpus.txt"
    src.write_text(("low lower lowest newer wider\n" * 300 + EOT) * 12, encoding="utf-8")
    tok_path = d / "tok.json"
    save(small_tok, tok_path)
    return small_tok, src, tok_path


@pytest.mark.parametrize("what", WRITERS)
def test_every_writer_on_a_full_disk(writer_inputs, tmp_path, what):
    tok, src, tok_path = writer_inputs
    write = _make_writers(tok, src)[what]
    ref = tmp_path / "ref"
    ref.mkdir()
    write(ref)
    reference = _tree(ref)
    assert reference, what
    disk = tmp_path / "disk"
    mounted = _mount_tmpfs(disk, 1 << 20)
    disk.mkdir(exist_ok=True)
    failed = 0
    try:
        for room in ROOM:
            _empty(disk)
            out = disk / "out"
            out.mkdir()
            # The previous run's files, to be kept whole on failure.
            for name in reference:
                (out / name).parent.mkdir(parents=True, exist_ok=True)
                (out / name).write_bytes(b"previous " + name.encode())
            previous = _tree(out)
            if mounted:
                _fill(disk, room)
                try:
                    write(out)
                    error = None
                except OSError as e:
                    error = str(e)
            else:
                child = FULL_DISK_CHILD.format(tests=str(HERE))
                args = [what, str(tok_path), str(src), str(out), str(max(room, 1))]
                r = subprocess.run(
                    [sys.executable, "-c", child, *args], capture_output=True, text=True
                )
                assert r.returncode == 0, r.stderr[-2000:]
                error = None if r.stdout.startswith("OK") else r.stdout
                assert error is None or error.startswith("OSERROR"), r.stdout + r.stderr
            (disk / "filler").unlink(missing_ok=True)
            if error is not None:
                failed += 1
                assert "panicked" not in error and "internal error" not in error, error
                assert _tree(out) == previous, f"{what} with {room} B free damaged the old files"
            else:
                assert _tree(out) == reference, f"{what} with {room} B free wrote a wrong file"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(disk)], check=False)
    assert failed >= 1, f"{what}: the disk was never full enough to fail; the test proved nothing"


# ----------------------------------------------------------------------------- concurrent writers

RACE_SCRIPT = r"""
import sys
sys.path.insert(0, {here!r})
import fastbpe
tok = fastbpe.load(sys.argv[1])
for _ in range(int(sys.argv[4])):
    fastbpe.encode_file(tok, sys.argv[2], sys.argv[3], threads=1, chunk_size=4096)
"""


def _race_inputs(tmp_path: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        p = tmp_path / f"in{i}.txt"
        p.write_text((f"writer {i} " * (2000 + 500 * i)) + "\n", encoding="utf-8")
        out.append(p)
    return out


def test_concurrent_writers_threads_leave_one_whole_file(tmp_path, small_tok):
    import threading

    inputs = _race_inputs(tmp_path, 4)
    expected = []
    for p in inputs:
        encode_file(small_tok, p, tmp_path / "ref.bin")
        expected.append((tmp_path / "ref.bin").read_bytes())
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "t.bin"
    errors: list[BaseException] = []

    def run(p: Path) -> None:
        try:
            for _ in range(5):
                encode_file(small_tok, p, out, threads=1, chunk_size=4096)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(p,)) for p in inputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], errors
    assert out.read_bytes() in expected, "the output is not any one writer's whole file"
    assert os.listdir(out_dir) == ["t.bin"], os.listdir(out_dir)


def test_concurrent_writers_processes_leave_one_whole_file(tmp_path, small_tok):
    inputs = _race_inputs(tmp_path, 3)
    tok_path = tmp_path / "tok.json"
    save(small_tok, tok_path)
    expected = []
    for p in inputs:
        encode_file(small_tok, p, tmp_path / "ref.bin")
        expected.append((tmp_path / "ref.bin").read_bytes())
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "t.bin"
    # The children import the fastbpe this test imported (the wheel in CI, python/ in a checkout).
    script = RACE_SCRIPT.format(here=str(Path(fastbpe.__file__).resolve().parent.parent))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tok_path), str(p), str(out), "4"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for p in inputs
    ]
    for pr in procs:
        _, err = pr.communicate(timeout=120)
        assert pr.returncode == 0, err.decode()[-2000:]
    assert out.read_bytes() in expected, "the output is not any one writer's whole file"
    assert os.listdir(out_dir) == ["t.bin"], os.listdir(out_dir)


# ----------------------------------------------------------------------------- inputs that change


def test_training_on_a_file_that_grows_is_refused(tmp_path):
    """Training reads files with positional reads planned from the size at open (FileChunks):
    data past that size is noticed and named, not silently dropped."""
    import threading
    import time

    src = tmp_path / "growing.txt"
    src.write_text("some words to count\n" * 200_000, encoding="utf-8")
    stop = threading.Event()

    def append() -> None:
        with open(src, "ab") as f:
            while not stop.is_set():
                f.write(b"more words\n" * 1000)
                f.flush()
                time.sleep(0.001)

    t = threading.Thread(target=append)
    t.start()
    try:
        time.sleep(0.05)
        with pytest.raises(OSError) as info:
            fastbpe._fastbpe.count_files([str(src)], [EOT], threads=1, chunk_size=1 << 16)
    finally:
        stop.set()
        t.join()
    assert "growing.txt" in str(info.value) and "changed while" in str(info.value), info.value
