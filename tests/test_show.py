"""fastbpe show / Tokenizer.show: every byte of the text is in exactly one drawn token, in order
(generated text: any code point, lone surrogates, control characters); what a person sees in a
real terminal (tmux); plain output without a terminal; bad bytes never crash."""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import unicodedata
import uuid

import fastbpe
import pytest
from fastbpe._text import fix_surrogates
from fastbpe.baselines import ByteTokenizer, CharTokenizer
from fastbpe.show import HEX, NEWLINE, SPACE, TEXT, pieces, render_terminal
from hypothesis import given, settings
from hypothesis import strategies as st

SGR = re.compile(r"\x1b\[[0-9;]*m")
# Any code point, with lone surrogates, controls and GPT-2's split characters made common.
any_text = st.text(
    st.one_of(
        st.characters(),
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
        st.sampled_from(list("\n\t \x1b\r\x00\u2028\u00a0🙂é猫<|>")),
    ),
    max_size=120,
)

_small: list[fastbpe.Tokenizer] = []


def small_tok() -> fastbpe.Tokenizer:
    if not _small:
        text = "hello world, héllo wörld; 猫が好き 🙂🙂\n\tthe end " * 30
        _small.append(fastbpe.train(iter([text]), vocab_size=290, special_tokens=["<|endoftext|>"]))
    return _small[0]


def unrender(runs: tuple[tuple[str, str], ...]) -> bytes:
    """The bytes a drawn token stands for, read back from what is drawn."""
    out = b""
    for kind, s in runs:
        if kind == TEXT:
            out += s.encode("utf-8")
        elif kind == SPACE:
            out += {"·": b" ", "→": b"\t"}[s]
        elif kind == NEWLINE:
            assert s == "⏎"
            out += b"\n"
        else:
            assert kind == HEX and s[0] == "<" and s[-1] == ">"
            out += bytes.fromhex(s[1:-1])
    return out


def check_rendering(tok, text: str) -> None:
    ps = pieces(tok, text)
    want = fix_surrogates(text).encode("utf-8")
    assert b"".join(p.bytes for p in ps) == want
    for p in ps:
        assert unrender(p.runs) == p.bytes
    drawn = ["".join(s + ("\n" if k == NEWLINE else "") for k, s in p.runs) for p in ps]
    # Without colour: each token's label (a line break after each newline marker), `|` between.
    assert render_terminal(ps, color=False) == "|".join(drawn)
    # In colour: the same text with nothing but SGR codes added, and no control character of
    # the text reaches the terminal.
    colored = render_terminal(ps, color=True)
    assert SGR.sub("", colored) == "".join(drawn)
    assert all(ch == "\n" or unicodedata.category(ch) != "Cc" for ch in SGR.sub("", colored))
    # One background per drawn run; neighbouring tokens never share one (two special tokens do).
    bgs = [int(m) for m in re.findall(r"48;5;(\d+)m", colored)]
    assert len(bgs) == sum(len(p.runs) for p in ps)
    starts = itertools.accumulate([0] + [len(p.runs) for p in ps[:-1]])
    firsts = [bgs[k] for k in starts] if ps else []
    for i in range(len(ps) - 1):
        assert firsts[i] != firsts[i + 1] or (ps[i].special and ps[i + 1].special)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_any_text_round_trips_small_tokenizer(text: str) -> None:
    check_rendering(small_tok(), text)


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_any_text_round_trips_gpt2_and_baselines(gpt2_fastbpe, text: str) -> None:
    for tok in (gpt2_fastbpe, ByteTokenizer(), CharTokenizer()):
        check_rendering(tok, text)


def test_marks_hex_and_specials(gpt2_fastbpe) -> None:
    ps = pieces(gpt2_fastbpe, "a b\tc\n🙂<|endoftext|>")
    labels = [p.label for p in ps]
    assert "·b" in labels and "→" in labels and "⏎" in labels
    assert "<|endoftext|>" in labels and [p.special for p in ps].count(True) == 1
    # 🙂 is 4 bytes that GPT-2 splits: each part drawn as hex.
    assert any(p.runs and p.runs[0][0] == HEX for p in ps)
    out = gpt2_fastbpe.show("hello world", ids=True, color="never")
    assert out.splitlines() == [
        "gpt2: 2 tokens, 11 bytes, 5.50 bytes/token",
        "hello|·world",
        "ids: 31373 995",
    ]
    assert gpt2_fastbpe.show("a\ud800b", color="never").splitlines()[1].count("�") == 1


def test_visualize_repr_html(tmp_path, gpt2_fastbpe) -> None:
    v = gpt2_fastbpe.visualize("hello world")
    frag = v._repr_html_()
    assert frag.startswith('<div class="fbv"') and "<script>" in frag and "http" not in frag
    assert '"merges"' in frag and "hello" in str(v)
    path = tmp_path / "v.html"
    v.save(path)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count('class="t ') == 2


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ}
    env.pop("NO_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "fastbpe", *args],
        capture_output=True,
        input=stdin,
        timeout=120,
        env=env,
    )


def test_no_tty_is_plain_unless_always(gpt2_fastbpe) -> None:
    p = run_cli("show", "hello world\n", "-t", "gpt2", "-t", "byte")
    out = p.stdout.decode()
    assert p.returncode == 0 and "\x1b" not in out
    assert "gpt2: 3 tokens" in out and "byte: 12 tokens" in out and "hello|·world|⏎" in out
    q = run_cli("show", "hello world", "--color=always")
    assert "\x1b[" in q.stdout.decode() and "48;5;" in q.stdout.decode()


def test_file_with_invalid_utf8_and_stdin(tmp_path, gpt2_fastbpe) -> None:
    f = tmp_path / "bad.txt"
    f.write_bytes(b"ok \xff\xfe then \xe2\x82 end\n")
    p = run_cli("show", "--file", str(f), "--ids")
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().count("�") >= 3
    assert b"invalid UTF-8" in p.stderr
    # Invalid UTF-8 in argv reaches Python as lone surrogates (surrogateescape).
    a = subprocess.run(
        [sys.executable, "-m", "fastbpe", "show", os.fsdecode(b"arg \xff\xfe x")],
        capture_output=True,
        timeout=120,
    )
    assert a.returncode == 0 and "arg|·|��|·x" in a.stdout.decode(), a.stderr
    s = run_cli("show", "-", stdin=b"from stdin \xc3")
    assert s.returncode == 0 and "from|·std|in|·�" in s.stdout.decode()


@pytest.mark.parametrize(
    "args,message",
    [
        (["show"], "give TEXT"),
        (["show", "x", "--file", "y"], "not both"),
        (["show", "x", "-t", "word"], "needs a corpus"),
        (["show", "--file", "/no/such/file"], "No such file"),
    ],
)
def test_bad_input(args: list[str], message: str) -> None:
    p = run_cli(*args)
    assert p.returncode == 1 and p.stdout == b""
    assert message.encode() in p.stderr and len(p.stderr.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- a real terminal


class Tmux:
    """A private tmux server (own socket) with one 120x40 window running bash."""

    def __init__(self) -> None:
        self.sock = f"fastbpe-test-{uuid.uuid4().hex[:8]}"
        self.tmux(
            "new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "bash --norc --noprofile"
        )
        self.tmux("set-option", "-t", "t", "default-terminal", "xterm-256color")

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.sock, *args], capture_output=True, text=True, check=True, timeout=30
        ).stdout

    def run(self, command: str, timeout: float = 60) -> str:
        marker = f"__done_{uuid.uuid4().hex[:6]}__"
        self.tmux(
            "send-keys",
            "-t",
            "t",
            "clear; " + command + f"; echo {marker[:4]}''{marker[4:]}",
            "Enter",
        )
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if marker in self.tmux("capture-pane", "-p", "-t", "t"):
                return self.tmux("capture-pane", "-p", "-e", "-t", "t")
            time.sleep(0.1)
        raise AssertionError(
            "command did not finish in tmux:\n" + self.tmux("capture-pane", "-p", "-t", "t")
        )

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def tmux():
    assert shutil.which("tmux"), "tmux is needed for the terminal tests (.ci/run installs it)"
    t = Tmux()
    try:
        yield t
    finally:
        t.close()


def test_in_a_real_terminal(tmux, gpt2_fastbpe) -> None:
    env = f"cd {shlex.quote(os.getcwd())} && unset NO_COLOR && {shlex.quote(sys.executable)} -m fastbpe"
    screen = tmux.run(f"{env} show $'Hello world\\tand  more\\n  lines' -t gpt2 -t char --ids")
    plain = SGR.sub("", screen)
    assert "gpt2: 9 tokens" in plain and "char: " in plain
    assert "Hello·world→and··more⏎" in plain.replace("\n", "")
    assert "ids: 15496 995 197 392 220 517 198 220 3951" in plain
    bgs = re.findall(r"48;5;(\d+)", screen)
    assert len(set(bgs)) >= 4, screen  # tokens on alternating backgrounds, as drawn by tmux
    # Piped: no terminal, no colour codes, tokens separated by |.
    piped = tmux.run(f"{env} show 'Hello world' | cat")
    assert "Hello|·world" in piped and "48;5;" not in piped
