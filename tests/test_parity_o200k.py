"""o200k_base's pre-tokenizer (a hand-written scanner in Rust) gives tiktoken's ids.

Offline, with GPT-2's ranks under o200k's pattern: the ids depend on every piece boundary, so
equal ids mean equal pieces. With the real o200k_base file too, when tiktoken's cache has it
(conftest.py puts the copy the bpe-openai wheel ships there).
"""

from __future__ import annotations

import hashlib

import fastbpe
import pytest
import tiktoken
from conftest import assert_same_ids, gpt2_ranks_under
from fastbpe import _fastbpe, patterns, registry
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_the_scanner_is_selected_for_tiktokens_pattern():
    # The Rust core picks the scanner by string equality; tests/test_registry.py checks
    # patterns.O200K_PATTERN against the installed tiktoken.
    assert patterns.O200K_PATTERN == _fastbpe.O200K_PATTERN
    assert registry.ENCODINGS["o200k_base"].pattern == _fastbpe.O200K_PATTERN


@pytest.fixture(scope="module")
def gpt2_ranks_pair(gpt2_files):
    return gpt2_ranks_under(gpt2_files, patterns.O200K_PATTERN, "gpt2-ranks-o200k-pattern")


@pytest.fixture(scope="module")
def real_pair(gpt2_files):
    """fastbpe's and tiktoken's o200k_base, from the real file in tiktoken's cache."""
    f = registry.O200K_FILE
    p = f.cache_path()
    if p is None or not p.is_file() or hashlib.sha256(p.read_bytes()).hexdigest() != f.sha256:
        pytest.skip(f"o200k_base.tiktoken is not in tiktoken's cache ({p}); tests do not download")
    return fastbpe.get_encoding("o200k_base"), tiktoken.get_encoding("o200k_base")


PAIRS = ["gpt2_ranks_pair", "real_pair"]

# One of each thing the pattern treats apart: English, code, CJK, emoji (ZWJ, skin tones,
# variation selectors), combining marks (decomposed accents, Devanagari vowel signs, an
# enclosing mark), titlecase digraphs, case changes inside words, contractions in every case,
# other scripts' digits, `/` runs after punctuation, whitespace runs before letters, newlines and
# the end, control chars.
SAMPLE = (
    "The quick brown fox's DON'T we'LL they'Re I'M he'd you'VE it'ſ. HTTPServer XMLHttpRequest "
    "iPhone CamelCaseWords ALLCAPS\n"
    "def f(x):\n\treturn x**2  # 12345 1234567\n\n\n    if a/b//c: print('ok')\r\n\r\n"
    "https://example.com/a/b?c=1&d=2 //\n/\n"
    "中文English中文 日本語のテキスト、です。 한국어 Привет, МИР! Γειά σου Κόσμε مرحبا ١٢٣٤٥\n"
    "👍🏽 👨\u200d👩\u200d👧 ❤\ufe0f x😀\u0301 \u0301\u0301x\n"
    "cafe\u0301 e\u0301cole E\u0301COLE \u0915\u093e\u0930 a\u20ddb ǅemal ᾈᾈ ǈub ʰA 中A A中B\n"
    "½ Ⅻ ３４５ 𝟘𝟙 x² \u00a0\u00a0word \u3000word\t\tword \u2028x\u0085y\x0b\x0cz\n"
    "\x00\x01\x1f\x7f trailing spaces   \n  \n  indented\n \t \n"
)


@pytest.mark.parametrize("which", PAIRS)
def test_sample(which, request):
    fast, tik = request.getfixturevalue(which)
    assert_same_ids(SAMPLE, fast.encode_ordinary, tik.encode_ordinary)
    for line in SAMPLE.splitlines(keepends=True):
        assert_same_ids(line, fast.encode_ordinary, tik.encode_ordinary)


@pytest.mark.parametrize("which", PAIRS)
def test_varied_text(which, request, varied_text):
    fast, tik = request.getfixturevalue(which)
    text = varied_text[:1_000_000]
    assert_same_ids(text, fast.encode_ordinary, tik.encode_ordinary)
    lines = text.splitlines(keepends=True)[:3000]
    assert fast.encode_ordinary_batch(lines) == [tik.encode_ordinary(t) for t in lines]


# The pattern's own corners: case classes (upper, lower, titlecase, caseless letters, marks),
# contraction suffixes in every case (U+017F folds to s), digit groups of three, a prefix char
# before letters (any non-newline whitespace, punctuation, a mark), `[\r\n/]*` after punctuation,
# and the whitespace rules.
FRAGMENTS = [
    "'s",
    "'S",
    "'\u017f",
    "'t",
    "'re",
    "'RE",
    "'ve",
    "'Ve",
    "'m",
    "'ll",
    "'lL",
    "'d",
    "'",
    "a",
    "word",
    "Z",
    "WORD",
    "Word",
    "é",
    "É",
    "\u0301",
    "\u093e",
    "\u20dd",
    "ǅ",
    "ᾈ",
    "ʰ",
    "ー",
    "中",
    "ª",
    "я",
    "Я",
    "1",
    "12",
    "1234",
    "٣",
    "½",
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\u00a0",
    "\u3000",
    "\u0085",
    "\u2028",
    "\x0b",
    "/",
    "//",
    ".",
    "!",
    "(",
    "-",
    "😀",
    "\u200d",
    "<|endoftext|>",
    "\x00",
]
fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
any_text = st.text(max_size=200)
spacey_text = st.text(st.sampled_from(" \t\n\r/\u00a0\u0301a1.'sSǅ中"), max_size=200)
texts = st.one_of(fragment_text, any_text, spacey_text)


@SETTINGS
@given(texts)
@example("HTTPServer's \u0301A x'\u017f  \t\u00a0foo 12345 !/\r\n/\r\n  \n y")
@example("\n\n  x")
@example("a \n\n b  ")
def test_hypothesis_ids_gpt2_ranks(gpt2_ranks_pair, text):
    fast, tik = gpt2_ranks_pair
    assert fast.encode_ordinary(text) == tik.encode_ordinary(text)


@settings(SETTINGS, max_examples=150)
@given(texts)
def test_hypothesis_ids_real_ranks(real_pair, text):
    fast, tik = real_pair
    assert fast.encode_ordinary(text) == tik.encode_ordinary(text)
