"""Training benchmark: fastbpe vs HF tokenizers (ByteLevel BpeTrainer), rustbpe, bpeasy, fast-bpe-rs.

    python benches/bench_train.py [CORPUS ...] [--vocab 10000 32000] [--threads 2] [--only NAME ...]

Each (trainer, corpus, vocab) runs in its own subprocess, so peak RSS (from `wait4`) is that
trainer's alone. All use GPT-2's pre-tokenization pattern and treat `<|endoftext|>` as a document
separator: fastbpe and HF read the file; rustbpe and bpeasy (iterator APIs) get documents streamed
from the file in 1 MB reads (never the whole file at once); fast-bpe-rs takes a list of str only,
so it gets all documents in one list (its RSS includes them, as its users' would). fastbpe's count phase (MB/s) and
merge phase (merges/s) are reported separately. Prints a markdown table with ratios to fastbpe.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

EOT = "<|endoftext|>"
GPT2_PATTERN = (
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
)
# bpeasy and rustbpe compile with fancy-regex / their own engines; give them the classic spelling.
GPT2_PATTERN_CLASSIC = (
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
)
DEFAULT_CORPORA = ["/tmp/corpora/english_10M.txt", "/tmp/corpora/english_100M.txt"]
TRAINERS = ["fastbpe", "fastbpe-iter", "rustbpe", "hf", "bpeasy", "fast-bpe-rs"]


def documents(path: str, block: int = 1 << 20):
    """Documents of a `<|endoftext|>`-separated file, streamed."""
    carry = ""
    with open(path, encoding="utf-8") as f:
        while True:
            data = f.read(block)
            if not data:
                break
            parts = (carry + data).split(EOT)
            carry = parts.pop()
            yield from (p for p in parts if p)
    if carry:
        yield carry


# ----------------------------------------------------------------------------- one run (child)


def run_one(name: str, corpus: str, vocab: int, threads: int) -> dict:
    size = os.path.getsize(corpus)
    out: dict = {"trainer": name, "corpus": corpus, "vocab": vocab, "mb": size / 1e6}
    t0 = time.perf_counter()
    if name in ("fastbpe", "fastbpe-iter"):
        from fastbpe import training

        # fastbpe-iter: the same corpus as a Python iterable of documents (streamed datasets)
        source = corpus if name == "fastbpe" else documents(corpus)
        counts = training.count_words(source, [EOT], threads=threads)
        t1 = time.perf_counter()
        v, merges = training.train_from_counts(counts, vocab, [EOT], threads=threads)
        t2 = time.perf_counter()
        out.update(
            count_s=t1 - t0,
            merge_s=t2 - t1,
            distinct_words=len(counts),
            merges=len(merges),
            n_vocab=len(v),
        )
    elif name == "rustbpe":
        import rustbpe

        tok = rustbpe.Tokenizer()
        tok.train_from_iterator(documents(corpus), vocab, pattern=GPT2_PATTERN_CLASSIC)
        out["n_vocab"] = tok.vocab_size
    elif name == "bpeasy":
        import bpeasy

        v = bpeasy.train_bpe(documents(corpus), GPT2_PATTERN_CLASSIC, 128, vocab)
        out["n_vocab"] = len(v)
    elif name == "fast-bpe-rs":
        import fast_bpe_rs

        bpe = fast_bpe_rs.BPE(GPT2_PATTERN_CLASSIC)
        bpe.train(vocab, list(documents(corpus)))
        out["n_vocab"] = vocab
    elif name == "hf":
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        trainer = trainers.BpeTrainer(
            vocab_size=vocab,
            special_tokens=[EOT],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tok.train([corpus], trainer)
        out["n_vocab"] = tok.get_vocab_size()
    else:
        raise SystemExit(f"unknown trainer {name}")
    out["total_s"] = time.perf_counter() - t0
    return out


# ----------------------------------------------------------------------------- driver (parent)


def measure(name: str, corpus: str, vocab: int, threads: int) -> dict:
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), RAYON_RS_NUM_CPUS=str(threads))
    cmd = [sys.executable, __file__, "--child", name, corpus, str(vocab), str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    data = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        return {"trainer": name, "corpus": corpus, "vocab": vocab, "error": proc.returncode}
    res = json.loads(data.decode().strip().splitlines()[-1])
    res["peak_mb"] = usage.ru_maxrss / 1024  # Linux: KiB
    return res


def table(results: list[dict]) -> str:
    lines = [
        "| corpus | vocab | trainer | time (s) | vs fastbpe | peak RSS (MB) | vs fastbpe | notes |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault((r["corpus"], r["vocab"]), []).append(r)
    for (corpus, vocab), rs in groups.items():
        fast = next((r for r in rs if r["trainer"] == "fastbpe" and "error" not in r), None)
        for r in rs:
            name = os.path.basename(corpus)
            if "error" in r:
                lines.append(
                    f"| {name} | {vocab} | {r['trainer']} | failed ({r['error']}) | | | | |"
                )
                continue
            tr = f"{r['total_s'] / fast['total_s']:.1f}x" if fast else ""
            mr = f"{r['peak_mb'] / fast['peak_mb']:.1f}x" if fast else ""
            notes = ""
            if r["trainer"].startswith("fastbpe"):
                notes = (
                    f"count {r['count_s']:.2f} s ({r['mb'] / r['count_s']:.0f} MB/s), "
                    f"merge {r['merge_s']:.2f} s ({r['merges'] / max(r['merge_s'], 1e-9):,.0f} "
                    f"merges/s), {r['distinct_words']:,} distinct pre-tokens"
                )
            lines.append(
                f"| {name} | {vocab} | {r['trainer']} | {r['total_s']:.2f} | {tr} | "
                f"{r['peak_mb']:.0f} | {mr} | {notes} |"
            )
    return "\n".join(lines)


def scaling(corpora: list[str], vocabs: list[int]) -> None:
    lines = [
        "| corpus | vocab | threads | count (s) | count MB/s | MB/s per thread | merge (s) "
        "| merges/s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    cores = os.cpu_count() or 1
    counts = sorted({1, 2, 4, 8, cores} & set(range(1, cores + 1)))
    for corpus in corpora:
        warm_page_cache(corpus)
        for vocab in vocabs:
            for t in counts:
                r = measure("fastbpe", corpus, vocab, t)
                print(json.dumps(r), file=sys.stderr, flush=True)
                mbs = r["mb"] / r["count_s"]
                lines.append(
                    f"| {os.path.basename(corpus)} | {vocab} | {t} | {r['count_s']:.2f} | "
                    f"{mbs:.0f} | {mbs / t:.0f} | {r['merge_s']:.2f} | "
                    f"{r['merges'] / max(r['merge_s'], 1e-9):,.0f} |"
                )
    print("\n".join(lines))


def warm_page_cache(path: str) -> None:
    """Reads `path` once, so that no trainer pays for reading it from disk: whoever ran first
    did (fastbpe's count phase took 12.9 s instead of 0.6 s on a corpus the page cache had
    dropped)."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        name, corpus, vocab, threads = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        print(json.dumps(run_one(name, corpus, vocab, threads)))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("corpora", nargs="*", default=None)
    ap.add_argument("--vocab", type=int, nargs="+", default=[10_000, 32_000])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="+", choices=TRAINERS, default=TRAINERS)
    ap.add_argument(
        "--scaling",
        action="store_true",
        help="instead: fastbpe's count and merge phases at 1..cores threads",
    )
    args = ap.parse_args()
    corpora = args.corpora or [c for c in DEFAULT_CORPORA if os.path.exists(c)]
    if not corpora:
        raise SystemExit("no corpus found; pass a path")
    if args.scaling:
        scaling(corpora, args.vocab)
        return
    results = []
    for corpus in corpora:
        warm_page_cache(corpus)
        for vocab in args.vocab:
            for name in args.only:
                r = measure(name, corpus, vocab, args.threads)
                results.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
    print(f"\nthreads={args.threads}, cores={os.cpu_count()}\n")
    print(table(results))


if __name__ == "__main__":
    main()
