"""Every HTML page of the lecture tools, opened in headless Chromium as a person would: a
screenshot that shows the content, no console message (errors included), no network, and the
hover card of `show --html` filled with the token's merge history."""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import subprocess
from pathlib import Path

import fastbpe
import numpy as np
import pytest
from fastbpe.merge_history import MergeTable
from fastbpe.report import write_report
from fastbpe.show import write_html

TEXT = "Hello world! Tokenization: naïve café 猫 🙂\n\tindentation  and <|endoftext|> done."


def chromium(*args: str, url: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium is needed for the HTML page tests (.ci/run installs it)"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
    cmd += ["--virtual-time-budget=3000", *args, url.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def console(p: subprocess.CompletedProcess[str]) -> list[str]:
    return [ln for ln in p.stderr.splitlines() if ":CONSOLE" in ln]


def screenshot(page: Path, png: Path, size: str = "1000,900") -> np.ndarray:
    p = chromium(f"--screenshot={png}", f"--window-size={size}", url=page)
    assert png.is_file(), p.stderr
    assert console(p) == [], f"{page.name}: console output:\n" + "\n".join(console(p))
    import matplotlib.image as mpimg

    return (mpimg.imread(png)[..., :3] * 255).round().astype(int)


def pixels(img: np.ndarray, color: str, tol: int = 12) -> int:
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return int(np.all(np.abs(img - rgb) <= tol, axis=-1).sum())


def no_network(page: str) -> None:
    # Nothing that loads: no URL (SVG's namespace name is never fetched), no src/href/url()/@import.
    rest = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?:|\bsrc=|\bhref=|url\(|@import", rest)


@pytest.fixture(scope="module")
def small_tok() -> fastbpe.Tokenizer:
    text = "Hello world! Tokenization is fun. Hello tokens, hello world.\n" * 40
    return fastbpe.train(iter([text]), 285, ["<|endoftext|>"])


def test_console_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body>x<script>null.f()</script></body></html>")
    assert any("Uncaught TypeError" in ln for ln in console(chromium("--dump-dom", url=bad)))


def test_show_page(tmp_path: Path, gpt2_fastbpe, small_tok) -> None:
    page = tmp_path / "show.html"
    char = fastbpe.baselines.CharTokenizer()
    write_html(
        [gpt2_fastbpe, small_tok, char], TEXT, page, names=["gpt2", "small", "char"], ids=True
    )
    src = page.read_text()
    no_network(src)
    img = screenshot(page, tmp_path / "show.png")
    for bg in ("#bfe0ff", "#c8f0c8", "#ffe0b8"):  # alternating token backgrounds are drawn
        assert pixels(img, bg) > 500, bg
    assert pixels(img, "#ff8a80") > 100  # the special token

    # Hover, as a mouse would: the page's own script fills the card; record each card.
    hover = tmp_path / "hover.html"
    script = """<script>window.addEventListener('load',function(){var cards=[];
    document.querySelectorAll('.t').forEach(function(t){
      t.dispatchEvent(new MouseEvent('mouseover',{bubbles:true}));
      var tip=document.querySelector('.tip');
      cards.push({s:t.dataset.s,id:t.dataset.id,shown:tip.style.display,html:tip.innerHTML});});
    document.body.setAttribute('data-cards',JSON.stringify(cards));});</script>"""
    hover.write_text(src.replace("</body>", script + "</body>"))
    p = chromium("--dump-dom", url=hover)
    assert console(p) == []
    m = re.search(r'data-cards="([^"]*)"', p.stdout)
    assert m, p.stdout[-2000:]
    cards = json.loads(htmllib.unescape(m.group(1)))
    assert len(cards) == src.count('class="t ')
    tables = {0: MergeTable(gpt2_fastbpe), 1: MergeTable(small_tok)}
    checked = 0
    for c in cards:
        assert c["shown"] == "block" and f"<b>id {c['id']}</b>" in c["html"]
        s = int(c["s"])
        tok = [gpt2_fastbpe, small_tok, char][s]
        b = tok.decode_single_token_bytes(int(c["id"])) if s < 2 else None
        if s in tables and b is not None and int(c["id"]) not in tok.special_tokens.values():
            steps, _ = tables[s].history(b)
            assert c["html"].count("<tr>") == len(steps)
            for k, st in enumerate(steps, 1):
                assert f"<td>{k}.</td>" in c["html"] and f"rank {st.rank}" in c["html"]
            checked += len(steps) > 1
        if s == 2:
            assert "no merges" in c["html"]
    assert checked >= 5  # several tokens with a real multi-step history
    assert any("special token" in c["html"] for c in cards)


def test_visualize_fragment_in_a_page(tmp_path: Path, gpt2_fastbpe) -> None:
    """What Jupyter shows: the fragment inside someone else's page, twice (ids stay apart)."""
    v = gpt2_fastbpe.visualize("hello world")
    w = gpt2_fastbpe.visualize("second view")
    page = tmp_path / "nb.html"
    page.write_text(
        f"<html><body><h1>notebook</h1>{v._repr_html_()}{w._repr_html_()}</body></html>"
    )
    img = screenshot(page, tmp_path / "nb.png", "800,500")
    assert pixels(img, "#bfe0ff") > 200


def test_report_page(tmp_path: Path, gpt2_fastbpe, small_tok) -> None:
    sample = tmp_path / "sample.txt"
    sample.write_text("Hello world! Tokenization is fun.\n" * 50 + "unseen zebra words\n")
    page = tmp_path / "report.html"
    d = write_report(small_tok, sample, page)
    assert d.gpt2_tokens is not None
    src = page.read_text()
    no_network(src)
    img = screenshot(page, tmp_path / "report.png", "1000,1400")
    assert pixels(img, "#4a90d9") > 2000  # histogram bars
    assert pixels(img, "#d9534f", tol=40) > 100  # the pair-count curve
