"""fastbpe compare: one table of vocab size, tokens, bytes/token, UNK/OOV and MB/s for BPE
tokenizers and the baselines; streaming counts equal whole-text encodes; the --plot PNG shows
one point per tokenizer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import regex
from fastbpe.compare import compare, load_spec
from reference_bpe import GPT2_PATTERN

TEXT = (
    "The lecture compares tokenizers. Byte tokenizers never see an unknown symbol;\n"
    "word tokenizers do: naïve café 猫 🙂.\n\n"
) * 200 + "a rare word: zyxwvut\n"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fastbpe", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("compare") / "corpus.txt"
    p.write_text(TEXT, encoding="utf-8")
    return p


def test_rows_equal_whole_text_counts(corpus: Path, gpt2_fastbpe) -> None:
    rows = {r.name: r for r in compare(corpus, ["gpt2", "byte", "char", "char:20", "word:10"])}
    nbytes = len(TEXT.encode())
    assert rows["byte"].tokens == nbytes and rows["byte"].n_vocab == 256
    assert rows["char"].tokens == len(TEXT) and rows["char"].unk_rate is None
    assert rows["gpt2"].tokens == len(gpt2_fastbpe.encode(TEXT)) and rows["gpt2"].n_vocab == 50257
    for r in rows.values():
        assert r.bytes == nbytes
        assert r.bytes_per_token == pytest.approx(nbytes / r.tokens)
        assert r.mb_per_s > 0
    pieces = regex.findall(GPT2_PATTERN, TEXT)
    assert rows["word:10"].tokens == len(pieces) and rows["word:10"].n_vocab == 10
    w = load_spec("word:10", corpus)
    oov = sum(1 for i in w.encode(TEXT) if i == 0)
    assert rows["word:10"].unk == oov and 0 < rows["word:10"].unk_rate < 1
    c20 = load_spec("char:20", corpus)
    assert rows["char:20"].unk == int((c20.encode_to_numpy(TEXT) == 0).sum()) > 0


def test_cli_table_json_and_plot(corpus: Path, tmp_path: Path, gpt2_fastbpe) -> None:
    png = tmp_path / "plot.png"
    specs = ["gpt2", "char", "byte", "word", "word-ws:100"]
    args = ["compare", str(corpus), *[a for s in specs for a in ("-t", s)]]
    p = cli(*args, "--plot", str(png))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[1].split() == [
        "tokenizer",
        "vocab",
        "tokens",
        "bytes/token",
        "UNK/OOV",
        "encode",
        "MB/s",
    ]
    table = {ln.split()[0]: ln.split() for ln in lines[3 : 3 + len(specs)]}
    assert set(table) == set(specs)
    assert table["byte"][1:4] == ["256", f"{len(TEXT.encode()):,}", "1.00"]
    j = json.loads(cli(*args, "--json").stdout)
    assert [r["name"] for r in j["rows"]] == specs
    assert {"n_vocab", "tokens", "bytes_per_token", "unk_rate", "encode_mb_per_s"} <= set(
        j["rows"][0]
    )
    check_plot(png, len(specs))


def check_plot(png: Path, n_points: int) -> None:
    """The PNG opens, has the size plot() draws, and shows one blue marker per tokenizer."""
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    assert img.shape[:2] == (450, 700)
    rgb = (img[..., :3] * 255).round().astype(int)
    blue = np.all(np.abs(rgb - [31, 119, 180]) <= 30, axis=-1)  # tab:blue markers
    assert blue.sum() > 20 * n_points
    assert _blobs(blue) == n_points


def _blobs(mask: np.ndarray) -> int:
    """Connected regions of True pixels (8-neighbourhood)."""
    seen = np.zeros_like(mask)
    count = 0
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        count += 1
        stack = [(y, x)]
        seen[y, x] = True
        while stack:
            cy, cx = stack.pop()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = cy + dy, cx + dx
                    if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1]:
                        if mask[ny, nx] and not seen[ny, nx]:
                            seen[ny, nx] = True
                            stack.append((ny, nx))
    return count


@pytest.mark.parametrize(
    "setup,args,message",
    [
        ("empty", ["-t", "byte"], "is empty: nothing to compare"),
        ("missing", ["-t", "byte"], "no such file"),
        ("ok", ["-t", "char:x"], "char:N with an integer N"),
        ("ok", ["-t", "no-such-tokenizer.json"], "No such tokenizer file"),
    ],
)
def test_bad_input(tmp_path: Path, setup: str, args: list[str], message: str) -> None:
    f = tmp_path / "f.txt"
    if setup == "empty":
        f.write_bytes(b"")
    elif setup == "ok":
        f.write_text("hello world\n")
    p = cli("compare", str(f), *args)
    assert p.returncode == 1 and p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and message in p.stderr, p.stderr
    with pytest.raises((ValueError, FileNotFoundError)):
        compare(f, [a for a in args if a != "-t"])
