"""fastbpe.account (accounting.py) and `fastbpe account`: 6·N·D, days, tokens per parameter,
memory by dtype, and the lecture's worked example (70B params, 15T tokens, 1024 H100s at MFU 0.5:
about 144 days)."""

from __future__ import annotations

import json
import subprocess
import sys

import fastbpe
import fastbpe.io
import pytest
from fastbpe.accounting import GPU_PEAK_FLOPS, account, parse_count


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fastbpe", *args], capture_output=True, text=True, timeout=120
    )


def test_lecture_example_144_days() -> None:
    r = account(params="70B", tokens="15T", gpus=1024, gpu="h100", mfu=0.5, dtype="bf16")
    assert r.flops == pytest.approx(6 * 70e9 * 15e12)
    # H100 bf16 dense as the lecture writes it: 1979e12 / 2 FLOP/s.
    assert r.peak_flops_per_gpu == pytest.approx(1979e12 / 2)
    assert r.days == pytest.approx(6 * 70e9 * 15e12 / (1024 * 1979e12 / 2 * 0.5) / 86400)
    assert round(r.days) == 144
    assert r.tokens_per_param == pytest.approx(15e12 / 70e9)
    assert fastbpe.account is not None  # exported at the top level


def test_cli_reproduces_lecture_and_json() -> None:
    p = cli("account", "--params", "70B", "--tokens", "15T", "--gpus", "1024", "--gpu", "h100")
    assert p.returncode == 0, p.stderr
    assert "143.9 days" in p.stdout and "6.300e+24" in p.stdout
    assert "Chinchilla" in p.stdout
    j = cli("account", "--params", "70B", "--tokens", "15T", "--gpus", "1024", "--json")
    d = json.loads(j.stdout)
    assert round(d["days"]) == 144
    assert d["memory"]["mixed"]["total"] == pytest.approx(16 * 70e9)


@pytest.mark.parametrize(
    "text,value",
    [
        ("124M", 124e6),
        ("70B", 70e9),
        ("15T", 15e12),
        ("1.5e9", 1.5e9),
        ("7_000", 7000.0),
        ("2k", 2000.0),
        (3, 3.0),
    ],
)
def test_parse_count(text: str | int, value: float) -> None:
    assert parse_count(text) == pytest.approx(value)


def test_memory_by_dtype() -> None:
    m = account(params="1B", tokens="20B").memory
    # params + grads + AdamW (m, v) in one dtype: 4 copies of the parameters.
    assert m["fp32"].total == pytest.approx(16e9)
    assert m["bf16"].total == pytest.approx(8e9)
    assert m["fp8"].total == pytest.approx(4e9)
    mixed = m["mixed"]  # bf16 params/grads, fp32 master weights and AdamW states
    assert (mixed.params, mixed.grads, mixed.master_weights, mixed.optimizer) == (
        pytest.approx(2e9),
        pytest.approx(2e9),
        pytest.approx(4e9),
        pytest.approx(8e9),
    )


def test_peak_flops_and_gpu_table() -> None:
    r = account(params="124M", tokens="10B", gpus=8, peak_flops="312e12", mfu=0.4)
    assert r.seconds == pytest.approx(6 * 124e6 * 10e9 / (8 * 312e12 * 0.4))
    assert r.gpu is None
    for name, rates in GPU_PEAK_FLOPS.items():
        assert rates["bf16"] > rates["fp32"] > 0, name
    assert account(params="1B", tokens="1B", gpu="a100").peak_flops_per_gpu == 312e12


@pytest.mark.parametrize(
    "fmt,name", [("npy", "t.npy"), ("bin", "t.bin"), ("llmc", "t.bin"), ("megatron", "t.bin")]
)
def test_token_file_counts_ids(tmp_path, fmt: str, name: str) -> None:
    """Token files of every format fastbpe writes: the count is the number of ids in it."""
    corpus = tmp_path / "c.txt"
    corpus.write_text("hello world, the cat sat on the mat\n" * 300)
    tok = fastbpe.train(iter(["hello world, the cat sat on the mat\n" * 30]), 270)
    out = tmp_path / name
    written = fastbpe.io.encode_file(tok, corpus, out, format=fmt).tokens
    assert written == len(tok.encode(corpus.read_text())) > 0
    assert account(params="1M", token_file=out).tokens == written
    p = cli("account", "--params", "1M", "--tokens", str(out), "--json")
    assert json.loads(p.stdout)["tokens"] == written


def test_corpus_counts_tokens_streaming(tmp_path, gpt2_fastbpe) -> None:
    text = "The quick brown fox jumps over the lazy dog.\n" * 500
    f = tmp_path / "c.txt"
    f.write_text(text)
    p = cli("account", "--params", "124M", "--corpus", str(f), "-t", "gpt2", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["tokens"] == len(gpt2_fastbpe.encode(text))


@pytest.mark.parametrize(
    "args,message",
    [
        (["--params", "abc", "--tokens", "1T"], "expected a number like 124M"),
        (["--params=-5B", "--tokens", "1T"], "positive"),
        (["--params", "7B", "--tokens", "1T", "--gpu", "x100"], "known: a100, h100"),
        (["--params", "7B", "--tokens", "1T", "--mfu", "0"], "0 < MFU <= 1"),
        (["--params", "7B", "--tokens", "1T", "--mfu", "1.5"], "0 < MFU <= 1"),
        (["--params", "7B", "--tokens", "nope"], "count like 15T or an existing token file"),
        (["--params", "7B"], "give --tokens"),
        (["--params", "7B", "--tokens", "1T", "--gpu", "a100", "--dtype", "fp8"], "no fp8"),
    ],
)
def test_bad_input_is_one_clear_line(args: list[str], message: str) -> None:
    p = cli("account", *args)
    assert p.returncode in (1, 2)
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastbpe"), p.stderr
    assert message in lines[0]


def test_python_errors() -> None:
    with pytest.raises(ValueError, match="mfu"):
        account(params="7B", tokens="1T", mfu=0)
    with pytest.raises(ValueError, match="unknown GPU"):
        account(params="7B", tokens="1T", gpu="tpu")
    with pytest.raises(ValueError, match="exactly one"):
        account(params="7B")
    with pytest.raises(TypeError):
        parse_count(True)
