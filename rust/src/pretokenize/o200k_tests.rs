//! The o200k scanner against fancy-regex with tiktoken's pattern, piece by piece, and its class
//! table against the pattern's own bracket expressions for every code point.

use super::super::gpt2::tests::{
    check_long_runs, for_each_string, random_string, XorShift, TRICKY,
};
use super::super::regex_pattern::RegexSplitter;
use super::super::unicode_class::class_ranges;
use super::super::O200K_PATTERN;
use super::*;

fn oracle() -> &'static RegexSplitter {
    static RE: std::sync::OnceLock<RegexSplitter> = std::sync::OnceLock::new();
    RE.get_or_init(|| RegexSplitter::new(O200K_PATTERN).unwrap())
}

fn check(text: &str) {
    let mut want = Vec::new();
    oracle().for_each_piece(text, |p| want.push(p)).unwrap();
    let got: Vec<&str> = O200kPieces::new(text).collect();
    assert_eq!(got, want, "text {text:?}");
    assert_eq!(got.concat(), text);
}

/// One char of each class and of each role the pattern gives a char, ASCII and not, of every
/// UTF-8 length: whitespace (the prefix kind and \r \n), `'` and the suffix letters in both
/// cases (and U+017F, which folds to `s`), lower-only, upper-only (uppercase and titlecase),
/// caseless letters (Lm, Lo), marks (Mn, Mc, Me), digits of several kinds, `/` (which
/// `[\r\n/]*` takes) and other punctuation, symbols and controls.
#[rustfmt::skip]
const ALPHABET: &[char] = &[
    ' ', '\t', '\n', '\r', '\u{0B}', '\u{85}', '\u{A0}', '\u{2028}', '\u{3000}', '\'', 's', 't',
    'r', 'e', 'v', 'm', 'l', 'd', 'S', 'T', 'R', 'E', 'V', 'M', 'L', 'D', '\u{17F}', 'x', 'é', 'ß',
    'ω', '𝐚', 'X', 'Ж', 'Ａ', '𝐀', '\u{212A}', 'ǅ', 'ᾈ', 'ʰ', 'ー', 'ª', '中', 'ع', '𠀀', '\u{301}',
    '\u{93E}', '\u{20DD}', '\u{1D165}', '1', '٣', '½', 'Ⅻ', '𝟘', '/', '!', '.', '_', '😀',
    '\u{200D}', '\u{0}', '\u{2019}',
];

/// Contractions in every case after each kind of letter run, and the pattern's other corners.
#[rustfmt::skip]
fn tricky() -> Vec<String> {
    let mut out: Vec<String> = TRICKY.iter().map(|s| s.to_string()).collect();
    let runs = [
        "", "x", "X", "xy", "XY", "Xy", "xY", "XYz", "xYZ", "ǅ", "ǅa", "aǅ", "中", "中A", "A中",
        "A中B", "e\u{301}", "E\u{301}", "\u{301}", "\u{301}A", "A\u{301}B", " x", " X", "!X",
        "!x", "\tX", "\u{A0}x", "\u{301}\u{301}", "ʰA", "AB\u{93E}CD",
    ];
    let suffixes = [
        "'s", "'S", "'\u{17F}", "'t", "'T", "'re", "'RE", "'rE", "'Re", "'ve", "'VE", "'m", "'M",
        "'ll", "'LL", "'lL", "'d", "'D", "'r", "'l", "'v", "'x", "'", "''s", "'s's", "'\u{212A}",
    ];
    for run in runs {
        for suffix in suffixes {
            for tail in ["", "x", "X", " ", "\u{301}", "1"] {
                out.push(format!("{run}{suffix}{tail}"));
            }
        }
    }
    let corners = [
        "CamelCaseWord", "HTTPServer", "iPhone", "XMLHttpRequest", "ALLCAPS", "ǅemal", "ᾈᾈᾈ",
        "中文English中文", "Straße", "ÉCOLE école", "e\u{301}cole", "\u{301}\u{301}x",
        "  \u{301}x", " \u{301}", "!\u{301}abc", "!!\u{301}a", "a\u{20DD}b", "1", "12", "123",
        "1234", "1234567", "٣٣٣٣", "x1234y", "  1", "a/b", "a//b", "!/\n/", " !\r\n/x",
        "http://x.y/z", "//\n\n", ".\r\n\r\n", " .\n", "..\n  x", "  \n  x", "\n\n\n", " \n",
        "\n ", "\n  ", "x \n", "a \n\n b  ", "\r\n\r\n  x", "\t\n\t", "\t\tx", "\u{A0}\u{A0}x",
        "\u{3000}x", "x\u{85}\u{85}", "   ", "   x", "  !", " \t!", "\t!", "a\u{2028}b",
        "👍🏽 ok", "😀\u{301}", " 😀x", "\u{0}x", "<|endoftext|>",
    ];
    out.extend(corners.iter().map(|s| s.to_string()));
    out
}

#[test]
fn tricky_cases() {
    for t in tricky() {
        check(&t);
    }
}

#[test]
fn all_strings_of_one_to_three_chars() {
    for_each_string(ALPHABET, &[1, 2, 3], check);
}

#[test]
fn all_strings_of_four_and_five_chars_small_alphabet() {
    // One of each role: prefix whitespace, ' ', newline, `'` + suffix letter, lower, upper,
    // caseless, mark, digit, `/`, other.
    const SMALL: &[char] = &[
        ' ', '\t', '\n', '\'', 's', 'l', 'S', '中', '\u{301}', '1', '/', '!',
    ];
    for_each_string(SMALL, &[4, 5], check);
}

#[test]
fn random_strings() {
    let mut rng = XorShift(0x0200_0200_9E37_79B9);
    let mut s = String::new();
    for round in 0..20_000 {
        random_string(&mut rng, ALPHABET, round, &mut s);
        check(&s);
    }
}

#[test]
fn long_runs_are_linear_and_correct() {
    let cases = &[
        (" ", ""),
        (" ", "x"),
        ("\n", "x"),
        (" \n", "x"),
        ("^", "\n"),
        ("7", " "),
        ("a", ""),
        ("A", "'s"),
        ("中A", ""),
        ("\u{301}", "A"),
        ("\u{301}A", ""),
        ("/", "x"),
        ("\u{3000}", "x"),
    ];
    check_long_runs(cases, |t| O200kPieces::new(t).collect(), check);
}

/// `true` at each code point in the ranges.
fn members(ranges: &[(u32, u32)]) -> Vec<bool> {
    let mut v = vec![false; 0x11_0000];
    for &(lo, hi) in ranges {
        v[lo as usize..=hi as usize].fill(true);
    }
    v
}

/// Every set the pattern names, as regex-syntax (fancy-regex's parser and tables) compiles the
/// very bracket expression the pattern writes, against what the scanner derives from its
/// class byte, for all 0x110000 code points.
#[test]
fn class_table_gives_the_patterns_sets_for_every_code_point() {
    type FromClass = fn(u8) -> bool;
    let sets: [(&str, FromClass); 6] = [
        (r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]", |c| {
            matches!(c, UPPER | CASELESS | MARK)
        }),
        (r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]", in_lower_set),
        (r"[^\r\n\p{L}\p{N}]", |c| matches!(c, MARK | SPACE | OTHER)),
        (r"[^\s\p{L}\p{N}]", |c| matches!(c, MARK | OTHER)),
        (r"\p{N}", |c| c == NUMBER),
        (r"\s", |c| c == SPACE),
    ];
    let t = table();
    for (pattern, derived) in sets {
        let want = members(&class_ranges(pattern));
        for (cp, &want) in want.iter().enumerate() {
            let mut c = t.class_u32(cp as u32);
            // \r and \n are whitespace to the table; only the prefix set excludes them, and the
            // scanner tests those bytes itself.
            if pattern.starts_with(r"[^\r\n") && (cp == 0x0A || cp == 0x0D) {
                c = NUMBER; // a class outside the prefix set
            }
            assert_eq!(derived(c), want, "U+{cp:04X} in {pattern}");
        }
    }
    // The letter classes are exactly \p{L}.
    let letters = members(&class_ranges(r"\p{L}"));
    for (cp, &l) in letters.iter().enumerate() {
        let c = t.class_u32(cp as u32);
        assert_eq!(matches!(c, UPPER | LOWER | CASELESS), l, "U+{cp:04X}");
    }
    assert_eq!(t.class_u32(0x11_0000), OTHER);
}

#[test]
fn ascii_table_matches_unicode_table() {
    for b in 0u8..128 {
        assert_eq!(
            ASCII[b as usize],
            table().class_u32(b as u32),
            "byte {b:#x}"
        );
    }
    assert!(ASCII[128..].iter().all(|&c| c == NON_ASCII));
}

/// The same sets through fancy-regex itself on a sample (stride 53, and both sides of every
/// boundary of the letter and mark classes).
#[test]
fn class_table_matches_fancy_regex_on_a_sample() {
    let upper = fancy_regex::Regex::new(r"^[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]$").unwrap();
    let lower = fancy_regex::Regex::new(r"^[\p{Ll}\p{Lm}\p{Lo}\p{M}]$").unwrap();
    let punct = fancy_regex::Regex::new(r"^[^\s\p{L}\p{N}]$").unwrap();
    let mut cps: Vec<u32> = (0..=0x10FFFF).step_by(53).collect();
    for (_, pattern) in CLASSES {
        for (lo, hi) in class_ranges(pattern) {
            cps.extend([lo.saturating_sub(1), lo, hi, hi + 1]);
        }
    }
    let mut buf = [0u8; 4];
    let mut checked = 0;
    for cp in cps {
        let Some(ch) = char::from_u32(cp) else {
            continue;
        };
        let s: &str = ch.encode_utf8(&mut buf);
        let c = table().class_u32(cp);
        assert_eq!(
            upper.is_match(s).unwrap(),
            matches!(c, UPPER | CASELESS | MARK),
            "U+{cp:04X}"
        );
        assert_eq!(lower.is_match(s).unwrap(), in_lower_set(c), "U+{cp:04X}");
        assert_eq!(
            punct.is_match(s).unwrap(),
            matches!(c, MARK | OTHER),
            "U+{cp:04X}"
        );
        checked += 1;
    }
    assert!(checked > 20_000, "{checked}");
}

#[test]
fn table_size() {
    let t = table();
    assert!(t.heap_bytes() < 128 * 1024, "{} bytes", t.heap_bytes());
    eprintln!(
        "o200k class table: {} distinct blocks, {} bytes",
        t.distinct_blocks(),
        t.heap_bytes()
    );
}

#[test]
fn the_pattern_selects_the_scanner() {
    let p = super::super::Pretokenizer::from_pattern(O200K_PATTERN).unwrap();
    assert!(matches!(p, super::super::Pretokenizer::O200k));
    assert_eq!(p.pattern(), O200K_PATTERN);
    assert_eq!(
        p.pieces("Hello's WORLD'S").unwrap(),
        ["Hello's", " WORLD'S"]
    );
}
