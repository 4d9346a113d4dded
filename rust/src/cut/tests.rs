use super::*;
use crate::special::{Segment, SpecialMatcher};

fn cutter(specials: &[&str], rule: CutRule) -> Cutter {
    let s: Vec<String> = specials.iter().map(|s| s.to_string()).collect();
    Cutter::new(&s, rule).unwrap()
}

fn all_cuts(c: &Cutter, text: &[u8]) -> Vec<usize> {
    (1..text.len()).filter(|&x| c.is_cut(text, 0, x)).collect()
}

#[test]
fn is_cut_agrees_with_find_cut() {
    let pretok = Pretokenizer::from_pattern(r"\w+\r?|\s+|[^\w\s]+").unwrap();
    let specials = vec!["<x".to_string(), "x>".to_string(), "aa".to_string()];
    for c in [
        Cutter::new(&specials, CutRule::Gpt2).unwrap(),
        Cutter::for_pretokenizer(&specials, &pretok).unwrap(),
    ] {
        let text = lcg_text(1500, 5, &ALPHABET).into_bytes();
        for x in 1..text.len() {
            assert_eq!(
                c.is_cut(&text, 0, x),
                c.find_cut(&text, 0, x, true) == Cut::At(x),
                "{x}"
            );
        }
    }
}

/// The reference: special-token segments (leftmost-longest, as the encoder), then pieces.
fn reference_pieces(text: &str, specials: &[String], pretok: &Pretokenizer) -> Vec<String> {
    let m = SpecialMatcher::new(specials).unwrap();
    let mut out = Vec::new();
    for seg in m.split(text) {
        match seg {
            Segment::Special(_, s) => out.push(format!("<special {s}>")),
            Segment::Text(t) => out.extend(pretok.pieces(t).unwrap().into_iter().map(String::from)),
        }
    }
    out
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

fn lcg_text(n: usize, seed: u64, alphabet: &[&str]) -> String {
    let mut r = Lcg(seed);
    let mut out = String::new();
    while out.len() < n {
        out.push_str(alphabet[r.next() % alphabet.len()]);
    }
    out
}

const ALPHABET: [&str; 22] = [
    "a", "b", " ", "\n", "é", "<|s|>", ".", "  ", "\n\n", "x1", "\t", "\r\n", "\r", "\u{3000}",
    "\u{a0}", "'s", "7", "!!", " \n", "世", "aa", "<x>",
];

#[test]
fn whitespace_after_non_space_only() {
    let c = cutter(&[], CutRule::Gpt2);
    let t = "a \nb\n\nc é\nx".as_bytes();
    // Before " " after "a" (1), "\n" after "b" (4), " " after "c" (7), "\n" after "é" (10);
    // never inside or right after a whitespace run.
    assert_eq!(all_cuts(&c, t), vec![1, 4, 7, 10]);
    // Every ASCII whitespace byte is a candidate (CR, VT, FF too).
    assert_eq!(all_cuts(&c, b"a\rb\x0bc\x0cd\te"), vec![1, 3, 5, 7]);
}

#[test]
fn special_only_rule() {
    let c = cutter(&[], CutRule::SpecialOnly);
    assert!(all_cuts(&c, b"a.\nb\nc d").is_empty());
}

#[test]
fn special_tokens_are_cuts_unless_straddled() {
    let c = cutter(&["<|eot|>", "x<|e"], CutRule::SpecialOnly);
    let t = b"ab<|eot|>cd x<|eot|>";
    // "<|eot|>" at 2 is a cut; the one at 13 is straddled by "x<|e" at 12, which is itself a cut.
    assert_eq!(all_cuts(&c, t), vec![2, 12]);
    // Self-overlapping: inside a run of "aa" occurrences no start is safe but the first.
    let c = cutter(&["aa"], CutRule::SpecialOnly);
    assert_eq!(all_cuts(&c, b"xaaay"), vec![1]);
}

#[test]
fn never_inside_a_special_token_containing_newline() {
    let c = cutter(&["a\nb"], CutRule::Gpt2);
    let t = b"xa\nby\nz";
    assert_eq!(all_cuts(&c, t), vec![1, 5]);
}

#[test]
fn need_more_at_buffer_end() {
    let c = cutter(&["<|endoftext|>"], CutRule::Gpt2);
    assert!(matches!(
        c.find_cut(b"abc", 0, 1, false),
        Cut::NeedMore { .. }
    ));
    assert_eq!(c.find_cut(b"abc", 0, 1, true), Cut::End);
    // A newline near the end cannot be decided without the bytes after it.
    assert_eq!(
        c.find_cut(b"ab\n<|end", 0, 1, false),
        Cut::NeedMore { resume: 2 }
    );
    assert_eq!(c.find_cut(b"ab\n<|endoftext|>", 0, 1, false), Cut::At(2));
}

#[test]
fn invalid_utf8_before_whitespace_is_not_a_cut() {
    let c = cutter(&[], CutRule::Gpt2);
    assert_eq!(all_cuts(&c, b"a\xe2\x82\nb\nc"), vec![5]);
}

#[test]
fn rule_for_patterns() {
    let rule = |p: &str| CutRule::for_pattern(&Pretokenizer::from_pattern(p).unwrap());
    assert!(matches!(
        rule(crate::pretokenize::GPT2_PATTERN),
        CutRule::Gpt2
    ));
    assert!(matches!(rule(r"\S+"), CutRule::Verified(_)));
    let cl100k = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+";
    assert!(matches!(rule(cl100k), CutRule::Verified(_)));
    assert!(matches!(rule(r"\w+\r?|\s+|[^\w\s]+"), CutRule::Verified(_)));
    assert!(matches!(rule(r"[^\n]*\n"), CutRule::SpecialOnly));
    assert!(matches!(rule(r"\S+\s*"), CutRule::SpecialOnly));
    assert!(matches!(rule(r"(?s).+"), CutRule::SpecialOnly));
}

#[test]
fn crlf_user_pattern_is_not_cut_before_cr() {
    // Issue 9, item 2: `\w+\r?` glues "\r" to the word, so a cut before "\r" changes pieces.
    let pretok = Pretokenizer::from_pattern(r"\w+\r?|\s+|[^\w\s]+").unwrap();
    let c = Cutter::for_pretokenizer(&[], &pretok).unwrap();
    let t = b"ab\r\ncd\r\nef";
    assert_eq!(all_cuts(&c, t), vec![3, 7]);
}

/// Every cut the rule allows keeps the pieces (and special-token segments) of the whole text,
/// for GPT-2 and user patterns, special tokens that overlap, self-overlap and are prefixes of
/// each other, over text with CRLF, CR and LF.
#[test]
fn every_cut_keeps_the_pieces() {
    let patterns = [
        crate::pretokenize::GPT2_PATTERN,
        r"\w+\r?|\s+|[^\w\s]+",
        r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+",
        r"\S+",
        r"\s+(?!\S)|\s+|\w+|.",
        r"[a-z]+|\r\n|\n|\r| ",
    ];
    let special_sets: [&[&str]; 5] = [
        &[],
        &["<|s|>"],
        &["aa"],
        &["<x", "x>", "<x>"],
        &["a", "a a", "\r\n"],
    ];
    for pattern in patterns {
        let pretok = Pretokenizer::from_pattern(pattern).unwrap();
        for specials in special_sets {
            let specials: Vec<String> = specials.iter().map(|s| s.to_string()).collect();
            let c = Cutter::for_pretokenizer(&specials, &pretok).unwrap();
            for seed in 0..6u64 {
                let text = lcg_text(400, seed, &ALPHABET);
                let whole = reference_pieces(&text, &specials, &pretok);
                for p in all_cuts(&c, text.as_bytes()) {
                    let mut joined = reference_pieces(&text[..p], &specials, &pretok);
                    joined.extend(reference_pieces(&text[p..], &specials, &pretok));
                    assert_eq!(
                        joined, whole,
                        "pattern {pattern:?} specials {specials:?} cut {p} in {text:?}"
                    );
                }
            }
        }
    }
}

/// A decision depends only on the bytes around the position: cutting any window out of the
/// stream (with `context()` bytes before the start) gives the same first cut.
#[test]
fn decisions_are_local() {
    let pretoks = [
        Pretokenizer::gpt2(),
        Pretokenizer::from_pattern(r"\w+\r?|\s+|[^\w\s]+").unwrap(),
    ];
    for pretok in &pretoks {
        for specials in [vec![], vec!["<|s|>".to_string(), "aa".to_string()]] {
            let c = Cutter::for_pretokenizer(&specials, pretok).unwrap();
            let k = c.context();
            let text = lcg_text(6000, 7, &ALPHABET).into_bytes();
            let mut r = Lcg(3);
            for _ in 0..200 {
                let x = k + r.next() % (text.len() - k);
                let whole = next_safe_cut(&c, &text, x, true, true);
                let lo = x - k - r.next() % 50.min(x - k + 1);
                let hi = (x + 1 + r.next() % 2000).min(text.len());
                let window = &text[lo..hi];
                if let Some(p) = next_safe_cut(&c, window, x - lo, false, hi == text.len()) {
                    assert_eq!(Some(p + lo), whole, "x {x} window {lo}..{hi}");
                }
            }
        }
    }
}

#[test]
fn split_str_tiles_and_keeps_gpt2_pieces() {
    let p = Pretokenizer::gpt2();
    let c = cutter(&[], CutRule::Gpt2);
    for seed in 0..30u64 {
        let text = lcg_text(3000, seed, &ALPHABET);
        let whole = p.pieces(&text).unwrap();
        for size in [1usize, 5, 50, 500] {
            let parts = split_str(&c, &text, size);
            assert_eq!(parts.concat(), text);
            let mut joined = Vec::new();
            for part in parts {
                joined.extend(p.pieces(part).unwrap());
            }
            assert_eq!(joined, whole, "seed {seed} size {size}");
        }
    }
}

#[test]
fn next_safe_cut_edges() {
    let c = cutter(&["<|s|>"], CutRule::Gpt2);
    let k = c.context();
    assert_eq!(next_safe_cut(&c, b"ab cd", 0, true, true), Some(0));
    assert_eq!(next_safe_cut(&c, b"ab cd", 1, true, true), Some(2));
    assert_eq!(next_safe_cut(&c, b"abcd", 1, true, true), Some(4));
    assert_eq!(next_safe_cut(&c, b"abcd", 1, true, false), None);
    assert_eq!(next_safe_cut(&c, b"ab", 3, true, true), None);
    // Without the stream's start, positions need `context()` bytes before them.
    let mut data = vec![b'x'; k];
    data.extend_from_slice(b"a b c d e f g");
    assert_eq!(next_safe_cut(&c, &data, 0, false, false), Some(k + 1));
}

#[test]
fn last_cut_is_the_last_of_all_cuts() {
    let pretok = Pretokenizer::from_pattern(r"\w+\r?|\s+|[^\w\s]+").unwrap();
    for specials in [
        vec![],
        vec!["<x".to_string(), "x>".to_string(), "aa".to_string()],
    ] {
        for c in [
            Cutter::new(&specials, CutRule::Gpt2).unwrap(),
            Cutter::for_pretokenizer(&specials, &pretok).unwrap(),
            Cutter::new(&specials, CutRule::SpecialOnly).unwrap(),
        ] {
            for seed in 0..10u64 {
                let text = lcg_text(4500 + seed as usize * 300, seed, &ALPHABET).into_bytes();
                let want = all_cuts(&c, &text).into_iter().max();
                assert_eq!(c.last_cut(&text, 0, true), want, "seed {seed}");
                let ahead = c.lookahead();
                let decided = all_cuts(&c, &text)
                    .into_iter()
                    .filter(|&p| p + ahead <= text.len())
                    .max();
                assert_eq!(c.last_cut(&text, 0, false), decided, "seed {seed}");
            }
        }
    }
}
