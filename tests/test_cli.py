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
    assert proc.stdout == b"", proc.stdout  # found before anything was printed
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
    fails(
        "train",
        "--vocab-size",
        "ten",
        "-o",
        tmp_path / "t.json",
        match="expected a vocabulary size",
    )
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


# ----------------------------------------------------------------------------- on a real terminal


def in_tmux(command: str, timeout: float = 60) -> str:
    """Runs `command` in a fresh tmux server (a real terminal), returns the screen afterwards."""
    import shlex
    import time

    sock = f"fastbpe-test-{os.getpid()}-{time.monotonic_ns()}"
    shell = f"{command}; echo __DONE__; sleep 60"
    subprocess.run(
        ["tmux", "-L", sock, "new-session", "-d", "-x", "150", "-y", "40", "sh", "-c", shell],
        check=True,
        env={**os.environ, "TERM": "xterm"},
    )
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            screen = subprocess.run(
                ["tmux", "-L", sock, "capture-pane", "-p"], capture_output=True, text=True
            ).stdout
            if "__DONE__" in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{shlex.quote(command)} did not finish; screen:\n{screen}")
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)


def fastbpe_cmd(*args: str) -> str:
    import shlex

    return " ".join(shlex.quote(str(a)) for a in [sys.executable, "-m", "fastbpe", *args])


def test_decode_on_a_terminal_ends_with_a_newline(tmp_path, gpt2_files):
    screen = in_tmux(fastbpe_cmd("decode", "-t", "gpt2", "--ids", "31373 995"))
    lines = screen.splitlines()
    assert "hello world" in lines and lines[lines.index("hello world") + 1] == "__DONE__", screen
    # Not on a pipe or a file: those get the exact bytes.
    assert ok("decode", "-t", "gpt2", "--ids", "31373 995").stdout == b"hello world"
    ok("decode", "-t", "gpt2", "--ids", "31373 995", "-o", tmp_path / "o.txt")
    assert (tmp_path / "o.txt").read_bytes() == b"hello world"


def test_progress_redraws_on_a_terminal_and_is_plain_lines_in_a_log(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(SAMPLE.read_bytes() * 4)
    train = f"import fastbpe; fastbpe.train([{str(corpus)!r}], 600, progress=True)"
    screen = in_tmux(f"{sys.executable} -c {train!r}")
    lines = [x for x in screen.splitlines() if x.strip()]
    # One line per phase, each redrawn in place to its final state.
    assert [x.split()[0] for x in lines[:-1]] == ["counting", "merging"], screen
    assert "100.0%" in lines[0] and "MB/s" in lines[0]
    log = tmp_path / "train.log"
    with open(log, "wb") as f:
        subprocess.run([sys.executable, "-c", train], stderr=f, check=True, timeout=120)
    text = log.read_text()
    assert text.splitlines()[0].startswith("counting") and "merging" in text
    assert "\r" not in text and "\x1b" not in text, repr(text)
    # Periodic lines (every 5 s by default; here as often as progress moves), still plain.
    env = {**os.environ, "FASTBPE_PROGRESS_INTERVAL": "0"}
    with open(log, "wb") as f:
        subprocess.run([sys.executable, "-c", train], stderr=f, check=True, timeout=120, env=env)
    lines = log.read_text().splitlines()
    assert sum(x.startswith("merging") for x in lines) > 10, lines
    assert not any(c in x for x in lines for c in "\r\x1b"), lines


def test_train_warns_when_the_vocabulary_comes_out_short(tmp_path):
    src = tmp_path / "tiny.txt"
    src.write_text("ab ab cd", encoding="utf-8")
    for quiet in ([], ["-q"]):
        proc = ok("train", src, "--vocab-size", "300", "-o", tmp_path / "t.json", *quiet)
        warning = [x for x in proc.stderr.decode().splitlines() if "warning" in x]
        assert warning == [
            "fastbpe: warning: no pair left to merge after 4 merges: the vocabulary has 261 "
            "tokens instead of 300 (the corpus is too small for this vocab_size)"
        ], proc.stderr


def test_info_top():
    # --top N shows N tokens; --top 0 no "longest tokens" section; a 1 MB token is shown cut.
    lines = ok("info", "-t", "gpt2", "--top", "3").stdout.decode().splitlines()
    at = lines.index("longest tokens:")
    assert len(lines[at + 1 : at + 4]) == 3 and all(
        x.startswith("  ") for x in lines[at + 1 : at + 4]
    )
    out = ok("info", "-t", "gpt2", "--top", "0").stdout.decode()
    assert "longest tokens" not in out and "vocab size:" in out
    from fastbpe.cli.info import _show

    shown = _show(b"ab" * 500_000)
    assert len(shown) < 120 and shown.endswith("(first 64 of 1,000,000 B)")
    assert _show("é".encode() * 40).startswith("'éé")  # cut inside a character: still text


def test_missing_tokenizer_is_named_once(tmp_path):
    err = fails("encode", "-t", tmp_path / "nope.json", "-o", tmp_path / "o.npy", match="nope.json")
    assert err.count("nope.json") == 1, err
    assert "[Errno" not in err


def test_decode_refuses_what_is_not_a_token_file(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello world, this is text\n", encoding="utf-8")
    fails("decode", "-t", "gpt2", text, match="not a token file")
    grid = tmp_path / "grid.npy"
    np.save(grid, np.zeros((2, 3), dtype=np.float32))
    fails("decode", "-t", "gpt2", grid, match="not a token file")
    fails("decode", "-t", "gpt2", tmp_path / "absent.npy", match="no such token file")
    odd = tmp_path / "odd.bin"
    odd.write_bytes(b"\x01\x02\x03")
    fails("decode", "-t", "gpt2", odd, match="whole number")
    bad_ids = tmp_path / "ids.npy"
    np.save(bad_ids, np.array([31373, 60000], dtype=np.uint16))
    fails("decode", "-t", "gpt2", bad_ids, "-o", tmp_path / "out.txt", match="60000")
    assert not (tmp_path / "out.txt").exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_train_into_an_existing_directory(tmp_path):
    src = tmp_path / "c.txt"
    src.write_text("low lower lowest newer wider " * 200, encoding="utf-8")
    d = tmp_path / "out"
    d.mkdir()
    # No --format: a directory means vocab.json + merges.txt, as `save` decides from the name.
    ok("train", src, "--vocab-size", "270", "-q", "-o", f"{d}/")
    assert (d / "vocab.json").is_file() and (d / "merges.txt").is_file()
    # A single-file format goes inside the directory under its usual name; load(dir) finds it.
    ok("train", src, "--vocab-size", "270", "-q", "--format", "fastbpe", "-o", d)
    assert (d / "tokenizer.fastbpe.json").is_file()
    assert load(d / "tokenizer.fastbpe.json").n_vocab == 270
    fails(
        "train", src, "--vocab-size", "300", "-o", tmp_path / "no" / "such" / "t.json", match="such"
    )


def test_separator_is_a_token_or_an_id(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("first file", encoding="utf-8")
    b.write_text("second file", encoding="utf-8")
    outs = {}
    for sep in (EOT, "50256"):
        out = tmp_path / f"o{len(outs)}.npy"
        ok("encode", "-t", "gpt2", a, b, "--separator", sep, "-o", out, "-q")
        outs[sep] = np.load(out).tolist()
    assert outs[EOT] == outs["50256"] and 50256 in outs[EOT]
    fails(
        "encode",
        "-t",
        "gpt2",
        a,
        b,
        "--separator",
        "50257",
        "-o",
        tmp_path / "x.npy",
        match="--separator",
    )
    fails(
        "encode",
        "-t",
        "gpt2",
        a,
        b,
        "--separator",
        "9" * 30,
        "-o",
        tmp_path / "x.npy",
        match="--separator",
    )


def test_bad_paths_are_one_line_before_any_output(tmp_path):
    """A bad path is found before the command prints or writes anything."""
    cases = [
        (["info", "-t", "gpt2", "--sample", tmp_path], "is not a file"),
        (["info", "-t", "gpt2", "--sample", tmp_path / "absent.txt"], "does not exist"),
        (["decode", "-t", "gpt2", "--ids", "1", "-o", tmp_path], "is a directory"),
        (["decode", "-t", "gpt2", tmp_path], "not a file"),
        (["train", "--vocab-size", "300", "-o", ""], "not a file name"),
        (["convert", "-t", "gpt2", "-o", tmp_path / "absent" / "dir/"], "does not exist"),
        (["encode", "-t", tmp_path, "--text", "hi"], "directory"),
    ]
    for args, match in cases:
        fails(*args, match=match)  # one line, no traceback, nothing on stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_train_reads_standard_input(tmp_path):
    text = ("low lower lowest newer wider " * 200).encode()
    src = tmp_path / "c.txt"
    src.write_bytes(text)
    ok("train", "-", "--vocab-size", "270", "-q", "-o", tmp_path / "stdin.json", input=text)
    ok("train", src, "--vocab-size", "270", "-q", "-o", tmp_path / "file.json")
    assert load(tmp_path / "stdin.json").merges == load(tmp_path / "file.json").merges
