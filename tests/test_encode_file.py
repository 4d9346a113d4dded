"""`encode_file`: corpus -> token file, streamed, parallel, same ids as one `encode` call."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import fastbpe
import numpy as np
import pytest
from fastbpe.io import encode_file, load_tokens

EOT = "<|endoftext|>"
CL100K_PATTERN = (
    r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"
    r"|\s++$|\s*[\r\n]|\s+(?!\S)|\s"
)

# Text built to put chunk boundaries in the awkward places: inside runs of spaces and newlines,
# inside multi-byte characters, inside and between special tokens (one a prefix of another).
TRICKY = (
    "a \nb\n\n  \n\tc   d\r\n\r\n"
    "é日本語🙂👩‍💻 x\n"
    f"{EOT}{EOT}{EOT}<|endoftext|<|end{EOT}\n"
    " \n \n" + " " * 37 + "\n" * 5 + "z"
    "don't I'LL we've\n"
    "1234567 89\n"
    "... !!! ???\n"
    "\u00a0\u2003\u3000 nbsp\n"
)


@pytest.fixture(scope="module")
def ranks(gpt2_tiktoken) -> dict[bytes, int]:
    return gpt2_tiktoken._mergeable_ranks


@pytest.fixture(scope="module")
def two_eots(ranks) -> fastbpe.Tokenizer:
    """GPT-2 plus a second special token of which <|endoftext|> is a prefix."""
    return fastbpe.Tokenizer.from_ranks(ranks, {EOT: 50256, EOT + EOT: 50257})


@pytest.fixture(scope="module")
def cl100k_like(ranks) -> fastbpe.Tokenizer:
    """GPT-2's ranks under cl100k's pattern: newlines are not always safe cuts there."""
    return fastbpe.Tokenizer.from_ranks(ranks, {EOT: 50256}, pattern=CL100K_PATTERN)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return p


def encode_to_list(tok, tmp_path: Path, text: str, **kw) -> list[int]:
    src = write(tmp_path, "in.txt", text)
    out = tmp_path / "out.npy"
    encode_file(tok, src, out, **kw)
    return load_tokens(out).tolist()


def test_gpt2_equals_tiktoken_on_varied_text(tmp_path, gpt2_fastbpe, gpt2_tiktoken, varied_text):
    text = varied_text[:1_500_000]
    src = write(tmp_path, "v.txt", text)
    out = tmp_path / "v.npy"
    r = fastbpe.io.encode_file(gpt2_fastbpe, src, out, chunk_size=4096, threads=2)
    ids = np.load(out)
    assert ids.dtype == np.uint16
    want = gpt2_tiktoken.encode(text, allowed_special="all")
    assert ids.tolist() == want
    assert r.tokens == len(want) and r.bytes == len(text.encode()) and r.dtype == "uint16"
    assert r.format == "npy" and r.files == 1


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 8, 13, 64, 1 << 20])
def test_tiny_chunks_equal_one_call(tmp_path, two_eots, chunk_size):
    text = TRICKY * 7
    got = encode_to_list(two_eots, tmp_path, text, chunk_size=chunk_size, threads=2)
    assert got == two_eots.encode(text, allowed_special="all")


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 100])
def test_tiny_chunks_custom_pattern(tmp_path, cl100k_like, chunk_size):
    text = (TRICKY + ".\n\n!\n:\n,x\nfoo.\n") * 5
    got = encode_to_list(cl100k_like, tmp_path, text, chunk_size=chunk_size)
    assert got == cl100k_like.encode(text, allowed_special="all")


def test_random_texts_random_chunks(tmp_path, two_eots):
    import random

    rng = random.Random(7)
    alphabet = [
        " ",
        "  ",
        "\n",
        "\n\n",
        "\t",
        "a",
        "bc",
        "é",
        "日",
        "🙂",
        EOT,
        EOT + EOT,
        "'s",
        "9",
        "\r\n",
        "\r",
        ".",
        "\u3000",
    ]
    for _ in range(30):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        size = rng.choice([1, 2, 3, 4, 9, 31])
        got = encode_to_list(two_eots, tmp_path, text, chunk_size=size)
        assert got == two_eots.encode(text, allowed_special="all"), (text, size)


@pytest.mark.parametrize("chunk_size", [1, 4, 50, 1000])
def test_crlf_and_newline_free_files_are_chunked(tmp_path, two_eots, cl100k_like, chunk_size):
    """Every newline of a CRLF file follows a carriage return (whitespace), and a file may have
    no newline at all: such inputs still split into many chunks, with the same ids."""
    texts = [
        "Hello world, line é\r\n" * 300,
        "words  and more words, " * 300,
        f"doc one\r\n{EOT}\r\nline two.\r\n \r\n" * 150,
    ]
    for tok in (two_eots, cl100k_like):
        for text in texts:
            src = write(tmp_path, "c.txt", text)
            r = encode_file(tok, src, tmp_path / "c.npy", chunk_size=chunk_size)
            assert load_tokens(tmp_path / "c.npy").tolist() == tok.encode(text)
            if tok is two_eots and chunk_size < 100:
                assert r.chunks > len(text) // (4 * chunk_size + 64), (text[:30], r.chunks)


def test_allowed_special_and_separator(tmp_path, two_eots):
    text = f"one{EOT}two{EOT}{EOT}three"
    a = write(tmp_path, "a.txt", text)
    b = write(tmp_path, "b.txt", "four")
    out = tmp_path / "o.bin"
    encode_file(two_eots, [a, b], out, allowed_special=(), separator=EOT, chunk_size=2)
    want = two_eots.encode_ordinary(text) + [50256] + two_eots.encode_ordinary("four")
    assert load_tokens(out).tolist() == want
    encode_file(two_eots, [a], out, allowed_special={EOT}, chunk_size=3)
    assert load_tokens(out).tolist() == two_eots.encode(text, allowed_special={EOT})
    encode_file(two_eots, [b, b], out, separator=50257)
    four = two_eots.encode("four")
    assert load_tokens(out).tolist() == four + [50257] + four
    with pytest.raises(ValueError, match="not special tokens"):
        encode_file(two_eots, [a], out, allowed_special={"<|nope|>"})
    with pytest.raises(ValueError, match="separator"):
        encode_file(two_eots, [a], out, separator="two words")


def test_threads_do_not_change_ids(tmp_path, gpt2_fastbpe, varied_text):
    src = write(tmp_path, "t.txt", varied_text[:300_000])
    outs = []
    for threads in (1, 2, 3):
        out = tmp_path / f"t{threads}.npy"
        encode_file(gpt2_fastbpe, src, out, threads=threads, chunk_size=1000)
        outs.append(np.load(out))
    assert all((o == outs[0]).all() for o in outs)


def test_empty_file_gives_empty_array(tmp_path, gpt2_fastbpe):
    src = write(tmp_path, "e.txt", "")
    out = tmp_path / "e.npy"
    r = encode_file(gpt2_fastbpe, src, out)
    arr = np.load(out)
    assert arr.shape == (0,) and arr.dtype == np.uint16 and r.tokens == 0
    encode_file(gpt2_fastbpe, src, tmp_path / "e.bin")
    assert (tmp_path / "e.bin").stat().st_size == 0
    assert load_tokens(tmp_path / "e.bin").shape == (0,)


def test_dtypes(tmp_path, ranks, gpt2_fastbpe):
    src = write(tmp_path, "d.txt", "hello world")
    out = tmp_path / "d.npy"
    encode_file(gpt2_fastbpe, src, out, dtype=np.uint32)
    arr = np.load(out)
    assert arr.dtype == np.uint32 and arr.tolist() == [31373, 995]
    big = fastbpe.Tokenizer.from_ranks(ranks, {"<|big|>": 70_000})
    encode_file(big, src, out)
    assert np.load(out).dtype == np.uint32
    with pytest.raises(ValueError, match="uint16"):
        encode_file(big, src, out, dtype="uint16")
    with pytest.raises(ValueError, match="dtype"):
        encode_file(gpt2_fastbpe, src, out, dtype="int8")
    out_bin = tmp_path / "d.bin"
    encode_file(gpt2_fastbpe, src, out_bin, dtype="uint32")
    assert load_tokens(out_bin, np.uint32).tolist() == [31373, 995]
    with pytest.raises(ValueError, match="whole number"):
        load_tokens(write(tmp_path, "odd.bin", b"\x00\x01\x02"), np.uint16)


def test_invalid_utf8_names_offset_and_leaves_nothing(tmp_path, gpt2_fastbpe):
    data = ("hello world\n" * 5000).encode()
    bad = data[:40_003] + b"\xff" + data[40_003:]
    d = tmp_path / "inv"
    d.mkdir()
    src = write(d, "bad.txt", bad)
    out = d / "bad.npy"
    with pytest.raises(ValueError, match=r"bad\.txt.*byte offset 40003"):
        encode_file(gpt2_fastbpe, src, out, chunk_size=100)
    assert sorted(os.listdir(d)) == ["bad.txt"]
    r = encode_file(gpt2_fastbpe, src, out, errors="replace", chunk_size=100)
    want = gpt2_fastbpe.encode(bad.decode("utf-8", errors="replace"))
    assert np.load(out).tolist() == want and r.tokens == len(want)


def test_failure_keeps_previous_output(tmp_path, gpt2_fastbpe):
    good = write(tmp_path, "g.txt", "good text\n")
    out = tmp_path / "keep.npy"
    encode_file(gpt2_fastbpe, good, out)
    before = out.read_bytes()
    bad = write(tmp_path, "b.txt", b"ok\n\xc3")
    with pytest.raises(ValueError, match="UTF-8"):
        encode_file(gpt2_fastbpe, [good, bad], out)
    assert out.read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_bad_arguments(tmp_path, gpt2_fastbpe):
    src = write(tmp_path, "x.txt", "x")
    with pytest.raises(FileNotFoundError):
        encode_file(gpt2_fastbpe, tmp_path / "missing.txt", tmp_path / "o.npy")
    with pytest.raises(IsADirectoryError):
        encode_file(gpt2_fastbpe, tmp_path, tmp_path / "o.npy")
    with pytest.raises(ValueError, match=r"\.npy.*\.bin"):
        encode_file(gpt2_fastbpe, src, tmp_path / "o.txt")
    with pytest.raises(FileNotFoundError):
        encode_file(gpt2_fastbpe, src, tmp_path / "no" / "dir" / "o.npy")
    existing = tmp_path / "o.npy"
    existing.write_bytes(b"")
    with pytest.raises(ValueError, match="also an input"):
        encode_file(gpt2_fastbpe, [src, existing], existing)
    with pytest.raises(ValueError, match="no input"):
        encode_file(gpt2_fastbpe, [], tmp_path / "o.npy")
    with pytest.raises(ValueError, match="errors"):
        encode_file(gpt2_fastbpe, src, tmp_path / "o.npy", errors="ignore")
    with pytest.raises(ValueError, match="threads"):
        encode_file(gpt2_fastbpe, src, tmp_path / "o.npy", threads=0)


def test_npy_is_memory_mappable_and_loads_everywhere(tmp_path, gpt2_fastbpe, varied_text):
    src = write(tmp_path, "m.txt", varied_text[:100_000])
    out = tmp_path / "m.npy"
    encode_file(gpt2_fastbpe, src, out)
    mm = np.load(out, mmap_mode="r")
    assert mm.tolist() == gpt2_fastbpe.encode(varied_text[:100_000], allowed_special="all")
    # The header is 128 bytes, so the data is 64-byte aligned.
    with open(out, "rb") as f:
        assert f.read(6) == b"\x93NUMPY"
    assert out.stat().st_size == 128 + mm.nbytes


def test_ctrl_c_leaves_no_output(tmp_path, varied_text, gpt2_files):
    big = tmp_path / "big.txt"
    chunk = varied_text[:2_000_000].encode()
    with open(big, "wb") as f:
        for _ in range(20):
            f.write(chunk)
    out = tmp_path / "big.npy"
    script = textwrap.dedent(
        f"""
        import sys, fastbpe
        from fastbpe.io import encode_file
        enc = fastbpe.get_encoding("gpt2")
        print("ready", flush=True)
        try:
            encode_file(enc, {str(big)!r}, {str(out)!r}, threads=1)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
        print("finished", flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 3, (stdout, stderr)
    assert "interrupted" in stdout
    assert sorted(os.listdir(tmp_path)) == ["big.txt"]


def test_stdin_input(tmp_path, gpt2_files):
    out = tmp_path / "s.npy"
    text = "from stdin\n" * 1000 + EOT + " end"
    script = (
        "import fastbpe\nfrom fastbpe.io import encode_file\n"
        f"encode_file(fastbpe.get_encoding('gpt2'), '-', {str(out)!r}, chunk_size=7)\n"
    )
    subprocess.run([sys.executable, "-c", script], input=text.encode(), check=True)
    enc = fastbpe.get_encoding("gpt2")
    assert np.load(out).tolist() == enc.encode(text, allowed_special="all")


def test_tokenizer_encode_file_method(tmp_path, gpt2_fastbpe):
    src = write(tmp_path, "x.txt", "hello world")
    gpt2_fastbpe.encode_file(src, tmp_path / "x.npy")
    assert np.load(tmp_path / "x.npy").tolist() == [31373, 995]


# ----------------------------------------------------------------------------- streams and limits
# Issue 9 items 9-11 and 15: FIFOs, /dev/stdin and <(...) are read as streams; `-` is stdin; a
# silent FIFO reacts to Ctrl-C within a second; inputs without a cut point stop at a documented
# limit; a huge chunk_size allocates only what the input needs; a file that changes size while it
# is read is refused naming it; out of memory is MemoryError with nothing left behind.

STREAM_TEXT = ("stream line one\r\n" + EOT + "two  three\n") * 3000


def test_fifo_is_read_as_a_stream(tmp_path, gpt2_fastbpe):
    import threading

    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as f:  # blocks until the reader opens it
            for i in range(0, len(STREAM_TEXT), 10_000):
                f.write(STREAM_TEXT[i : i + 10_000].encode())

    t = threading.Thread(target=feed)
    t.start()
    out = tmp_path / "f.npy"
    r = encode_file(gpt2_fastbpe, fifo, out, chunk_size=1000)
    t.join()
    assert np.load(out).tolist() == gpt2_fastbpe.encode(STREAM_TEXT, allowed_special="all")
    assert r.bytes == len(STREAM_TEXT.encode())


@pytest.mark.parametrize("how", ["dev-stdin", "process-substitution"])
def test_dev_stdin_and_process_substitution(tmp_path, gpt2_files, how):
    src = write(tmp_path, "src.txt", STREAM_TEXT)
    out = tmp_path / "p.npy"
    code = (
        "import sys, fastbpe\nfrom fastbpe.io import encode_file\n"
        "encode_file(fastbpe.get_encoding('gpt2'), sys.argv[1], sys.argv[2], chunk_size=999)\n"
    )
    if how == "dev-stdin":
        with open(src, "rb") as stdin:
            subprocess.run(
                [sys.executable, "-c", code, "/dev/stdin", str(out)], stdin=stdin, check=True
            )
    else:
        cmd = f'"{sys.executable}" -c "$CODE" <(cat "{src}") "{out}"'
        subprocess.run(["bash", "-c", cmd], env={**os.environ, "CODE": code}, check=True)
    enc = fastbpe.get_encoding("gpt2")
    assert np.load(out).tolist() == enc.encode(STREAM_TEXT, allowed_special="all")


@pytest.mark.parametrize("writer_connected", [True, False])
def test_ctrl_c_on_a_silent_fifo_within_a_second(tmp_path, gpt2_files, writer_connected):
    fifo = tmp_path / "silent.fifo"
    os.mkfifo(fifo)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    script = textwrap.dedent(
        f"""
        import sys, time, fastbpe
        from fastbpe.io import encode_file
        enc = fastbpe.get_encoding("gpt2")
        print("ready", flush=True)
        try:
            encode_file(enc, {str(fifo)!r}, {str(out_dir / "t.npy")!r})
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
        print("finished", flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # A writer that opens the FIFO and then says nothing (or none at all: open() blocks then).
    hold = os.open(fifo, os.O_RDWR) if writer_connected else None
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        assert proc.poll() is None, "encode_file returned from a silent FIFO"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if hold is not None:
            os.close(hold)
    assert proc.returncode == 3, (stdout, stderr)
    assert took < 1.0, f"Ctrl-C took {took:.2f} s on a silent FIFO"
    assert os.listdir(out_dir) == []


def test_input_without_a_cut_point_stops_at_the_limit(tmp_path, gpt2_fastbpe):
    out = tmp_path / "z.bin"
    with pytest.raises(ValueError) as info:
        encode_file(gpt2_fastbpe, "/dev/zero", out)
    msg = str(info.value)
    assert "/dev/zero" in msg and "no place to cut" in msg and str(256 << 20) in msg, msg
    assert os.listdir(tmp_path) == []


def test_chunk_size_limits(tmp_path, gpt2_fastbpe):
    src = write(tmp_path, "small.txt", "hello world\n")
    with pytest.raises(ValueError, match="at most"):
        encode_file(gpt2_fastbpe, src, tmp_path / "a.npy", chunk_size=(1 << 30) + 1)
    # 1 GiB chunks on a 12-byte file: buffers grow with need (checked under a 512 MiB address
    # space limit in a child, where allocating the chunk up front would fail).
    script = textwrap.dedent(
        f"""
        import resource, fastbpe
        from fastbpe.io import encode_file
        enc = fastbpe.get_encoding("gpt2")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        vm = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (vm + (512 << 20), hard))
        r = encode_file(enc, {str(src)!r}, {str(tmp_path / "b.npy")!r}, chunk_size=1 << 30, threads=1)
        print("tokens", r.tokens)
        """
    )
    # One malloc arena: per-thread arenas reserve 64 MiB of address space each, which would eat
    # the headroom and make the result depend on the allocator, not on fastbpe.
    env = {**os.environ, "MALLOC_ARENA_MAX": "1"}
    r = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "tokens 3" in r.stdout


def test_out_of_memory_is_memory_error_and_leaves_nothing(tmp_path, gpt2_files):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    script = textwrap.dedent(
        f"""
        import resource, fastbpe
        from fastbpe.io import encode_file
        enc = fastbpe.get_encoding("gpt2")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        vm = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
        # /dev/zero has no cut point: the chunk grows toward the 256 MiB limit and cannot.
        resource.setrlimit(resource.RLIMIT_AS, (vm + (160 << 20), hard))
        try:
            encode_file(enc, "/dev/zero", {str(out_dir / "z.npy")!r}, threads=1)
        except MemoryError as e:
            print("MemoryError", e)
        """
    )
    # One malloc arena: per-thread arenas reserve 64 MiB of address space each, which would eat
    # the headroom and make the result depend on the allocator, not on fastbpe.
    env = {**os.environ, "MALLOC_ARENA_MAX": "1"}
    r = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )
    assert r.returncode == 0, f"rc {r.returncode}: {r.stderr[-2000:]}"
    assert "MemoryError" in r.stdout and "/dev/zero" in r.stdout, r.stdout + r.stderr[-2000:]
    assert os.listdir(out_dir) == []


def test_file_that_grows_while_read_is_refused(tmp_path, gpt2_fastbpe):
    import threading

    src = write(tmp_path, "growing.log", "a line of the log\n" * 300_000)
    stop = threading.Event()

    def append() -> None:
        with open(src, "ab") as f:
            while not stop.is_set():
                f.write(b"more\n" * 1000)
                f.flush()

    t = threading.Thread(target=append)
    t.start()
    try:
        time.sleep(0.05)
        with pytest.raises(OSError) as info:
            encode_file(gpt2_fastbpe, src, tmp_path / "g.npy", threads=1)
    finally:
        stop.set()
        t.join()
    assert "growing.log" in str(info.value) and "changed while" in str(info.value)
    assert not (tmp_path / "g.npy").exists()
