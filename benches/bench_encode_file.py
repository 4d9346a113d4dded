"""Corpus -> token file: `fastbpe encode` beside tiktoken and HF tokenizers, GPT-2 vocabulary.

Each measurement runs in a fresh subprocess that reports its own wall time and peak RSS
(`VmHWM`), so tools do not share caches or allocator state. All three write the ids of the whole
file to a uint16 file and stream the input in bounded memory:

* fastbpe: `fastbpe encode -t gpt2 FILE -o OUT.npy --no-special --threads N` (the CLI itself);
* tiktoken: `encode_ordinary_batch(pieces, num_threads=N)` over 8 MB batches of text split into
  ~256 KB pieces at safe cuts (before a newline that follows a non-space, so the ids equal one
  `encode` of the whole file), ids appended to a uint16 file (tiktoken's own thread pool);
* HF tokenizers: GPT-2's `vocab.json`/`merges.txt` with a `ByteLevel` pre-tokenizer (gives
  tiktoken's ids), `encode_batch(pieces)` over the same batches, `RAYON_NUM_THREADS=N`.

Every tool's output is checked against fastbpe's (same ids) before its time is reported.

    python benches/bench_encode_file.py [--file /tmp/corpora/english.txt] [--sizes 100M,1G]
        [--threads 1,2] [--tools fastbpe,tiktoken,hf] [--markdown]

Sizes are prefixes of the file (cut at a newline); sizes larger than the file are built with
../shared/corpora/scale_corpus.py when it is there.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCALE = HERE.parent.parent / "shared" / "corpora" / "scale_corpus.py"

RUNNER = textwrap.dedent(
    r"""
    import json, os, re, resource, sys, time
    tool, src, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    BATCH = 8 << 20
    PIECE = 256 << 10
    # Safe cuts for GPT-2's pattern: before a newline that follows a non-space character. Cutting
    # at every newline would change ids ("a \n  b" is "a", " \n ", " b" but "a \n" + "  b"
    # gives "a", " \n", " ", " b"), so the peers' output would not be comparable.
    SAFE = re.compile(r"(?<=\S)(?=\n)")

    def safe_pieces(text):
        # Pieces of about PIECE characters, each ending at a safe cut (per-call overhead of
        # many small pieces would dominate: tiktoken on single lines runs at ~0.4 MB/s).
        start = 0
        while start < len(text):
            m = SAFE.search(text, start + PIECE)
            end = m.start() if m else len(text)
            yield text[start:end]
            start = end

    def batches(path):
        carry = ""
        with open(path, "r", encoding="utf-8", newline="") as f:
            while True:
                block = f.read(BATCH)
                if not block:
                    break
                text = carry + block
                cut = len(text)
                while True:
                    cut = text.rfind("\n", 0, cut)
                    if cut <= 0 or not text[cut - 1].isspace():
                        break
                if cut <= 0:
                    carry = text
                    continue
                carry = text[cut:]
                yield list(safe_pieces(text[:cut]))
        if carry:
            yield [carry]

    t0 = time.perf_counter()
    if tool == "fastbpe":
        from fastbpe.cli import main
        rc = main(["encode", "-t", "gpt2", src, "-o", out, "--no-special", "-q",
                   "--threads", str(threads)])
        assert rc == 0
    else:
        import numpy as np
        if tool == "tiktoken":
            import tiktoken
            enc = tiktoken.get_encoding("gpt2")
            encode = lambda pieces: enc.encode_ordinary_batch(pieces, num_threads=threads)
        else:
            import tokenizers
            from tokenizers import decoders, models, pre_tokenizers
            d = os.environ["GPT2_DIR"]
            tok = tokenizers.Tokenizer(models.BPE.from_file(d + "/encoder.json", d + "/vocab.bpe"))
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            tok.decoder = decoders.ByteLevel()
            encode = lambda pieces: [
                e.ids for e in tok.encode_batch(pieces, add_special_tokens=False)
            ]
        t0 = time.perf_counter()
        with open(out, "wb") as f:
            for pieces in batches(src):
                for ids in encode(pieces):
                    np.asarray(ids, dtype=np.uint16).tofile(f)
    secs = time.perf_counter() - t0
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec() from the parent, so a child of a
    # big parent would report the parent's size.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        with open("/proc/self/status") as f:
            rss = next(int(x.split()[1]) * 1024 for x in f if x.startswith("VmHWM:"))
    except (OSError, StopIteration):
        pass
    print(json.dumps({"seconds": secs, "peak_rss": rss}))
    """
)


def parse_size(s: str) -> int:
    mult = {"K": 10**3, "M": 10**6, "G": 10**9}
    s = s.strip().upper()
    return int(float(s[:-1]) * mult[s[-1]]) if s[-1] in mult else int(s)


def sized_file(src: Path, size: int, workdir: Path) -> Path:
    """A file of about `size` bytes: a prefix of `src` cut at a newline, or a scaled copy."""
    total = src.stat().st_size
    if size >= total:
        if size == total or not SCALE.is_file():
            return src
        dst = workdir / f"{src.stem}_{size}.txt"
        if not dst.exists():
            subprocess.run([sys.executable, str(SCALE), str(src), str(dst), str(size)], check=True)
        return dst
    dst = workdir / f"{src.stem}_{size}.txt"
    if not dst.exists() or dst.stat().st_size > size:
        with open(src, "rb") as f, open(dst, "wb") as out:
            data = f.read(size)
            cut = data.rfind(b"\n")
            out.write(data[: cut + 1] if cut > 0 else data)
    return dst


def gpt2_dir(workdir: Path) -> Path:
    """A folder with GPT-2's encoder.json and vocab.bpe (for HF tokenizers)."""
    import fastbpe
    from fastbpe.convert import save_vocab_merges

    d = workdir / "gpt2"
    if not (d / "encoder.json").exists():
        v, m = save_vocab_merges(fastbpe.get_encoding("gpt2"), d)
        v.rename(d / "encoder.json")
        m.rename(d / "vocab.bpe")
    return d


def measure(tool: str, src: Path, out: Path, threads: int, env: dict[str, str]) -> dict:
    env = dict(env, RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, tool, str(src), str(out), str(threads)],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def same_ids(a: Path, b: Path) -> bool:
    import numpy as np

    x = np.load(a, mmap_mode="r") if a.suffix == ".npy" else np.memmap(a, dtype="<u2", mode="r")
    y = np.load(b, mmap_mode="r") if b.suffix == ".npy" else np.memmap(b, dtype="<u2", mode="r")
    return x.shape == y.shape and bool((x == y).all())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--file", default="/tmp/corpora/english.txt")
    ap.add_argument("--sizes", default="100M,1G")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--tools", default="fastbpe,tiktoken,hf")
    ap.add_argument("--workdir", default=None, help="where to keep sized inputs and outputs")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table at the end")
    args = ap.parse_args()

    src = Path(args.file)
    if not src.is_file():
        sys.exit(f"{src}: not found (build it with ../shared/corpora/make_corpus.sh, or --file)")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="fastbpe-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GPT2_DIR=str(gpt2_dir(workdir)))
    tools = args.tools.split(",")
    rows = []
    for size_s in args.sizes.split(","):
        data = sized_file(src, parse_size(size_s), workdir)
        mb = data.stat().st_size / 1e6
        for threads in [int(t) for t in args.threads.split(",")]:
            reference = None
            for tool in tools:
                out = workdir / f"{tool}_{threads}.{'npy' if tool == 'fastbpe' else 'bin'}"
                r = measure(tool, data, out, threads, env)
                if tool == "fastbpe":
                    reference = out
                elif reference is not None and not same_ids(reference, out):
                    raise SystemExit(f"{tool} ids differ from fastbpe's on {data}")
                row = {
                    "file": f"{data.name} ({mb:.0f} MB)",
                    "tool": tool,
                    "threads": threads,
                    "MB/s": mb / r["seconds"],
                    "seconds": r["seconds"],
                    "peak RSS MB": r["peak_rss"] / 1e6,
                }
                rows.append(row)
                print(
                    f"{row['file']:<28} {tool:<9} threads={threads}  {row['MB/s']:7.1f} MB/s  "
                    f"{row['seconds']:7.1f} s  peak RSS {row['peak RSS MB']:7.0f} MB",
                    flush=True,
                )
                out.unlink(missing_ok=True) if tool != "fastbpe" else None
            if reference is not None:
                reference.unlink(missing_ok=True)
    if args.markdown:
        print("\n| input | tool | threads | MB/s | peak RSS |")
        print("| --- | --- | ---: | ---: | ---: |")
        for r in rows:
            print(
                f"| {r['file']} | {r['tool']} | {r['threads']} | {r['MB/s']:.1f} | "
                f"{r['peak RSS MB']:.0f} MB |"
            )


if __name__ == "__main__":
    main()
