"""Builds the varied test text for the parity tests: several MB, deterministic, in about a second.

Real text where Python has it (the stdlib's own prose and source code), generated text elsewhere:
many scripts, emoji sequences, combining marks, control characters, every kind of Unicode
whitespace, runs of spaces/newlines/tabs/digits of many lengths, contractions in all cases, and
`<|endoftext|>`. The pieces are shuffled together with a fixed seed, so a failure in a test names a
line of the same text on every run of the same Python.

    python tests/corpus_gen.py OUT.txt [MB]    # writes the text (UTF-8) for benchmarks or debugging
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import random
import sys
import sysconfig
import unicodedata
from collections.abc import Iterator

SEED = 20240501
ENDOFTEXT = "<|endoftext|>"

# ----------------------------------------------------------------------------- real English / code


def _stdlib_dir() -> str:
    return sysconfig.get_paths()["stdlib"]


def _stdlib_sources(limit_chars: int) -> list[str]:
    """Top-level stdlib .py files in name order (no tests), up to `limit_chars` characters."""
    d = _stdlib_dir()
    out: list[str] = []
    total = 0
    for name in sorted(os.listdir(d)):
        if not name.endswith(".py"):
            continue
        try:
            with open(os.path.join(d, name), encoding="utf-8", errors="replace", newline="") as f:
                src = f.read()
        except OSError:
            continue
        out.append(src)
        total += len(src)
        if total >= limit_chars:
            break
    return out


def _prose() -> list[str]:
    """English: pydoc's topic help (the language reference), the Zen of Python, and the comments
    of stdlib sources."""
    paras: list[str] = []
    try:
        from pydoc_data.topics import topics

        for key in sorted(topics):
            paras.extend(p for p in topics[key].split("\n\n") if p.strip())
    except ImportError:  # a Python built without pydoc_data
        pass
    with contextlib.redirect_stdout(io.StringIO()):  # `import this` prints the Zen
        import this
    paras.append(codecs.decode(this.s, "rot13"))
    return paras


def _comments(sources: list[str]) -> list[str]:
    out = []
    for src in sources:
        lines = [
            ln.strip().lstrip("#").strip() for ln in src.splitlines() if ln.strip().startswith("#")
        ]
        if lines:
            out.append(" ".join(lines))
    return out


# ----------------------------------------------------------------------------- generated text

# (name, code point ranges of letters and marks, word separator, sentence end, digits)
SCRIPTS = [
    (
        "cjk",
        [(0x4E00, 0x9FFF), (0x3040, 0x309F), (0x30A0, 0x30FF)],
        "",
        "。",
        "０１２３４５６７８９",
    ),
    ("hangul", [(0xAC00, 0xD7A3)], " ", ".", "0123456789"),
    ("cyrillic", [(0x0410, 0x044F), (0x0400, 0x040F), (0x0450, 0x045F)], " ", ".", "0123456789"),
    ("arabic", [(0x0620, 0x064A), (0x064B, 0x0652), (0x0671, 0x06D3)], " ", "؟", "٠١٢٣٤٥٦٧٨٩"),
    ("devanagari", [(0x0905, 0x0939), (0x093E, 0x094D), (0x0958, 0x0961)], " ", "।", "०१२३४५६७८९"),
    ("thai", [(0x0E01, 0x0E30), (0x0E31, 0x0E3A), (0x0E40, 0x0E4E)], "", " ", "๐๑๒๓๔๕๖๗๘๙"),
    ("greek", [(0x0391, 0x03A9), (0x03B1, 0x03C9), (0x1F00, 0x1FBC)], " ", ";", "0123456789"),
    ("hebrew", [(0x05D0, 0x05EA), (0x05B0, 0x05BD)], " ", ".", "0123456789"),
    ("latin-ext", [(0x00C0, 0x024F), (0x1E00, 0x1EFF)], " ", ".", "0123456789"),
    ("math-astral", [(0x1D400, 0x1D6A5), (0x20000, 0x2A6DF)], " ", ".", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"),
]


def _assigned(ranges: list[tuple[int, int]]) -> list[str]:
    return [
        chr(c)
        for lo, hi in ranges
        for c in range(lo, hi + 1)
        if unicodedata.category(chr(c))[0] in "LM"
    ]


def _script_paragraphs(rng: random.Random, n_chars: int) -> list[str]:
    paras: list[str] = []
    tables = [(name, _assigned(r), sep, end, digits) for name, r, sep, end, digits in SCRIPTS]
    total = 0
    while total < n_chars:
        _, letters, sep, end, digits = rng.choice(tables)
        words = []
        for _ in range(rng.randint(5, 60)):
            w = "".join(rng.choices(letters, k=rng.randint(1, 9)))
            r = rng.random()
            if r < 0.05:
                w += "".join(rng.choices(digits, k=rng.randint(1, 6)))
            elif r < 0.1:
                w = (
                    rng.choice(["(", "«", "“", "「", "'"])
                    + w
                    + rng.choice([")", "»", "”", "」", "'"])
                )
            elif r < 0.15:
                w += rng.choice([",", "、", "،", "!", "?", ":", "…"])
            words.append(w)
        p = sep.join(words) + end
        paras.append(p)
        total += len(p)
    return paras


EMOJI_BASES = [chr(c) for c in list(range(0x1F600, 0x1F650)) + list(range(0x1F300, 0x1F320))]
EMOJI_PEOPLE = [chr(c) for c in (0x1F466, 0x1F467, 0x1F468, 0x1F469, 0x1F44D, 0x1F44B, 0x1F9D1)]
SKIN_TONES = [chr(c) for c in range(0x1F3FB, 0x1F400)]
ZWJ = "\u200d"
VS16 = "\ufe0f"
ZWJ_SEQUENCES = [
    "👨‍👩‍👧‍👦",
    "👩‍❤️‍💋‍👨",
    "🏳️‍🌈",
    "🏴‍☠️",
    "🧑🏽‍💻",
    "👩🏿‍🔬",
    "🧔‍♂️",
    "🐻‍❄️",
    "❤️‍🔥",
    "🫱🏼‍🫲🏿",
]
FLAGS = ["🇺🇸", "🇯🇵", "🇫🇷", "🇧🇷", "🇮🇳", "🇪🇺", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"]


def _emoji_line(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(3, 30)):
        r = rng.random()
        if r < 0.3:
            parts.append(rng.choice(EMOJI_BASES))
        elif r < 0.45:
            parts.append(rng.choice(EMOJI_PEOPLE) + rng.choice(SKIN_TONES))
        elif r < 0.6:
            parts.append(rng.choice(ZWJ_SEQUENCES))
        elif r < 0.7:
            parts.append(rng.choice(FLAGS))
        elif r < 0.75:
            parts.append(rng.choice("0123456789#*") + VS16 + "\u20e3")  # keycaps
        elif r < 0.85:
            parts.append(rng.choice(["lol", "ok", "wow", "yes!", "I'm", "it's"]))
        else:
            parts.append(rng.choice(["☀", "✈", "♥", "☺"]) + VS16)
        parts.append(rng.choice(["", " ", " ", "  ", "\n", ZWJ, "!"]))
    return "".join(parts)


COMBINING = [chr(c) for c in range(0x0300, 0x0370)] + ["\u20dd", "\u20e3", "\u0489"]


def _combining_line(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randint(3, 20)):
        base = "".join(rng.choices("aeiouncsAEIOU", k=rng.randint(1, 6)))
        r = rng.random()
        if r < 0.5:
            w = "".join(ch + "".join(rng.choices(COMBINING, k=rng.randint(0, 2))) for ch in base)
        elif r < 0.6:  # zalgo
            w = "".join(ch + "".join(rng.choices(COMBINING, k=rng.randint(5, 30))) for ch in base)
        elif r < 0.7:
            w = unicodedata.normalize("NFD", "한국어 ÅngströmÉcole")
        elif r < 0.8:
            w = rng.choice(COMBINING) * rng.randint(1, 4) + base  # marks with no base
        else:
            w = unicodedata.normalize("NFC", base + rng.choice(COMBINING))
        words.append(w)
    return " ".join(words)


CONTROL = [chr(c) for c in list(range(0x00, 0x09)) + [0x0B, 0x0C] + list(range(0x0E, 0x20))]
CONTROL += [chr(c) for c in range(0x7F, 0xA0)]  # DEL and C1, incl. U+0085
CONTROL += [
    "\u200b",
    "\u200c",
    "\u200e",
    "\u200f",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\ufffd",
    "\ufffe",
]
CONTROL += ["\U000e0001", "\U000e0041", "\U000f0000", "\U0010fffd", "\ue000"]  # tags, private use
UNI_SPACES = ["\u00a0", "\u2028", "\u2029", "\u3000", "\u0085", "\u1680", "\u202f", "\u205f"]
UNI_SPACES += [chr(c) for c in range(0x2000, 0x200B)] + [
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x1f",
]
RUN_UNITS = [" ", "\n", "\t", "\r\n", " \n", "\n ", " \t", "\r", "\u00a0", "\u3000", "\u2028", "0"]


def _whitespace_line(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(3, 25)):
        r = rng.random()
        if r < 0.35:
            n = rng.choice([1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 257])
            parts.append(rng.choice(RUN_UNITS) * n)
        elif r < 0.55:
            parts.append(rng.choice(UNI_SPACES) * rng.randint(1, 4))
        elif r < 0.7:
            parts.append("".join(rng.choices(CONTROL, k=rng.randint(1, 5))))
        else:
            parts.append(
                rng.choice(["word", "Word", "x", "_", "---", "!!", "12", "é", "中", "😀", "'s"])
            )
    return "".join(parts)


def _digits_line(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(2, 12)):
        r = rng.random()
        if r < 0.4:
            n = rng.choice([1, 2, 3, 4, 5, 6, 9, 10, 16, 33, 100, 500, 1000, 2048])
            parts.append("".join(rng.choices("0123456789", k=n)))
        elif r < 0.6:
            parts.append(f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 12)}f}")
        elif r < 0.7:
            parts.append(f"{rng.randint(0, 10**12):,}")
        elif r < 0.8:
            parts.append(
                f"{rng.randint(1900, 2100)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            )
        elif r < 0.9:
            parts.append("".join(rng.choices("²³¹¼½¾ⅠⅡⅫ①②⑳٣٤۵०१๓𝟘𝟙", k=rng.randint(1, 8))))
        else:
            parts.append(f"0x{rng.getrandbits(64):x}")
        parts.append(rng.choice([" ", "", ", ", "\n", "a", "abc", " x"]))
    return "".join(parts)


CONTRACTIONS = ["s", "t", "d", "m", "ll", "ve", "re"]
APOSTROPHES = ["'", "'", "'", "’", "`", "''"]


def _contractions_line(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randint(4, 30)):
        c = rng.choice(CONTRACTIONS)
        case = rng.random()
        if case < 0.3:
            c = c.upper()
        elif case < 0.45:
            c = c.capitalize()
        stem = rng.choice(
            ["it", "I", "you", "they", "don", "can", "we", "", "O", "rock", "1", "😀", " "]
        )
        tail = rng.choice(["", "", "", "s", "x", "'", " ", "abc", "123"])
        words.append(stem + rng.choice(APOSTROPHES) + c + tail)
    return rng.choice([" ", "  ", "\n"]).join(words)


def _special_line(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 6)):
        parts.append(
            rng.choice(
                [
                    ENDOFTEXT,
                    ENDOFTEXT * 2,
                    " " + ENDOFTEXT,
                    ENDOFTEXT + "\n",
                    "<|endoftext|",
                    "<|endoftext",
                    "<|endoftext|>>",
                    "<<|endoftext|>",
                    "< |endoftext|>",
                    "<|ENDOFTEXT|>",
                    "<|endof" + "text|>",
                    "<|im_start|>",
                    "<|",
                    "|>",
                ]
            )
        )
        parts.append(rng.choice(["", " ", "text", "\n\n", "Done."]))
    return "".join(parts)


def _random_codepoints(rng: random.Random) -> str:
    """Any code point but surrogates, mostly BMP: unassigned and newly assigned ones too."""
    out = []
    for _ in range(rng.randint(5, 40)):
        if rng.random() < 0.7:
            c = rng.randint(0x20, 0xFFFF)
        else:
            c = rng.randint(0x10000, 0x10FFFF)
        if 0xD800 <= c <= 0xDFFF:
            c = 0xFFFD
        out.append(chr(c))
        if rng.random() < 0.2:
            out.append(" ")
    return "".join(out)


# ----------------------------------------------------------------------------- assembly


def _crlf(s: str) -> str:
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def _one_line(s: str) -> str:
    return " ".join(s.split("\n"))


def pieces(size: int = 4_000_000, seed: int = SEED) -> list[str]:
    """The parts of the varied text (each a "paragraph" of one kind), shuffled."""
    rng = random.Random(seed)
    sources = _stdlib_sources(limit_chars=size // 3)
    out: list[str] = []
    # Code: whole files, some converted to CRLF, some with tabs.
    for i, src in enumerate(sources):
        if i % 5 == 1:
            src = _crlf(src)
        elif i % 5 == 2:
            src = src.replace("    ", "\t")
        out.append(src)
    # English prose.
    prose = _prose() + _comments(sources)
    out.extend(prose)
    made = sum(len(p) for p in out)
    # Generated kinds fill the rest (about a third of the text).
    rest = max(size - made, size // 3)
    out.extend(_script_paragraphs(rng, rest // 3))
    kinds = [
        _emoji_line,
        _combining_line,
        _whitespace_line,
        _digits_line,
        _contractions_line,
        _special_line,
        _random_codepoints,
    ]
    budget = rest - rest // 3
    while budget > 0:
        lines = [rng.choice(kinds)(rng) for _ in range(rng.randint(1, 8))]
        p = "\n".join(lines)
        out.append(p)
        budget -= len(p)
    rng.shuffle(out)
    # A few paragraphs become one long line, or CRLF.
    for i in range(0, len(out), 37):
        out[i] = _one_line(out[i])
    for i in range(5, len(out), 41):
        out[i] = _crlf(out[i])
    return out


SEPARATORS = [
    "\n\n",
    "\n",
    "\n\n\n",
    " \n\n",
    "\r\n\r\n",
    "\n" + ENDOFTEXT + "\n",
    ENDOFTEXT,
    "\n \n",
]


def varied_text(size: int = 4_000_000, seed: int = SEED) -> str:
    """Several MB of varied text (about `size` characters), the same on every call."""
    rng = random.Random(seed + 1)
    parts = pieces(size, seed)
    seps = rng.choices(SEPARATORS, weights=[40, 20, 5, 5, 5, 3, 1, 2], k=len(parts))
    return "".join(p + s for p, s in zip(parts, seps))


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def iter_lines(text: str) -> Iterator[str]:
    return iter(text.splitlines(keepends=True))


if __name__ == "__main__":
    import time

    t0 = time.perf_counter()
    mb = float(sys.argv[2]) if len(sys.argv) > 2 else 4.0
    text = varied_text(int(mb * 1_000_000))
    dt = time.perf_counter() - t0
    data = text.encode("utf-8")
    if len(sys.argv) > 1:
        with open(sys.argv[1], "wb") as f:
            f.write(data)
    print(f"{len(text):,} chars, {len(data):,} bytes in {dt:.2f} s", file=sys.stderr)
