"""Multi-core scaling of training (count and merge phases) and batch encoding.

    python benches/scaling.py CORPUS.txt --threads 1 2 4 8 16 [--vocab 32000] [--gpt2 PATH]

For each thread count: fastbpe's count phase (MB/s), merge phase (merges/s), and batch encoding
of the corpus's documents (MB/s) beside tiktoken's `encode_ordinary_batch` with the same number of
threads when tiktoken and the GPT-2 files are available. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import time

import fastbpe


def docs_of(text: str, size: int = 64 * 1024) -> list[str]:
    """Splits the corpus into ~64 KB documents at newlines (what batch callers pass)."""
    out, start = [], 0
    while start < len(text):
        end = text.find("\n", start + size)
        end = len(text) if end == -1 else end + 1
        out.append(text[start:end])
        start = end
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("corpus")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--vocab", type=int, default=32_000)
    ap.add_argument("--gpt2", help="folder or .tiktoken file with GPT-2's vocabulary")
    args = ap.parse_args()

    mb = os.path.getsize(args.corpus) / 1e6
    with open(args.corpus, encoding="utf-8") as f:
        docs = docs_of(f.read())
    enc = fastbpe.get_encoding("gpt2", path=args.gpt2) if args.gpt2 else None
    tk = None
    if enc is not None:
        try:
            import tiktoken

            tk = tiktoken.Encoding(
                "gpt2",
                pat_str=enc.pattern,
                mergeable_ranks={b: i for b, i in enc._core.ranked()},
                special_tokens=enc.special_tokens,
            )
        except ImportError:
            pass

    print(f"corpus {args.corpus}: {mb:.0f} MB, {len(docs)} documents, cores {os.cpu_count()}")
    rows = []
    base = None
    for n in args.threads:
        t0 = time.perf_counter()
        counts = fastbpe.count_words(args.corpus, ["<|endoftext|>"], threads=n)
        t1 = time.perf_counter()
        vocab, merges = fastbpe.train_from_counts(counts, args.vocab, ["<|endoftext|>"], threads=n)
        t2 = time.perf_counter()
        if base is None:
            base = merges
        assert merges == base, f"merges differ at {n} threads"
        row = {
            "threads": n,
            "count MB/s": mb / (t1 - t0),
            "merge merges/s": len(merges) / (t2 - t1),
            "train s": t2 - t0,
        }
        if enc is not None:
            t0 = time.perf_counter()
            ours = enc.encode_ordinary_batch(docs, num_threads=n)
            row["fastbpe batch MB/s"] = mb / (time.perf_counter() - t0)
            if tk is not None:
                t0 = time.perf_counter()
                theirs = tk.encode_ordinary_batch(docs, num_threads=n)
                row["tiktoken batch MB/s"] = mb / (time.perf_counter() - t0)
                assert ours == theirs, "batch ids differ from tiktoken"
                row["ratio"] = row["fastbpe batch MB/s"] / row["tiktoken batch MB/s"]
        rows.append(row)
        print(row, flush=True)
    keys = list(rows[0])
    print()
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        cells = (f"{r[k]:.1f}" if isinstance(r[k], float) else str(r[k]) for k in keys)
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
