//! The cl100k scanner against fancy-regex with tiktoken's pattern, piece by piece.

use super::super::gpt2::tests::{
    check_long_runs, for_each_string, random_string, XorShift, ALPHABET, TRICKY,
};
use super::super::regex_pattern::RegexSplitter;
use super::super::CL100K_PATTERN;
use super::*;

fn oracle() -> &'static RegexSplitter {
    static RE: std::sync::OnceLock<RegexSplitter> = std::sync::OnceLock::new();
    RE.get_or_init(|| RegexSplitter::new(CL100K_PATTERN).unwrap())
}

fn check(text: &str) {
    let mut want = Vec::new();
    oracle().for_each_piece(text, |p| want.push(p)).unwrap();
    let got: Vec<&str> = Cl100kPieces::new(text).collect();
    assert_eq!(got, want, "text {text:?}");
    assert_eq!(got.concat(), text);
}

/// Cases of cl100k's own rules: case-insensitive contractions (and U+017F, which folds to
/// `s`), 3-digit groups, a non-newline char leading letters, Other runs taking newlines, and
/// the `\s*[\r\n]` rule.
const CL100K_TRICKY: &[&str] = &[
    "'S 'D 'M 'T 'LL 'VE 'RE 'Ll 'lL 'Ve 'rE",
    "'\u{17F}",
    "'\u{17F}x",
    "x'\u{17F}",
    "'\u{212A}",
    "'k",
    "'K",
    "'sure",
    "'Sure",
    "'llama",
    "'velvet",
    "'x",
    "''x",
    "'1",
    "1",
    "12",
    "123",
    "1234",
    "1234567",
    "12 345",
    "x1234y",
    "٣٣٣٣",
    "１２３４",
    "½½½½",
    "\tfoo",
    "\u{A0}foo",
    "\u{3000}foo",
    "\nfoo",
    "\rfoo",
    " foo",
    "(foo",
    "$x",
    "'abc",
    "foo.\n\nbar",
    " .\n",
    ".\r\n",
    "..\r\n\r\nx",
    " !\n",
    "!\n \n",
    "a \n\n b",
    "  \n  x",
    "\n\n\n",
    " \n",
    "\n ",
    "x\n \n y",
    "\r\n\r\n  x",
    "\t\n\t",
    "x \t\n",
    " \u{A0}\nx",
    "\u{A0}\u{A0}x",
    "\u{85}x",
    "x\u{85}\u{85}",
    "  1",
    " 1",
    "\n1",
    "  \u{301}x",
    " \u{301}",
    "\u{301}abc",
    "ab\u{301}cd",
];

#[test]
fn tricky_cases() {
    for t in TRICKY.iter().chain(CL100K_TRICKY) {
        check(t);
    }
}

/// ALPHABET plus the chars that matter only here: U+017F and U+212A (Kelvin sign, folds to k).
fn alphabet() -> Vec<char> {
    let mut a = ALPHABET.to_vec();
    a.extend(['\u{17F}', '\u{212A}', 'k', 'D', 'E', 'R', 'V']);
    a
}

#[test]
fn all_strings_of_one_to_three_chars() {
    for_each_string(&alphabet(), &[1, 2, 3], check);
}

#[test]
fn all_strings_of_four_and_five_chars_small_alphabet() {
    const SMALL: &[char] = &[' ', '\'', 's', 'L', '1', '!', '\n', '\r', '\t', 'é'];
    for_each_string(SMALL, &[4, 5], check);
}

#[test]
fn random_strings() {
    let alpha = alphabet();
    let mut rng = XorShift(0xC100_C100_9E37_79B9);
    let mut s = String::new();
    for round in 0..20_000 {
        random_string(&mut rng, &alpha, round, &mut s);
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
        ("\u{3000}", "x"),
    ];
    check_long_runs(cases, |t| Cl100kPieces::new(t).collect(), check);
}

/// The contraction letters are exactly what regex-syntax's case folding gives (the engine
/// fancy-regex uses): `(?i:s)` is {S, s, U+017F}; d, m, t, l, v, e, r have only their ASCII pair.
#[test]
fn contraction_letters_are_the_regex_engines() {
    use regex_syntax::hir::{Class, HirKind};
    for (letter, want) in [
        ("s", vec!['S', 's', '\u{17F}']),
        ("d", vec!['D', 'd']),
        ("m", vec!['M', 'm']),
        ("t", vec!['T', 't']),
        ("l", vec!['L', 'l']),
        ("v", vec!['V', 'v']),
        ("e", vec!['E', 'e']),
        ("r", vec!['R', 'r']),
    ] {
        let hir = regex_syntax::Parser::new()
            .parse(&format!("(?i:{letter})"))
            .unwrap();
        let HirKind::Class(Class::Unicode(cls)) = hir.kind() else {
            panic!("(?i:{letter}) is not a class: {hir:?}");
        };
        let got: Vec<char> = cls
            .ranges()
            .iter()
            .flat_map(|r| (r.start()..=r.end()).collect::<Vec<_>>())
            .collect();
        assert_eq!(got, want, "(?i:{letter})");
    }
}
