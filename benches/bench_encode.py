"""GPT-2 encoding speed: fastbpe vs tiktoken vs Hugging Face tokenizers, side by side, one run.

    python benches/bench_encode.py                      # corpora from /tmp/corpora, 10 MB each
    python benches/bench_encode.py --mb 25 --repeat 5 --out docs/encoding.md
    python benches/bench_encode.py --english FILE --code FILE

What it measures (MB = 10^6 bytes of UTF-8 input):
  1. single thread `encode_ordinary` on one long text, English prose and source code;
  2. batch encoding of a corpus's documents and of its lines, at 1 and 2 threads:
     fastbpe `encode_ordinary_batch(num_threads=n)` (Rust threads, GIL released), tiktoken
     `encode_ordinary_batch(num_threads=n)` (a Python thread pool), HF `encode_batch` (its Rayon
     pool; 1 thread = TOKENIZERS_PARALLELISM=false);
  3. pathological inputs, each tool in a forked child with a time limit.

Ids are checked equal to tiktoken's before anything is timed; a tool that differs is reported,
not timed. Each timing is the best of --repeat runs, tools interleaved so that a noisy neighbour
hurts them alike. The corpora are `english_10M.txt`/`english_100M.txt` and `code.txt` from
../shared/corpora/make_corpus.sh (default folder /tmp/corpora); without them a generated text is
used, with a warning.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

EOT = "<|endoftext|>"
DOC_SEP = "\n" + EOT + "\n"


# ----------------------------------------------------------------------------- setup


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


def load_tools(files: dict[str, Path]) -> dict[str, object]:
    import fastbpe
    import tiktoken
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, pre_tokenizers

    hf = HFTokenizer(models.BPE.from_file(str(files["encoder.json"]), str(files["vocab.bpe"])))
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    return {
        "fastbpe": fastbpe.get_encoding("gpt2"),
        "tiktoken": tiktoken.get_encoding("gpt2"),
        "HF tokenizers": hf,
    }


def read_prefix(path: Path, mb: float) -> str:
    with open(path, "rb") as f:
        data = f.read(int(mb * 1_000_000))
    return data.decode("utf-8", errors="ignore")  # a cut character at the end is dropped


def corpora(args) -> dict[str, tuple[str, str]]:
    """name -> (text, where it came from)."""
    d = Path(args.corpora)
    out = {}
    english = (
        [Path(args.english)] if args.english else [d / "english_10M.txt", d / "english_100M.txt"]
    )
    if args.mb > 10 and not args.english:
        english.reverse()
    code = [Path(args.code)] if args.code else [d / "code.txt"]
    for name, candidates in (("English prose", english), ("code", code)):
        path = next((p for p in candidates if p.is_file() and p.stat().st_size > 0), None)
        if path is not None:
            out[name] = (read_prefix(path, args.mb), str(path))
            continue
        print(
            f"WARNING: no {name} corpus ({', '.join(map(str, candidates))}); using generated text "
            "(tests/corpus_gen.py). Build real ones with ../shared/corpora/make_corpus.sh.",
            file=sys.stderr,
        )
        import corpus_gen

        text = corpus_gen.varied_text(int(args.mb * 1_000_000), seed=7 if name == "code" else 1)
        out[name] = (text, "generated (tests/corpus_gen.py)")
    return out


# ----------------------------------------------------------------------------- timing


def encode_one(tool: str, enc, text: str) -> list[int]:
    if tool == "HF tokenizers":
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
        return enc.encode(text, add_special_tokens=False).ids
    return enc.encode_ordinary(text)


def encode_many(tool: str, enc, texts: list[str], threads: int) -> list[list[int]]:
    if tool == "HF tokenizers":
        os.environ["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
        return [e.ids for e in enc.encode_batch(texts, add_special_tokens=False)]
    return enc.encode_ordinary_batch(texts, num_threads=threads)


def best_of(fns: dict[str, object], repeat: int, clock=time.perf_counter) -> dict[str, float]:
    """Best time of each fn over `repeat` interleaved rounds."""
    best = {k: float("inf") for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = clock()
            fn()
            best[k] = min(best[k], clock() - t0)
    return best


def first_difference(got: list[int], want: list[int]) -> str:
    i = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    return (
        f"first difference at id {i} of {len(want)}: {got[i : i + 5]} vs tiktoken {want[i : i + 5]}"
    )


# ----------------------------------------------------------------------------- pathological


def one_long_line(n_bytes: int) -> str:
    """n_bytes of English-like words and punctuation with no newline: one 'line'."""
    words = "the of and to in a is that for it as was with be by on not he I this are or".split()
    words += ["reading,", "Tokyo.", "1999", "(maybe)", "don't", "naïve", "—", "x86_64", "etc.;"]
    rng = random.Random(50)
    out = " ".join(rng.choices(words, k=n_bytes // 3))
    return out[:n_bytes]


PATHOLOGICAL = {
    '"a" * 100_000': lambda: "a" * 100_000,
    '" " * 100_000': lambda: " " * 100_000,
    '"^" * 1_000_000': lambda: "^" * 1_000_000,
    "1M random digits": lambda: "".join(random.Random(1).choices("0123456789", k=1_000_000)),
    '"\\n" * 1_000_000': lambda: "\n" * 1_000_000,
    "one 50 MB line (words, no newline)": lambda: one_long_line(50_000_000),
}


def _child(conn, tool, text_fn):
    try:
        enc = _TOOLS[tool]
        text = text_fn()
        t0 = time.perf_counter()
        ids = encode_one(tool, enc, text)
        conn.send((time.perf_counter() - t0, len(ids), hash(tuple(ids))))
    except BaseException as e:  # noqa: BLE001
        conn.send(("error", f"{type(e).__name__}: {e}", None))


_TOOLS: dict[str, object] = {}  # loaded once, inherited by the forked children


def run_isolated(tool: str, text_fn, limit: float):
    """(seconds, n_ids, ids hash) in a forked child, or ('timeout'|'error', info)."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_child, args=(child, tool, text_fn))
    p.start()
    if parent.poll(limit):
        res = parent.recv()
        p.join()
        return res
    p.kill()
    p.join()
    return ("timeout", f"> {limit:.0f} s", None)


# ----------------------------------------------------------------------------- main


def machine() -> str:
    model = platform.processor() or "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    import fastbpe
    import numpy
    import tiktoken
    import tokenizers

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{model}, {cores} cores, {platform.system()} {platform.release()}; Python "
        f"{platform.python_version()}; fastbpe {fastbpe.__version__}, "
        f"tiktoken {tiktoken.__version__}, "
        f"tokenizers {tokenizers.__version__}, numpy {numpy.__version__}"
    )


def mbps(n_bytes: int, seconds: float) -> str:
    return f"{n_bytes / 1e6 / seconds:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpora", default="/tmp/corpora", help="folder of make_corpus.sh output")
    ap.add_argument("--english", help="English prose file (default CORPORA/english_10M.txt)")
    ap.add_argument("--code", help="source code file (default CORPORA/code.txt)")
    ap.add_argument("--mb", type=float, default=10, help="MB of each corpus to use (default 10)")
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds, best kept (default 3)")
    ap.add_argument("--threads", default="1,2", help="batch thread counts (default 1,2)")
    ap.add_argument("--limit", type=float, default=60, help="seconds per pathological run")
    ap.add_argument("--skip-pathological", action="store_true")
    ap.add_argument("--tools", default="fastbpe,tiktoken,HF tokenizers")
    ap.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="single-thread timings by wall clock, or by the process's CPU time (steadier on a "
        "busy machine; process, not thread: fastbpe encodes texts of 4 MiB and more on a worker "
        "thread so that Ctrl-C can stop it, while the caller waits)",
    )
    ap.add_argument("--out", help="also write the markdown report to this file")
    args = ap.parse_args()

    files = gpt2_files()
    tools = {k: v for k, v in load_tools(files).items() if k in args.tools.split(",")}
    _TOOLS.update(tools)
    names = list(tools)
    threads = [int(t) for t in args.threads.split(",")]
    lines_out: list[str] = []

    def emit(s: str = "") -> None:
        print(s, flush=True)
        lines_out.append(s)

    emit(f"Machine: {machine()}")
    emit()
    texts = corpora(args)
    for name, (text, src) in texts.items():
        emit(f"- {name}: {len(text.encode()) / 1e6:.1f} MB from `{src}`")
    emit()

    # 1. single thread
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    what = "process CPU time" if args.clock == "cpu" else "wall clock"
    emit(f"### Single thread, `encode_ordinary` on one long text (MB/s by {what}; higher: better)")
    emit()
    others = [n for n in names if n != "fastbpe"]
    emit(
        "| text | "
        + " | ".join(names)
        + " | "
        + " | ".join(f"fastbpe / {o}" for o in others)
        + " |"
    )
    emit("|---" * (1 + len(names) + len(others)) + "|")
    for name, (text, _) in texts.items():
        n_bytes = len(text.encode())
        want = tools["tiktoken"].encode_ordinary(text) if "tiktoken" in tools else None
        fns = {}
        notes = []
        for tool, enc in tools.items():
            ids = encode_one(tool, enc, text)
            if want is not None and ids != want:
                notes.append(f"{tool} ids differ from tiktoken ({first_difference(ids, want)})")
                continue
            fns[tool] = lambda tool=tool, enc=enc, text=text: encode_one(tool, enc, text)
        t = best_of(fns, args.repeat, clock)
        cells = [mbps(n_bytes, t[k]) if k in t else "ids differ" for k in names]
        ratios = [
            f"{t[o] / t['fastbpe']:.2f}x" if o in t and "fastbpe" in t else "-" for o in others
        ]
        emit(f"| {name} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
        for n in notes:
            emit(f"\n> {name}: {n}")
    emit()

    # 2. batch
    emit("### Batch encoding (MB/s by wall clock; higher is better)")
    emit()
    header = "| batch | threads | " + " | ".join(names) + " | "
    header += " | ".join(f"fastbpe / {o}" for o in others) + " |"
    emit(header)
    emit("|---" * (2 + len(names) + len(others)) + "|")
    for name, (text, _) in texts.items():
        docs = [d for d in text.split(DOC_SEP) if d]
        lines = text.splitlines(keepends=True)
        for label, batch in (
            (f"{name}, {len(docs):,} documents", docs),
            (f"{name}, {len(lines):,} lines", lines),
        ):
            n_bytes = sum(len(s.encode()) for s in batch)
            want = (
                [tools["tiktoken"].encode_ordinary(s) for s in batch]
                if "tiktoken" in tools
                else None
            )
            for n in threads:
                fns = {}
                for tool, enc in tools.items():
                    got = encode_many(tool, enc, batch, n)
                    if want is not None and got != want:
                        bad = sum(1 for a, b in zip(got, want) if a != b)
                        emit(f"\n> {label}: {tool} ids differ from tiktoken on {bad} texts\n")
                        continue
                    fns[tool] = lambda tool=tool, enc=enc, n=n, b=batch: encode_many(
                        tool, enc, b, n
                    )
                t = best_of(fns, args.repeat)
                cells = [mbps(n_bytes, t[k]) if k in t else "ids differ" for k in names]
                ratios = [
                    f"{t[o] / t['fastbpe']:.2f}x" if o in t and "fastbpe" in t else "-"
                    for o in others
                ]
                emit(f"| {label} | {n} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    emit()

    # 3. pathological
    if not args.skip_pathological:
        emit(f"### Pathological inputs, single call (seconds; limit {args.limit:.0f} s)")
        emit()
        emit("| input | " + " | ".join(names) + " |")
        emit("|---" * (1 + len(names)) + "|")
        for label, fn in PATHOLOGICAL.items():
            res = {tool: run_isolated(tool, fn, args.limit) for tool in names}
            ref = res.get("tiktoken")
            cells = []
            for tool in names:
                r = res[tool]
                if isinstance(r[0], str):
                    cells.append(r[1] if r[0] == "timeout" else f"error: {r[1][:60]}")
                elif ref is not None and not isinstance(ref[0], str) and r[2] != ref[2]:
                    cells.append(f"{r[0]:.3f} (ids differ)")
                else:
                    cells.append(f"{r[0]:.3f}")
            emit(f"| `{label}` | " + " | ".join(cells) + " |")
        emit()

    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text("\n".join(lines_out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
