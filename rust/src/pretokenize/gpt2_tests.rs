//! Tests of the GPT-2 scanner against fancy-regex (the oracle): exhaustive short strings,
//! generated text, long runs.
use super::super::regex_pattern::RegexSplitter;
use super::super::{GPT2_PATTERN, GPT2_PATTERN_CLASSIC};
use super::*;

fn oracle() -> &'static RegexSplitter {
    static RE: std::sync::OnceLock<RegexSplitter> = std::sync::OnceLock::new();
    RE.get_or_init(|| RegexSplitter::new(GPT2_PATTERN).unwrap())
}

fn oracle_classic() -> &'static RegexSplitter {
    static RE: std::sync::OnceLock<RegexSplitter> = std::sync::OnceLock::new();
    RE.get_or_init(|| RegexSplitter::new(GPT2_PATTERN_CLASSIC).unwrap())
}

fn regex_pieces<'t>(re: &RegexSplitter, text: &'t str) -> Vec<&'t str> {
    let mut v = Vec::new();
    re.for_each_piece(text, |p| v.push(p)).unwrap();
    v
}

fn check(text: &str) {
    let want = regex_pieces(oracle(), text);
    let got: Vec<&str> = Gpt2Pieces::new(text).collect();
    assert_eq!(got, want, "text {text:?}");
    assert_eq!(got.concat(), text);
}

fn check_both(text: &str) {
    check(text);
    let classic = regex_pieces(oracle_classic(), text);
    let got: Vec<&str> = Gpt2Pieces::new(text).collect();
    assert_eq!(got, classic, "classic pattern, text {text:?}");
}

/// Also run by the cl100k scanner's tests.
pub(crate) const TRICKY: &[&str] = &[
    "",
    "a",
    " ",
    "  ",
    "Hello world",
    "Hello, world! How's it going?",
    "don't",
    "DON'T",
    "I'm you're we've they'll he'd it's",
    "I'M YOU'RE WE'VE THEY'LL HE'D IT'S",
    "'s",
    "'S",
    "'ll",
    "'Ll",
    "'l",
    "'v",
    "'r",
    "'re",
    "'ree",
    "'",
    "''",
    "''s",
    "'''s",
    " 's",
    "  's",
    "a's",
    "1's",
    "!'s",
    "x 'll",
    "x'\u{2019}s",
    "x\u{2019}s",
    "'s'd'm't'll've're",
    "a  b",
    "a   b",
    "a \n b",
    "a\n\nb",
    "\n\n  x",
    "\n\n  ",
    "x  ",
    "x \n",
    "x\n",
    " x",
    "  x",
    "   123",
    " 123 456",
    "abc123def",
    "  !!!",
    " !!!abc",
    "a\r\nb",
    "a\r\n\r\nb",
    "\r\n",
    "\t\tx",
    "\tx",
    " \tx",
    "\t x",
    "a\u{00a0}b",
    "a \u{00a0}b",
    "a\u{00a0} b",
    "a\u{00a0}\u{00a0}b",
    "a\u{2028}b",
    "a\u{3000}b",
    "a\u{3000}",
    "a\u{0085}b",
    "a\u{000B}b",
    "a\u{000C}b",
    "a\u{001C}b",
    "cafe\u{0301}",
    " cafe\u{0301} au lait",
    "e\u{0301}\u{0301}x",
    " \u{0301}",
    "中文字符 测试",
    "日本語のテキスト、です。",
    "👍🏽 ok",
    "👨\u{200D}👩\u{200D}👧",
    " 👨\u{200D}👩\u{200D}👧 family",
    "❤\u{FE0F}x",
    "١٢٣ ٤٥٦",
    "１２３ ４５６",
    "ªº",
    " Ⅻ Ⅻx",
    "x² 10³",
    "½ ¼",
    "x \u{200B}y",
    "x\u{200B} y",
    "Привет, мир!",
    "Γειά σου Κόσμε",
    "مرحبا بالعالم",
    "fn main() {\n    println!(\"hi\");\n}\n",
    "def f(x):\n\treturn x**2  # sq\n\n\n",
    "    indented\n        more\n",
    "trailing spaces   ",
    "trailing mixed \t\n ",
    "\u{10FFFF}\u{E000}\u{FFFD}",
    "😀😀 😀",
    "a\u{1680}b",
    "<|endoftext|>",
    " <|endoftext|> ",
];

#[test]
fn tricky_cases() {
    for t in TRICKY {
        check_both(t);
    }
}

/// Representative chars: every class, ASCII and not, of every UTF-8 length, and the chars the
/// pattern names (`'`, ' ', contraction letters).
pub(crate) const ALPHABET: &[char] = &[
    ' ',
    '\u{2009}',
    '\'',
    's',
    'd',
    'm',
    't',
    'l',
    'v',
    'e',
    'r',
    'S',
    'L',
    'x',
    '0',
    '9',
    '!',
    '.',
    ',',
    '_',
    '-',
    '\n',
    '\r',
    '\t',
    '\u{0B}',
    '\u{0C}',
    '\u{00}',
    '\u{1F}',
    '\u{7F}',
    '\u{85}',
    '\u{A0}',
    'é',
    'ª',
    '²',
    '½',
    '\u{0301}',
    '\u{0300}',
    'Ж',
    'ω',
    'ß',
    'ı',
    '٣',
    '١',
    'ع',
    '\u{1680}',
    '\u{2000}',
    '\u{2028}',
    '\u{2029}',
    '\u{202F}',
    '\u{3000}',
    '\u{200B}',
    '\u{200D}',
    '\u{FE0F}',
    '中',
    'あ',
    'Ⅻ',
    '３',
    'Ａ',
    '€',
    '\u{2019}',
    '😀',
    '𝐀',
    '𝟘',
    '\u{10FFFF}',
    '\u{E000}',
];

#[test]
fn all_pairs_and_triples() {
    for_each_string(ALPHABET, &[1, 2, 3], check);
}

/// Quadruples over a smaller alphabet: enough to exercise two-char runs before/after spaces.
#[test]
fn all_quadruples_small_alphabet() {
    const SMALL: &[char] = &[
        ' ', '\'', 's', 'l', 'x', '1', '!', '\n', '\u{A0}', 'é', '\u{301}',
    ];
    for_each_string(SMALL, &[4], check);
}

/// Each `unit` repeated to 1 MiB, then `tail`: `pieces` must split it fast and losslessly, and
/// `check` (the scanner against the regex) must pass on a 4096-unit copy of the same shape.
pub(crate) fn check_long_runs(
    cases: &[(&str, &str)],
    pieces: fn(&str) -> Vec<&str>,
    check: fn(&str),
) {
    let n = 1 << 20;
    for &(unit, tail) in cases {
        let text = unit.repeat(n / unit.len()) + tail;
        let t0 = std::time::Instant::now();
        let got = pieces(&text);
        // Linear: milliseconds. A re-scanning (quadratic) scanner would take hours on 1 MiB.
        assert!(t0.elapsed().as_secs_f64() < 20.0, "slow on {unit:?}");
        assert_eq!(got.concat(), text);
        // The oracle is fast enough on a shorter copy of the same shape.
        check(&(unit.repeat(4096) + tail));
    }
}

/// Calls `f` with every string of each length in `lens` over `alphabet` (the scanners'
/// exhaustive tests).
pub(crate) fn for_each_string(alphabet: &[char], lens: &[u32], mut f: impl FnMut(&str)) {
    let n = alphabet.len();
    let mut s = String::new();
    for &len in lens {
        for code in 0..n.pow(len) {
            s.clear();
            let mut c = code;
            for _ in 0..len {
                s.push(alphabet[c % n]);
                c /= n;
            }
            f(&s);
        }
    }
}

pub(crate) struct XorShift(pub(crate) u64);
impl XorShift {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Fills `s` with a random string for round `round`: 1-24 characters (1-200 every tenth round),
/// mostly from `alphabet`, sometimes any code point at all. Shared with the cl100k tests.
pub(crate) fn random_string(rng: &mut XorShift, alphabet: &[char], round: usize, s: &mut String) {
    s.clear();
    let len = 1 + rng.below(if round.is_multiple_of(10) { 200 } else { 24 });
    for _ in 0..len {
        let c = if rng.below(8) == 0 {
            loop {
                if let Some(c) = char::from_u32(rng.below(0x11_0000) as u32) {
                    break c;
                }
            }
        } else {
            alphabet[rng.below(alphabet.len())]
        };
        s.push(c);
    }
}

#[test]
fn random_strings() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut s = String::new();
    for round in 0..20_000 {
        random_string(&mut rng, ALPHABET, round, &mut s);
        check(&s);
    }
}

#[test]
fn random_words_and_spaces() {
    // Texts shaped like prose and code: words, digits, punctuation, runs of spaces and newlines.
    let atoms = [
        "the", "'s", "'t", "'re", "'ll", " ", "  ", "   ", "\n", "\n\n", "\t", "\r\n", "123", "4",
        ".", ",", "!", "?!", "(", ")", "{", "}", "==", "->", "é", "naïve", "中文", "😀", "\u{A0}",
        "\u{3000}", "Ⅻ", "٣", "'", "\"",
    ];
    let mut rng = XorShift(12345);
    let mut s = String::new();
    for _ in 0..10_000 {
        s.clear();
        for _ in 0..rng.below(30) {
            s.push_str(atoms[rng.below(atoms.len())]);
        }
        check(&s);
    }
}

#[test]
fn long_runs_are_linear_and_correct() {
    // Each of these would be slow if the scanner re-scanned runs; they must also be exact.
    let cases = &[
        (" ", ""),
        (" ", "x"),
        ("\n", "x"),
        ("^", ""),
        ("7", " "),
        ("a", ""),
        (" \n", "x"),
        ("\u{3000}", "x"),
        ("é", "!"),
    ];
    check_long_runs(cases, |t| Gpt2Pieces::new(t).collect(), check);
    // A run of spaces before a word: one piece (all but one space), then " word".
    let text = " ".repeat(1000) + "word";
    let got: Vec<&str> = Gpt2Pieces::new(&text).collect();
    assert_eq!(got, vec![&text[..999], " word"]);
}

#[test]
fn ends_are_char_boundaries_on_mixed_text() {
    let text = "ab\u{00a0}\u{00a0}cd \u{1F600}\u{1F600} \u{3000}\u{3000}x";
    check(text);
}

/// Throughput versus fancy-regex: `cargo test --release --lib pretokenize::gpt2 -- --ignored
/// --nocapture`. Set `FASTBPE_BENCH_FILES` to a `:`-separated list of files to measure those;
/// otherwise synthetic English-like, code-like and multilingual texts are generated.
#[test]
#[ignore]
fn throughput_vs_fancy_regex() {
    let mut inputs: Vec<(String, String)> = Vec::new();
    if let Ok(files) = std::env::var("FASTBPE_BENCH_FILES") {
        for f in files.split(':').filter(|f| !f.is_empty()) {
            let bytes = std::fs::read(f).unwrap();
            inputs.push((f.to_string(), String::from_utf8_lossy(&bytes).into_owned()));
        }
    } else {
        inputs = synthetic_inputs();
    }
    for (name, text) in &inputs {
        let mb = text.len() as f64 / 1e6;
        let mut best_scan = f64::MAX;
        let mut n_scan = 0usize;
        for _ in 0..5 {
            let t0 = std::time::Instant::now();
            n_scan = 0;
            for p in Gpt2Pieces::new(text) {
                n_scan += 1;
                std::hint::black_box(p);
            }
            best_scan = best_scan.min(t0.elapsed().as_secs_f64());
        }
        let mut best_re = f64::MAX;
        let mut n_re = 0usize;
        for _ in 0..2 {
            let t0 = std::time::Instant::now();
            n_re = 0;
            oracle()
                .for_each_piece(text, |p| {
                    n_re += 1;
                    std::hint::black_box(p);
                })
                .unwrap();
            best_re = best_re.min(t0.elapsed().as_secs_f64());
        }
        assert_eq!(n_scan, n_re);
        eprintln!(
            "{name}: {mb:.1} MB, {n_scan} pieces | scanner {:.0} MB/s ({:.1} M pieces/s) | \
             fancy-regex {:.1} MB/s ({:.2} M pieces/s) | {:.1}x",
            mb / best_scan,
            n_scan as f64 / best_scan / 1e6,
            mb / best_re,
            n_re as f64 / best_re / 1e6,
            best_re / best_scan
        );
    }
}

/// Scans `FASTBPE_BENCH_FILES` once, without the oracle: for instruction counts under
/// `valgrind --tool=cachegrind` when wall-clock timings are too noisy.
#[test]
#[ignore]
fn scan_only_for_profiling() {
    let files = std::env::var("FASTBPE_BENCH_FILES").unwrap_or_default();
    for f in files.split(':').filter(|f| !f.is_empty()) {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        let n = Gpt2Pieces::new(&text)
            .map(|p| std::hint::black_box(p).len())
            .sum::<usize>();
        assert_eq!(n, text.len());
    }
}

fn synthetic_inputs() -> Vec<(String, String)> {
    let mut rng = XorShift(777);
    let words = [
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "it",
        "as",
        "was",
        "with",
        "be",
        "by",
        "on",
        "not",
        "he",
        "this",
        "are",
        "or",
        "his",
        "from",
        "at",
        "which",
        "but",
        "have",
        "an",
        "had",
        "they",
        "you",
        "were",
        "their",
        "one",
        "all",
        "we",
        "can",
        "her",
        "has",
        "there",
        "been",
        "if",
        "more",
        "when",
        "will",
        "would",
        "who",
        "so",
        "no",
        "information",
        "government",
        "development",
        "Tokenizer",
        "However",
        "The",
        "In",
        "1984",
        "2",
        "people",
        "don't",
        "it's",
        "we'll",
    ];
    let mut english = String::new();
    while english.len() < 8_000_000 {
        english.push_str(words[rng.below(words.len())]);
        match rng.below(20) {
            0 => english.push_str(", "),
            1 => english.push_str(". "),
            2 => english.push_str(".\n\n"),
            _ => english.push(' '),
        }
    }
    let lines = [
        "fn main() {",
        "    let mut x = vec![1, 2, 3];",
        "    for i in 0..x.len() {",
        "        x[i] += 1; // bump",
        "    }",
        "    if let Some(v) = map.get(&key) { return Ok(v.clone()); }",
        "}",
        "",
        "def parse(self, text: str) -> list[int]:",
        "        return [ord(c) for c in text if c != '\\n']",
        "#include <stdio.h>",
        "\tprintf(\"%d\\n\", argc);",
        "const SIZE: usize = 0x7FFF_FFFF;",
    ];
    let mut code = String::new();
    while code.len() < 8_000_000 {
        code.push_str(lines[rng.below(lines.len())]);
        code.push('\n');
    }
    let multi_words = [
        "Привет",
        "мир",
        "это",
        "тест",
        "中文",
        "字符",
        "测试",
        "日本語",
        "です",
        "。",
        "،",
        "مرحبا",
        "بالعالم",
        "Γειά",
        "σου",
        "naïve",
        "café",
        "über",
        "Straße",
        "١٢٣",
        "😀",
    ];
    let mut multi = String::new();
    while multi.len() < 8_000_000 {
        multi.push_str(multi_words[rng.below(multi_words.len())]);
        multi.push(if rng.below(10) == 0 { '\n' } else { ' ' });
    }
    vec![
        ("synthetic English".into(), english),
        ("synthetic code".into(), code),
        ("synthetic multilingual".into(), multi),
    ]
}
