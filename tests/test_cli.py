"""The `fastbpe` command line, run as users run it (`python -m fastbpe ...` in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from fastbpe.cli import SAMPLE, main
from fastbpe.io import load

EOT = "<|endoftext|>"


def run(
    *args: str, input: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fastbpe", *map(str, args)],
        input=input,
        capture_output=True,
        cwd=cwd,
        timeout=120,
    )


def ok(*args: str, **kw) -> subprocess.CompletedProcess:
    proc = run(*args, **kw)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    return proc


def fails(*args: str, match: str, **kw) -> str:
    proc = run(*args, **kw)
    err = proc.stderr.decode()
    assert proc.returncode != 0
    assert "Traceback" not in err, err
    assert match in err, err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("fastbpe: error: "), err
    return err


def test_sample_corpus_ships_with_the_package():
    assert SAMPLE.is_file()
    text = SAMPLE.read_bytes().decode("utf-8")
    assert 200_000 <= len(text.encode()) <= 500_000
    assert text.count(EOT) > 100


def test_main_job_on_builtin_corpus(tmp_path):
    """README's main job: train, encode, inspect, decode, with nothing but the package."""
    tok_path = tmp_path / "tok.json"
    proc = ok("train", "--vocab-size", "800", "-o", tok_path, cwd=tmp_path)
    assert b"built-in sample corpus" in proc.stderr and tok_path.is_file()
    tok = load(tok_path)
    assert tok.n_vocab == 800 and tok.special_tokens == {EOT: 0}

    out = tmp_path / "tokens.npy"
    proc = ok("encode", "-t", tok_path, "-o", out, cwd=tmp_path)
    assert b"tokens" in proc.stderr
    ids = np.load(out)
    assert ids.dtype == np.uint16
    text = SAMPLE.read_bytes().decode("utf-8")
    assert ids.tolist() == tok.encode(text)

    info = ok("info", "-t", tok_path).stdout.decode()
    for key in (
        "vocab size:",
        "800",
        "special tokens:",
        EOT,
        "longest tokens:",
        "bytes/token",
        "MB/s",
    ):
        assert key in info

    back = tmp_path / "back.txt"
    ok("decode", "-t", tok_path, out, "-o", back)
    assert back.read_bytes().decode("utf-8") == text


def test_train_options(tmp_path):
    src = tmp_path / "c.txt"
    src.write_text("low lower lowest newer wider " * 200, encoding="utf-8")
    out = tmp_path / "t.json"
    ok(
        "train",
        src,
        "--vocab-size",
        "300",
        "--special-token",
        "<s>",
        "--special-token",
        "</s>",
        "--threads",
        "1",
        "-q",
        "-o",
        out,
    )
    tok = load(out)
    assert tok.special_tokens == {"<s>": 0, "</s>": 1}
    ok(
        "train",
        src,
        "--vocab-size",
        "270",
        "--no-special-tokens",
        "-q",
        "--format",
        "hf",
        "-o",
        tmp_path / "hf.json",
    )
    assert load(tmp_path / "hf.json").special_tokens == {}


def test_encode_gpt2_text_files_and_stdin(tmp_path, gpt2_tiktoken, varied_text):
    text = varied_text[:200_000]
    a = tmp_path / "a.txt"
    a.write_text(text, encoding="utf-8")
    b = tmp_path / "b.txt"
    b.write_text("second file", encoding="utf-8")
    out = tmp_path / "o.bin"
    ok("encode", "-t", "gpt2", a, b, "--separator", EOT, "--chunk-size", "4K", "-o", out, "-q")
    want = (
        gpt2_tiktoken.encode(text, allowed_special="all")
        + [50256]
        + gpt2_tiktoken.encode("second file")
    )
    assert np.fromfile(out, dtype="<u2").tolist() == want

    proc = ok("encode", "-t", "gpt2", "--text", "hello world")
    assert proc.stdout.decode().split() == ["31373", "995"]
    proc = ok("encode", "-t", "gpt2", "--text", EOT, "--no-special")
    assert proc.stdout.decode().split() == [str(i) for i in gpt2_tiktoken.encode_ordinary(EOT)]

    out2 = tmp_path / "stdin.npy"
    ok("encode", "-t", "gpt2", "-", "-o", out2, "--dtype", "uint32", input=b"piped text\n")
    arr = np.load(out2)
    assert arr.dtype == np.uint32 and arr.tolist() == gpt2_tiktoken.encode("piped text\n")


def test_decode_ids_and_bin(tmp_path):
    proc = ok("decode", "-t", "gpt2", "--ids", "31373, 995")
    assert proc.stdout == b"hello world"
    out = tmp_path / "x.bin"
    np.array([31373, 995], dtype="<u2").tofile(out)
    assert ok("decode", "-t", "gpt2", out).stdout == b"hello world"


def test_convert(tmp_path, gpt2_files):
    ok("convert", "-t", "gpt2", "-o", tmp_path / "g.tiktoken", "-q")
    assert (tmp_path / "g.tiktoken").read_bytes() == gpt2_files["r50k_base.tiktoken"].read_bytes()
    ok("convert", "-t", "gpt2", "--to", "hf", "-o", tmp_path / "tokenizer.json", "-q")
    assert load(tmp_path / "tokenizer.json").encode("hi there") == [5303, 612]
    ok("convert", "-t", "gpt2", "--to", "vocab-merges", "-o", tmp_path / "vm", "-q")
    assert (tmp_path / "vm" / "vocab.json").is_file() and (tmp_path / "vm" / "merges.txt").is_file()


def test_user_errors_are_one_line(tmp_path):
    fails(
        "encode",
        "-t",
        "gpt2",
        tmp_path / "missing.txt",
        "-o",
        tmp_path / "o.npy",
        match="missing.txt",
    )
    fails("encode", "-t", tmp_path / "nope.json", "-o", tmp_path / "o.npy", match="nope.json")
    fails("encode", "-t", "gpt3", "-o", tmp_path / "o.npy", match="gpt3")
    fails("encode", "-t", "gpt2", "-o", tmp_path / "o.txt", match=".npy")
    fails("encode", "-t", "gpt2", match="-o")
    fails("train", "--vocab-size", "10", "-o", tmp_path / "t.json", match="vocab_size")
    fails("train", "--vocab-size", "ten", "-o", tmp_path / "t.json", match="expected a vocabulary size")
    fails("train", "-o", tmp_path / "t.json", match="--vocab-size")
    fails("encode", "-t", "gpt2", "--threads", "0", "--text", "x", match="positive")
    fails("decode", "-t", "gpt2", "--ids", "99999999", match="99999999")
    fails("decode", "-t", "gpt2", "--ids", "1 x", match="integer token ids")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xff")
    err = fails("encode", "-t", "gpt2", bad, "-o", tmp_path / "o.npy", match="byte offset 5")
    assert "bad.txt" in err
    assert not (tmp_path / "o.npy").exists()
    fails("nonsense", match="invalid choice")
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_main_in_process(tmp_path, capsys):
    assert main(["encode", "-t", "gpt2", "--text", "hello world"]) == 0
    assert capsys.readouterr().out.split() == ["31373", "995"]
    assert (
        main(["encode", "-t", "gpt2", str(tmp_path / "x.txt"), "-o", str(tmp_path / "x.npy")]) == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("fastbpe: error:") and "x.txt" in err


def test_console_script_installed():
    import shutil
    import sysconfig

    # pip puts console scripts in the environment's scripts directory, which may not be on PATH.
    exe = shutil.which("fastbpe") or shutil.which("fastbpe", path=sysconfig.get_path("scripts"))
    assert exe is not None, (
        f"no fastbpe console script on PATH or in {sysconfig.get_path('scripts')}"
    )
    proc = subprocess.run([exe, "--version"], capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith(b"fastbpe ")


def test_ctrl_c_exits_130_and_leaves_nothing(tmp_path, varied_text):
    import signal
    import time

    big = tmp_path / "big.txt"
    block = varied_text[:2_000_000].encode()
    with open(big, "wb") as f:
        for _ in range(20):
            f.write(block)
    out = tmp_path / "big.npy"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fastbpe", "encode", "-t", "gpt2", str(big), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 60
    # Wait until the temporary output exists: encoding has started.
    while time.time() < deadline and not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err and b"interrupted" in err
    assert sorted(os.listdir(tmp_path)) == ["big.txt"]
