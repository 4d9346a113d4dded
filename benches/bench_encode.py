"""Encoding speed: fastbpe vs tiktoken and the newer Rust encoders, side by side in one run.

    python benches/bench_encode.py                                  # GPT-2, 5 MB of each corpus
    python benches/bench_encode.py --encoding cl100k_base --out /tmp/cl100k.md
    python benches/bench_encode.py --mb 5 --repeat 5 --out docs/encoding.md

Peers (the `bench` extra): tiktoken, tokie, splintr-rs, wordchipper, bpe-openai (cl100k/o200k
only: it ships only those), kitoken, and Hugging Face tokenizers (`--tools` to add it; it is
~50x slower). A peer whose ids differ from tiktoken's is reported as such and never ranked.

What it measures (MB = 10^6 bytes of UTF-8 input):
  1. single thread `encode_ordinary` on one long text: English, multilingual text, code;
  2. short calls: one 40-character sentence, calls per second;
  3. long single pieces, each tool in a forked child with a time limit;
  4. batch: a corpus's documents and its lines, at 1 and 2 threads where the tool can be told
     (fastbpe/tiktoken/bpe-openai `num_threads`); tokie, splintr, wordchipper and kitoken batch
     on their own pool over all cores, so they appear in the all-cores rows only (batch runs
     last: after some peers' batches, single-threaded calls in the same process ran slower);
  5. the goals of issue 10 as ratios, from the numbers above.

Ids are checked equal to tiktoken's before anything is timed. Each timing is the median of
--repeat rounds, tools interleaved within a round so that a noisy neighbour hurts them alike.
Corpora: `english.txt`, `multi.txt`, `code.txt` from ../shared/corpora/make_corpus.sh (folder
--corpora, default /tmp/corpora), documents separated by `\\n<|endoftext|>\\n` (encoded as text);
without them, Python's own sources and generated multilingual text are used, with a warning.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import multiprocessing
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

EOT = "<|endoftext|>"
DOC_SEP = "\n" + EOT + "\n"
# GPT-2's pattern in the classic spelling, for engines without possessive quantifiers (splintr).
GPT2_CLASSIC = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
SPECIALS = {
    "gpt2": {EOT: 50256},
    "cl100k_base": {EOT: 100257},
    "o200k_base": {EOT: 199999},
}


# ----------------------------------------------------------------------------- tools


@dataclass
class Tool:
    name: str
    one: Callable[[str], list[int]]
    # batch(texts, threads): threads None = the tool's own pool over all cores.
    batch: Callable[[list[str], int | None], list[list[int]]] | None
    sets_threads: bool  # whether batch honours a thread count


def gpt2_files() -> dict[str, Path]:
    """encoder.json, vocab.bpe, r50k_base.tiktoken: ../shared/gpt2, else what the tests find."""
    shared = ROOT.parent / "shared" / "gpt2"
    names = ("encoder.json", "vocab.bpe", "r50k_base.tiktoken")
    if all((shared / n).is_file() for n in names):
        files = {n: shared / n for n in names}
    else:
        from conftest import locate_gpt2_files  # the tests' locator (cache, PyPI route)

        files = locate_gpt2_files()
    from conftest import seed_tiktoken_cache

    os.environ["TIKTOKEN_CACHE_DIR"] = str(seed_tiktoken_cache(files))
    return files


def tiktoken_file(encoding: str, work: Path) -> Path:
    """A plain `.tiktoken` file of `encoding`: GPT-2's from ../shared, the others from the copy
    bpe-openai ships (gzip), so no download is needed."""
    if encoding == "gpt2":
        return gpt2_files()["r50k_base.tiktoken"]
    import bpe_openai

    gz = Path(bpe_openai.__file__).parent / "data" / f"{encoding}.tiktoken.gz"
    out = work / f"{encoding}.tiktoken"
    out.write_bytes(gzip.decompress(gz.read_bytes()))
    return out


def pattern_of(encoding: str) -> str:
    import fastbpe
    from fastbpe import patterns

    return {
        "gpt2": fastbpe.GPT2_PATTERN,
        "cl100k_base": patterns.CL100K_PATTERN,
        "o200k_base": patterns.O200K_PATTERN,
    }[encoding]


def load_ranks(path: Path) -> dict[bytes, int]:
    import base64

    ranks = {}
    for line in path.read_bytes().splitlines():
        if line:
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def load_tools(encoding: str, wanted: list[str], work: Path) -> dict[str, Tool]:
    """The tools named in `wanted` that load here, for `encoding`."""
    file = tiktoken_file(encoding, work)
    pattern = pattern_of(encoding)
    specials = SPECIALS[encoding]
    # wordchipper reads its vocabularies from a cache folder and downloads what is missing;
    # seed a private one (an empty file left by a failed download would give wrong ids).
    wc = work / "wordchipper"
    name = "r50k_base" if encoding == "gpt2" else encoding
    (wc / "openai" / name).mkdir(parents=True, exist_ok=True)
    shutil.copy(file, wc / "openai" / name / f"{name}.tiktoken")
    os.environ["WORDCHIPPER_CACHE_DIR"] = str(wc)

    def fastbpe_tool() -> Tool:
        import fastbpe

        enc = (
            fastbpe.get_encoding("gpt2")
            if encoding == "gpt2"
            else fastbpe.Tokenizer.from_ranks(load_ranks(file), specials, pattern=pattern)
        )
        return Tool(
            "fastbpe",
            enc.encode_ordinary,
            lambda t, n: enc.encode_ordinary_batch(t, num_threads=n),
            True,
        )

    def tiktoken_tool() -> Tool:
        import tiktoken

        if encoding == "gpt2":
            enc = tiktoken.get_encoding("gpt2")
        else:
            enc = tiktoken.Encoding(
                encoding, pat_str=pattern, mergeable_ranks=load_ranks(file), special_tokens=specials
            )
        return Tool(
            "tiktoken",
            enc.encode_ordinary,
            lambda t, n: enc.encode_ordinary_batch(t, num_threads=n or os.cpu_count() or 1),
            True,
        )

    def tokie_tool() -> Tool:
        if encoding != "gpt2":
            raise RuntimeError("loads HF tokenizer.json files; only GPT-2's is built here")
        import tokie
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import models, pre_tokenizers

        files = gpt2_files()
        hf = HFTokenizer(models.BPE.from_file(str(files["encoder.json"]), str(files["vocab.bpe"])))
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        hf.save(str(work / "gpt2_tokenizer.json"))
        tok = tokie.Tokenizer.from_json(str(work / "gpt2_tokenizer.json"))
        return Tool(
            "tokie",
            lambda s: tok.encode(s, add_special_tokens=False).ids,
            lambda t, n: [e.ids for e in tok.encode_batch(t, add_special_tokens=False)],
            False,
        )

    def splintr_tool() -> Tool:
        import splintr

        if encoding == "gpt2":
            tok = splintr.Tokenizer(str(file), GPT2_CLASSIC, specials)
        else:
            tok = splintr.Tokenizer.from_pretrained(encoding)
        return Tool("splintr", tok.encode_ordinary, lambda t, n: tok.encode_batch(t), False)

    def wordchipper_tool() -> Tool:
        import wordchipper

        tok = wordchipper.Tokenizer.from_pretrained(name)
        none = wordchipper.SpecialFilter.include_none()  # special-token text as text
        return Tool(
            "wordchipper",
            lambda s: tok.encode(s, special_filter=none),
            lambda t, n: tok.encode_batch(t, special_filter=none),
            False,
        )

    def bpe_openai_tool() -> Tool:
        if encoding == "gpt2":
            raise RuntimeError("ships cl100k_base and o200k_base only")
        import bpe_openai

        enc = bpe_openai.get_encoding(encoding)
        return Tool(
            "bpe-openai",
            enc.encode_ordinary,
            lambda t, n: enc.encode_ordinary_batch(t, num_threads=n or os.cpu_count() or 1),
            True,
        )

    def kitoken_tool() -> Tool:
        import kitoken

        tok = kitoken.Kitoken.from_tiktoken_file(str(file))
        return Tool(
            "kitoken",
            lambda s: tok.encode(s, False),
            lambda t, n: tok.encode_all(t, False),
            False,
        )

    def hf_tool() -> Tool:
        if encoding != "gpt2":
            raise RuntimeError("only GPT-2 is set up for HF tokenizers here")
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import models, pre_tokenizers

        files = gpt2_files()
        hf = HFTokenizer(models.BPE.from_file(str(files["encoder.json"]), str(files["vocab.bpe"])))
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        return Tool(
            "HF tokenizers",
            lambda s: hf.encode(s, add_special_tokens=False).ids,
            lambda t, n: [e.ids for e in hf.encode_batch(t, add_special_tokens=False)],
            False,
        )

    makers = {
        "fastbpe": fastbpe_tool,
        "tiktoken": tiktoken_tool,
        "tokie": tokie_tool,
        "splintr": splintr_tool,
        "wordchipper": wordchipper_tool,
        "bpe-openai": bpe_openai_tool,
        "kitoken": kitoken_tool,
        "HF tokenizers": hf_tool,
    }
    tools = {}
    for t in wanted:
        try:
            tools[t] = makers[t]()
        except Exception as e:  # noqa: BLE001 - a peer that is missing or cannot load is skipped
            print(f"NOTE: {t} skipped: {type(e).__name__}: {e}", file=sys.stderr)
    return tools


# ----------------------------------------------------------------------------- corpora


def read_slices(path: Path, mb: float, count: int) -> list[str]:
    """`count` consecutive slices of about `mb` MB of `path`, each cut after a newline."""
    size = int(mb * 1_000_000)
    with open(path, "rb") as f:
        data = f.read(size * count + 100_000)
    slices, at = [], 0
    for _ in range(count):
        end = data.find(b"\n", at + size)
        end = len(data) if end < 0 else end + 1
        slices.append(data[at:end].decode("utf-8", errors="ignore"))
        at = end
        if at >= len(data):
            at = 0  # a short file: wrap around (later rounds then repeat text)
    return slices


def fallback_corpus(name: str, n_bytes: int) -> str:
    """Without the real corpora: Python's own sources (code), their docstrings' prose
    (English), and generated multilingual text."""
    if name == "code":
        parts, size = [], 0
        for p in sorted(Path(os.__file__).parent.glob("*.py")):
            t = p.read_text(encoding="utf-8", errors="ignore")
            parts.append(t)
            size += len(t)
            if size > n_bytes:
                break
        return DOC_SEP.join(parts)[:n_bytes]
    import corpus_gen

    return corpus_gen.varied_text(n_bytes, seed=1 if name == "English" else 3)


def corpora(args) -> dict[str, tuple[list[str], str]]:
    """name -> (--repeat + 1 slices of --mb MB, where they came from). Slice 0 is for the id
    check, slice r for timed round r: no tool is timed on text it has seen, so a piece cache
    helps only as it would on a real corpus (repeats within the text), not by remembering
    the previous round."""
    d = Path(args.corpora)
    count = args.repeat + 1
    out = {}
    for name, file in (
        ("English", "english.txt"),
        ("multilingual", "multi.txt"),
        ("code", "code.txt"),
    ):
        path = d / file
        if path.is_file() and path.stat().st_size > 0:
            out[name] = (read_slices(path, args.mb, count), str(path))
            continue
        print(
            f"WARNING: no {path}; using a stand-in. Build real corpora with "
            "../shared/corpora/make_corpus.sh.",
            file=sys.stderr,
        )
        n = int(args.mb * 1_000_000)
        text = fallback_corpus(name, n * count)
        out[name] = ([text[i * n : (i + 1) * n] for i in range(count)], "stand-in (see --help)")
    return out


# ----------------------------------------------------------------------------- timing


class IdsDiffer(Exception):
    """A tool's output in a timed round differed from tiktoken's."""


def fresh(text: str) -> str:
    """A new str equal to `text`, without the UTF-8 copy that CPython keeps on a str once asked
    for it (PyO3's `&str` asks: tiktoken, splintr, tokie, wordchipper, fastbpe for short texts).
    Each timed call gets one, as a text just read from a file is: otherwise the tools timed
    after the id check found that work done (for 5 MB, 5.6-8.8 ms of Python's encoder)."""
    return (text + "\0")[:-1]


def timed_rounds(
    fns: dict[str, Callable[[object], object]],
    inputs: Callable[[int], object],
    rounds: int,
    clock,
    check: Callable[[str, int, object], None],
    bad: dict[str, str] | None = None,
) -> dict[str, float]:
    """Median time of each fn over rounds 1..rounds, tools interleaved within a round;
    `fn(inputs(r))` works on round r's input, made anew for each call before the clock starts
    (`fresh`), and `check(tool, r, result)` verifies its output (raising IdsDiffer). A tool
    that fails a check is timed no further and left out of the result, with the reason in
    `bad`."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    failed: set[str] = set()
    for r in range(1, rounds + 1):
        for k, fn in fns.items():
            if k in failed:
                continue
            arg = inputs(r)
            t0 = clock()
            got = fn(arg)
            times[k].append(clock() - t0)
            del arg
            try:
                check(k, r, got)
            except IdsDiffer as e:
                failed.add(k)
                if bad is not None:
                    bad[k] = str(e)
            # Freed here, not inside the next tool's timed call (130K lists take ms to free).
            del got
    return {k: statistics.median(v) for k, v in times.items() if k not in failed}


def first_difference(got: list[int], want: list[int]) -> str:
    i = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    return f"first difference at id {i} of {len(want)}: {got[i : i + 5]} vs {want[i : i + 5]}"


def mbps(n_bytes: int, seconds: float) -> float:
    return n_bytes / 1e6 / seconds


# ----------------------------------------------------------------------------- long pieces


def one_long_line(n_bytes: int) -> str:
    """n_bytes of English-like words and punctuation with no newline: one 'line'."""
    words = "the of and to in a is that for it as was with be by on not he I this are or".split()
    words += ["reading,", "Tokyo.", "1999", "(maybe)", "don't", "naïve", "—", "x86_64", "etc.;"]
    rng = random.Random(50)
    return " ".join(rng.choices(words, k=n_bytes // 3))[:n_bytes]


LONG_PIECES: dict[str, Callable[[], str]] = {
    '"a" * 100_000': lambda: "a" * 100_000,
    '" " * 1_000_000 + "x"': lambda: " " * 1_000_000 + "x",
    '"^" * 1_000_000': lambda: "^" * 1_000_000,
    "1M random digits": lambda: "".join(random.Random(1).choices("0123456789", k=1_000_000)),
    '"\\n" * 1_000_000': lambda: "\n" * 1_000_000,
    "one 20 MB line (words, no newline)": lambda: one_long_line(20_000_000),
}

_TOOLS: dict[str, Tool] = {}  # loaded once, inherited by the forked children


# Encoded once in each child before the timed call: lazy set-up (class tables, caches, pools)
# is paid on a first call in every tool, and a user pays it once per process, not per piece.
_WARM_UP = "Warm up: ca fait 123 \u00e9t\u00e9s \u4e2d\u6587 \U0001f600!\n  x"


def _child(conn, tool: str, text_fn) -> None:
    try:
        text = text_fn()
        _TOOLS[tool].one(_WARM_UP)
        t0 = time.perf_counter()
        ids = _TOOLS[tool].one(text)
        conn.send((time.perf_counter() - t0, len(ids), hash(tuple(ids))))
    except BaseException as e:  # noqa: BLE001 - reported in the table
        conn.send(("error", f"{type(e).__name__}: {e}", None))


def _short_child(conn, tool: str, sentence: str, rounds: int) -> None:
    try:
        one = _TOOLS[tool].one
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(20_000):
                ids = one(sentence)
            times.append(time.perf_counter() - t0)
        conn.send((20_000 / statistics.median(times), ids, None))
    except BaseException as e:  # noqa: BLE001 - reported in the table
        conn.send(("error", f"{type(e).__name__}: {e}", None))


def run_isolated(tool: str, text_fn, limit: float, target=None, args=None):
    """(seconds, n_ids, ids hash) in a forked child, or ('timeout'|'error', info, None)."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=target or _child, args=(child, tool, *(args or (text_fn,))))
    p.start()
    if parent.poll(limit):
        res = parent.recv()
        p.join()
        return res
    p.kill()
    p.join()
    return ("timeout", f"> {limit:.0f} s", None)


def long_piece_rounds(tool: str, text_fn, limit: float, rounds: int):
    """`run_isolated` `rounds` times (each a fresh child, so no tool's cache sees the piece
    twice): (median seconds, n_ids, ids hash), or the first round's error or timeout (not
    repeated). Why: one call of a few milliseconds read 4-10x slower on some runs of this
    shared machine (o200k `"^" * 1_000_000`: 28 ms in one run, 2.5-3.4 in children forked
    the same way just after)."""
    times: list[float] = []
    ids = None
    for _ in range(rounds):
        res = run_isolated(tool, text_fn, limit)
        if isinstance(res[0], str):
            return res
        if ids is not None and res[1:] != ids:
            return ("error", "ids differ between rounds", None)
        ids = res[1:]
        times.append(res[0])
    assert ids is not None, "at least one round"
    return (statistics.median(times), *ids)


def _single_child(conn, tool: str, slices: list[str], r: int, wants: list[list[int]], clock):
    """Slice 0 (the id check, untimed: it also warms the tool up), then slice r, timed."""
    try:
        t = _TOOLS[tool]
        ids = t.one(slices[0])
        if ids != wants[0]:
            conn.send(("differ", first_difference(ids, wants[0]), None))
            return
        del ids
        text = fresh(slices[r])  # the parent's id check left its UTF-8 on slices[r]
        t0 = clock()
        ids = t.one(text)
        seconds = clock() - t0
        conn.send((seconds, ids == wants[r], None))
    except BaseException as e:  # noqa: BLE001 - reported in the table
        conn.send(("error", f"{type(e).__name__}: {e}", None))


def single_rounds(
    tools: list[str],
    slices: list[str],
    wants: list[list[int]],
    rounds: int,
    clock,
    limit: float,
    notes: list[str],
    failing: set[str],
) -> dict[str, float]:
    """Median seconds of one call on slice r (r = 1..rounds) per tool, each (tool, round) in a
    fresh forked child, tools interleaved within a round. In one process, a peer's thread pool
    (still spinning or woken after its own call) ran inside the next tool's timed call: by
    process CPU time fastbpe's o200k code round read 68.6 MB/s there and ~110 alone. A tool
    whose ids differ from tiktoken's, or that fails, is timed no further (a note says why)."""
    times: dict[str, list[float]] = {k: [] for k in tools}
    out: set[str] = set()
    for r in range(1, rounds + 1):
        for tool in tools:
            if tool in out:
                continue
            res = run_isolated(tool, None, limit, _single_child, (slices, r, wants, clock))
            if res[0] == "differ":
                notes.append(f"{tool}: ids differ from tiktoken's ({res[1]})")
            elif isinstance(res[0], str):
                notes.append(f"{tool}: fails ({res[1]})")
                failing.add(tool)
            elif not res[1]:
                notes.append(f"{tool}: ids differ from tiktoken's on round {r}'s text")
            else:
                times[tool].append(res[0])
                continue
            out.add(tool)
    return {k: statistics.median(v) for k, v in times.items() if k not in out and v}


# ----------------------------------------------------------------------------- report


def machine(tools: dict[str, Tool]) -> str:
    model = platform.processor() or "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    dists = {
        "fastbpe": "fastbpe",
        "tiktoken": "tiktoken",
        "tokie": "tokie",
        "splintr": "splintr-rs",
        "wordchipper": "wordchipper",
        "bpe-openai": "bpe-openai",
        "kitoken": "kitoken",
        "HF tokenizers": "tokenizers",
    }
    versions = []
    for t in tools:
        try:
            versions.append(f"{dists[t]} {importlib.metadata.version(dists[t])}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dists[t]} (source)")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{model}, {cores} cores, {platform.system()} {platform.release()}, load average "
        f"{load:.1f} at the start; Python {platform.python_version()}; " + ", ".join(versions)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--encoding", default="gpt2", choices=sorted(SPECIALS))
    ap.add_argument("--corpora", default="/tmp/corpora", help="folder of make_corpus.sh output")
    ap.add_argument("--mb", type=float, default=5, help="MB of each corpus (default 5)")
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds, median kept (default 3)")
    ap.add_argument("--threads", default="1,2", help="batch thread counts (default 1,2)")
    ap.add_argument("--limit", type=float, default=30, help="seconds per long-piece run")
    ap.add_argument("--skip", default="", help="sections to skip: single,batch,long,short")
    ap.add_argument(
        "--tools",
        default="fastbpe,tiktoken,tokie,splintr,wordchipper,bpe-openai,kitoken",
        help="comma-separated; also 'HF tokenizers'",
    )
    ap.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="single-thread timings by wall clock, or by the process's CPU time (steadier on a "
        "busy machine; process, not thread)",
    )
    ap.add_argument("--out", help="also write the markdown report to this file")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    work = Path(tempfile.mkdtemp(prefix="bench_encode_"))
    tools = load_tools(args.encoding, args.tools.split(","), work)
    if "tiktoken" not in tools:
        sys.exit("tiktoken is the reference: install it (pip install -e '.[bench]')")
    _TOOLS.update(tools)
    names = list(tools)
    threads = [int(t) for t in args.threads.split(",")]
    lines_out: list[str] = []

    def emit(s: str = "") -> None:
        print(s, flush=True)
        lines_out.append(s)

    emit(f"Encoding `{args.encoding}`. Machine: {machine(tools)}")
    emit()
    texts = corpora(args)
    for name, (slices, src) in texts.items():
        mb = [len(t.encode()) / 1e6 for t in slices]
        emit(f"- {name}: {len(slices)} slices of {min(mb):.1f}-{max(mb):.1f} MB from `{src}`")
    emit()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    what = "process CPU time" if args.clock == "cpu" else "wall clock"
    single: dict[str, dict[str, float]] = {}  # corpus -> tool -> MB/s (correct tools only)
    batch_res: dict[str, dict[tuple[str, str], float]] = {}  # batch label -> (tool, threads)
    rounds = args.repeat

    def checker(label: str, wants: list[object]) -> Callable[[str, int, object], None]:
        def check(tool: str, r: int, got: object) -> None:
            if got != wants[r]:
                raise IdsDiffer(f"ids differ from tiktoken's on round {r}'s text")

        return check

    # 1. single thread
    if "single" not in skip:
        emit(
            f"### Single thread, `encode_ordinary` on one long text (MB/s, {what}, median of "
            f"{rounds} rounds, each on new text)"
        )
        emit()
        all_notes: list[str] = []
        emit("| text | " + " | ".join(names) + " | fastbpe / fastest other |")
        emit("|---" * (len(names) + 2) + "|")
        for name, (slices, _) in texts.items():
            wants = [tools["tiktoken"].one(t) for t in slices]
            notes: list[str] = []
            failing: set[str] = set()
            sec = single_rounds(
                list(tools), slices, wants, rounds, clock, args.limit, notes, failing
            )
            n_bytes = statistics.median(len(t.encode()) for t in slices[1:])
            single[name] = {k: mbps(n_bytes, v) for k, v in sec.items()}
            cells = [
                f"{single[name][k]:.1f}"
                if k in sec
                else ("fails" if k in failing else "ids differ")
                for k in names
            ]
            others = [v for k, v in single[name].items() if k != "fastbpe"]
            ratio = (
                f"{single[name]['fastbpe'] / max(others):.2f}x"
                if others and "fastbpe" in sec
                else "-"
            )
            emit(f"| {name} | " + " | ".join(cells) + f" | {ratio} |")
            all_notes += [f"{name}, {n}" for n in notes]
        emit()
        for n in all_notes:  # after the table, which a note would cut in two
            emit(f"> {n}")
            emit()

    # 2. short calls
    short_res: dict[str, float] = {}
    if "short" not in skip:
        sentence = "The quick brown fox jumps over the lazy dog."[:40]
        want = tools["tiktoken"].one(sentence)
        # Each tool in a forked child: in one process, calls after other tools' work (their
        # thread pools) were up to 6x slower, and not alike for every tool.
        for tool in names:
            r = run_isolated(tool, None, args.limit, _short_child, (sentence, rounds))
            if not isinstance(r[0], str) and r[1] == want:
                short_res[tool] = r[0]
        emit(
            f"### Short calls: `encode_ordinary({sentence!r})` (calls per second, median of "
            f"{rounds} rounds of 20,000; each tool in a forked child)"
        )
        emit()
        emit("| " + " | ".join(names) + " |")
        emit("|---" * len(names) + "|")
        emit(
            "| "
            + " | ".join(f"{short_res[k]:,.0f}" if k in short_res else "ids differ" for k in names)
            + " |"
        )
        emit()

    # 3. long pieces
    long_res: dict[str, dict[str, float]] = {}
    if "long" not in skip:
        emit(
            f"### Long single pieces, one call each after one short warm-up call (seconds, median of {rounds} rounds, each in a fresh child; limit {args.limit:.0f} s)"
        )
        emit()
        emit("| input | " + " | ".join(names) + " |")
        emit("|---" * (1 + len(names)) + "|")
        for label, fn in LONG_PIECES.items():
            res = {tool: long_piece_rounds(tool, fn, args.limit, rounds) for tool in names}
            ref = res["tiktoken"]
            cells = []
            long_res[label] = {}
            for tool in names:
                r = res[tool]
                if isinstance(r[0], str):
                    cells.append(r[1] if r[0] == "timeout" else f"error: {r[1][:60]}")
                elif not isinstance(ref[0], str) and r[2] != ref[2]:
                    cells.append(f"{r[0]:.3f} (ids differ)")
                else:
                    cells.append(f"{r[0]:.3f}")
                    long_res[label][tool] = r[0]
            emit(f"| `{label}` | " + " | ".join(cells) + " |")
        emit()

    # 4. batch (last: some peers' thread pools keep running after a batch and slowed the
    # single-threaded sections that came after them by up to 25x on 2 cores)
    if "batch" not in skip:
        emit(f"### Batch encoding (MB/s, wall clock, median of {rounds} rounds, each on new text)")
        emit()
        emit(
            "`all` = the tool's own pool over all cores (tokie, splintr, wordchipper and kitoken "
            "cannot be given a thread count); fastbpe, tiktoken and bpe-openai at `num_threads`."
        )
        emit()
        emit("| batch | threads | " + " | ".join(names) + " |")
        emit("|---" * (len(names) + 2) + "|")
        cores = os.cpu_count() or 1
        for name, (slices, _) in texts.items():
            docs = [[d for d in t.split(DOC_SEP) if d] for t in slices]
            lines = [t.splitlines(keepends=True) for t in slices]
            for kind, batches in (("documents", docs), ("lines", lines)):
                label = f"{name}, {statistics.median(len(b) for b in batches):,.0f} {kind}"
                n_bytes = statistics.median(sum(len(s.encode()) for s in b) for b in batches[1:])
                wants = [tools["tiktoken"].batch(b, 1) for b in batches]
                ok = {}
                for tool, t in tools.items():
                    try:
                        got = t.batch(batches[0], cores) if t.batch else None
                    except Exception as e:  # noqa: BLE001 - reported, not timed
                        emit(f"\n> {label}: {tool} fails ({type(e).__name__}: {e})\n")
                        continue
                    if got != wants[0]:
                        bad = sum(1 for a, b in zip(got or [], wants[0]) if a != b)
                        emit(f"\n> {label}: {tool} ids differ from tiktoken's on {bad} texts\n")
                        continue
                    ok[tool] = t
                res: dict[tuple[str, str], float] = {}
                for n in [str(t) for t in threads] + ["all"]:
                    fns = {}
                    for tool, t in ok.items():
                        if n == "all" and t.sets_threads and cores in threads:
                            continue  # the same as its row at `cores` threads
                        if n != "all" and not t.sets_threads:
                            continue
                        k = None if n == "all" else int(n)
                        fns[tool] = lambda b, t=t, k=k: t.batch(b, k)
                    if not fns:
                        continue
                    bad = {}
                    sec = timed_rounds(
                        fns,
                        lambda r, bs=batches: [fresh(s) for s in bs[r]],
                        rounds,
                        time.perf_counter,
                        checker(label, wants),
                        bad,
                    )
                    for tool, why in bad.items():
                        ok.pop(tool, None)
                        emit(f"\n> {label}: {tool} {why}\n")
                    for tool, v in sec.items():
                        res[(tool, n)] = mbps(n_bytes, v)
                    cells = [
                        f"{res[(k, n)]:.1f}" if k in sec else ("" if k in ok else "ids differ")
                        for k in names
                    ]
                    emit(f"| {label} | {n} | " + " | ".join(cells) + " |")
                batch_res[label] = res
        emit()

    # 5. goals
    emit("### Goals of issue 10 (ratios from this run)")
    emit()
    for name, r in single.items():
        others = {k: v for k, v in r.items() if k != "fastbpe"}
        if "fastbpe" in r and others:
            best = max(others, key=lambda k: others[k])
            emit(
                f"- single thread, {name}: fastbpe {r['fastbpe'] / others[best]:.2f}x the fastest peer ({best}; goal 2x)"
            )
    for label, r in batch_res.items():
        f1, f2 = r.get(("fastbpe", "1")), r.get(("fastbpe", "2"))
        peer_best = max(
            ((v, k[0]) for k, v in r.items() if k[0] != "fastbpe" and k[1] in ("2", "all")),
            default=None,
        )
        parts = []
        if f1 and f2:
            parts.append(f"2 threads {f2 / f1:.2f}x own single thread (goal 1.8x)")
        if f2 and peer_best:
            parts.append(
                f"{f2 / peer_best[0]:.2f}x the fastest peer batch ({peer_best[1]}; goal 1.5x)"
            )
        if parts:
            emit(f"- batch, {label}: " + "; ".join(parts))
    for label, r in long_res.items():
        others = {k: v for k, v in r.items() if k != "fastbpe"}
        if "fastbpe" in r and others:
            best = min(others, key=lambda k: others[k])
            emit(
                f"- long piece {label}: fastbpe {others[best] / r['fastbpe']:.2f}x the fastest correct peer ({best}; goal >= 1x)"
            )
    if "fastbpe" in short_res and "tiktoken" in short_res:
        emit(f"- short calls: fastbpe {short_res['fastbpe'] / short_res['tiktoken']:.2f}x tiktoken")
    emit()
    shutil.rmtree(work, ignore_errors=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text("\n".join(lines_out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
