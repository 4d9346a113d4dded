//! The properties each fuzz target checks, as plain functions of the input bytes.
//!
//! Shared three ways: the libFuzzer targets in `fuzz_targets/` call them, the fallback random driver
//! (`fuzz/tests/random.rs`) calls them, and the main crate's `rust/tests/fuzz_regressions.rs`
//! includes this file by path to replay every saved case in `fuzz/regressions/<target>/`.
//! A failed property panics (that is what libFuzzer records as a crash).
//!
//! This file must only use `fastbpe`'s public API and `std`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

// Relative to this file, so the path holds when rust/tests/fuzz_regressions.rs includes it.
#[path = "cuts.rs"]
pub mod cuts;

use fastbpe::encode::RankedToken;
use fastbpe::pretokenize::gpt2::Gpt2Pieces;
use fastbpe::pretokenize::regex_pattern::RegexSplitter;
use fastbpe::pretokenize::{Pretokenizer, GPT2_PATTERN, GPT2_PATTERN_CLASSIC};
use fastbpe::tokenizer::{Allowed, Tokenizer};

/// The fuzz targets, by name (also the folder names under `fuzz/regressions/`).
pub const TARGETS: &[&str] = &[
    "pretokenize",
    "pretokenize_cl100k",
    "pretokenize_o200k",
    "roundtrip",
    "loaders",
    "train",
    "cuts",
    "counts",
    "utf8",
];

/// Runs the check of target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "pretokenize" => pretokenize(data),
        "roundtrip" => roundtrip(data),
        "loaders" => loaders(data),
        "train" => train(data),
        "cuts" => cuts::cuts(data),
        "pretokenize_cl100k" => pretokenize_cl100k(data),
        "pretokenize_o200k" => pretokenize_o200k(data),
        "counts" => counts(data),
        "utf8" => utf8(data),
        _ => panic!("unknown fuzz target {name:?}"),
    }
}

// ------------------------------------------------------------------------------------------------
// pretokenize: the hand-written GPT-2 scanner == fancy-regex running the pattern.

fn oracles() -> &'static [RegexSplitter; 2] {
    static O: OnceLock<[RegexSplitter; 2]> = OnceLock::new();
    O.get_or_init(|| {
        [
            RegexSplitter::new(GPT2_PATTERN).expect("GPT-2 pattern compiles"),
            RegexSplitter::new(GPT2_PATTERN_CLASSIC).expect("classic GPT-2 pattern compiles"),
        ]
    })
}

pub fn pretokenize(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text: &str = &text;
    let scanner: Vec<&str> = Gpt2Pieces::new(text).collect();
    assert_eq!(
        scanner.concat(),
        text,
        "scanner pieces do not concatenate to the input"
    );
    assert!(
        scanner.iter().all(|p| !p.is_empty()),
        "scanner produced an empty piece"
    );
    for (which, oracle) in ["possessive", "classic"].iter().zip(oracles()) {
        let mut want: Vec<&str> = Vec::new();
        // The regex engine may give up (backtrack limit) on hostile input; then there is no oracle.
        if oracle.for_each_piece(text, |p| want.push(p)).is_err() {
            continue;
        }
        assert_eq!(
            scanner, want,
            "scanner != regex ({which} pattern) on {text:?}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// roundtrip: encode then decode gives the input bytes back; ids equal a naive tiktoken-rule BPE.

/// Bytes -> (rank, id), lowest rank kept for duplicate byte strings (as `Bpe::new` documents).
type Ranks = HashMap<Vec<u8>, (u32, u32)>;

/// tiktoken's rule, written the obvious (quadratic) way on byte strings: a piece that is a token is
/// that token; else repeatedly merge the adjacent pair whose concatenation has the lowest rank,
/// leftmost on ties.
pub fn naive_bpe(ranks: &Ranks, piece: &[u8], out: &mut Vec<u32>) {
    if let Some(&(_, id)) = ranks.get(piece) {
        out.push(id);
        return;
    }
    let mut parts: Vec<Vec<u8>> = piece.iter().map(|&b| vec![b]).collect();
    loop {
        let mut best: Option<(u32, usize)> = None;
        for i in 0..parts.len().saturating_sub(1) {
            let cat = [&parts[i][..], &parts[i + 1][..]].concat();
            if let Some(&(rank, _)) = ranks.get(&cat) {
                if best.is_none_or(|(r, _)| rank < r) {
                    best = Some((rank, i));
                }
            }
        }
        let Some((_, i)) = best else { break };
        let right = parts.remove(i + 1);
        parts[i].extend_from_slice(&right);
    }
    out.extend(parts.iter().map(|p| ranks[p].1));
}

fn ranks_of(tokens: &[RankedToken]) -> Ranks {
    let mut ranks = Ranks::new();
    for t in tokens {
        let e = ranks.entry(t.bytes.clone()).or_insert((t.rank, t.id));
        if t.rank < e.0 {
            *e = (t.rank, t.id);
        }
    }
    ranks
}

const SPECIALS: &[&str] = &["<|endoftext|>", "<|endoftext|><|endoftext|>", "<|fim|>"];

/// A fixed toy tokenizer: 256 bytes + a few CS336-style merges, three special tokens.
fn toy() -> &'static (Tokenizer, Ranks) {
    static T: OnceLock<(Tokenizer, Ranks)> = OnceLock::new();
    T.get_or_init(|| {
        let merges: Vec<(&[u8], &[u8])> = vec![
            (b"t", b"h"),
            (b"th", b"e"),
            (b" ", b"the"),
            (b"a", b"a"),
            (b"aa", b"aa"),
            (b"aaaa", b"aaaa"),
            (b"a", b"b"),
            (b"ab", b"ab"),
            (b" ", b" "),
            (b"  ", b"  "),
            (b"\n", b"\n"),
            (b"\xc3", b"\xa9"), // é
            (b"\xc3\xa9", b"\xc3\xa9"),
            (b"e", b"r"),
            (b"h", b"er"),
            (b"\xf0", b"\x9f"),
            (b"\xf0\x9f", b"\x98"), // the first 3 bytes of 😀
            (b"1", b"2"),
            (b"12", b"3"),
            (b"'", b"s"),
            (b"b", b"a"),
        ];
        let mut vocab: Vec<(u32, Vec<u8>)> = (0..256u32).map(|b| (b, vec![b as u8])).collect();
        for (l, r) in &merges {
            let id = vocab.len() as u32;
            vocab.push((id, [*l, *r].concat()));
        }
        let merges: Vec<(Vec<u8>, Vec<u8>)> = merges
            .iter()
            .map(|(l, r)| (l.to_vec(), r.to_vec()))
            .collect();
        let specials: Vec<String> = SPECIALS.iter().map(|s| s.to_string()).collect();
        let tok = Tokenizer::from_vocab_merges(vocab, merges, &specials, GPT2_PATTERN)
            .expect("toy tokenizer builds");
        let ranks = ranks_of(tok.ranked());
        (tok, ranks)
    })
}

/// Maps fuzz bytes onto a small alphabet so that merges fire and long pieces (heap encoder) occur.
fn small_alphabet(data: &[u8], alphabet: &[u8]) -> Vec<u8> {
    data.iter()
        .map(|&b| alphabet[b as usize % alphabet.len()])
        .collect()
}

fn check_encoding(tok: &Tokenizer, ranks: &Ranks, text: &str, with_specials: bool) {
    let ids = tok
        .encode_ordinary(text)
        .expect("encode_ordinary never fails on the GPT-2 pattern");
    let back = tok.decode_bytes(&ids).expect("decode of ids it produced");
    assert_eq!(
        back,
        text.as_bytes(),
        "decode(encode_ordinary(s)) != s for {text:?}"
    );
    let pieces = tok.pretokenizer().pieces(text).unwrap();
    // The naive encoder is cubic in the piece length; 600 bytes is well past the heap encoder's
    // threshold (`LONG_PIECE`), so both encoders are still compared.
    if pieces.iter().all(|p| p.len() <= 600) {
        let mut want = Vec::new();
        for piece in pieces {
            naive_bpe(ranks, piece.as_bytes(), &mut want);
        }
        assert_eq!(ids, want, "ids != naive BPE for {text:?}");
    }
    if with_specials {
        let ids = tok
            .encode(text, Allowed::All)
            .expect("encode with all specials");
        let back = tok.decode_bytes(&ids).expect("decode of ids it produced");
        assert_eq!(
            back,
            text.as_bytes(),
            "decode(encode(s, all)) != s for {text:?}"
        );
    }
}

/// Ranked tokens defined by the fuzz input: `n` tokens over a 4-letter alphabet, ranks in input
/// order, ids in reverse order (so id != rank is exercised). Duplicates and tokens whose parts
/// are not themselves tokens are allowed: tiktoken files can contain both.
fn fuzz_vocab(data: &[u8]) -> (Vec<RankedToken>, &[u8]) {
    const ALPHA: &[u8] = b"ab c";
    let mut tokens: Vec<RankedToken> = (0..256u32)
        .map(|b| RankedToken {
            bytes: vec![b as u8],
            id: b,
            rank: b,
        })
        .collect();
    let Some((&n, mut rest)) = data.split_first() else {
        return (tokens, data);
    };
    let n = (n % 48) as usize;
    let mut extra = Vec::new();
    for _ in 0..n {
        let Some((&len, r)) = rest.split_first() else {
            break;
        };
        let len = 2 + (len % 7) as usize;
        if r.len() < len {
            break;
        }
        extra.push(small_alphabet(&r[..len], ALPHA));
        rest = &r[len..];
    }
    let m = extra.len() as u32;
    for (i, bytes) in extra.into_iter().enumerate() {
        tokens.push(RankedToken {
            bytes,
            id: 256 + m - 1 - i as u32,
            rank: 256 + i as u32,
        });
    }
    (tokens, rest)
}

pub fn roundtrip(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        // Arbitrary text (lossy UTF-8) through the toy tokenizer, special tokens on.
        0 => {
            let (tok, ranks) = toy();
            check_encoding(tok, ranks, &String::from_utf8_lossy(rest), true);
        }
        // Toy tokenizer on text made of its merge letters: long pieces, many merges.
        1 => {
            let (tok, ranks) = toy();
            let text = small_alphabet(rest, b"aaabbth e\n\xc3\xa9");
            check_encoding(tok, ranks, &String::from_utf8_lossy(&text), true);
        }
        // A vocabulary the input defines, text over the same alphabet; spaces split pieces.
        2 | 3 => {
            let (tokens, text) = fuzz_vocab(rest);
            let ranks = ranks_of(&tokens);
            let tok = Tokenizer::from_ranked(tokens, Vec::new(), GPT2_PATTERN, None, Vec::new())
                .expect("fuzz vocabulary is valid");
            // Mode 3: no spaces, so the whole text is one piece (the heap encoder when long).
            let alpha: &[u8] = if mode % 4 == 2 { b"ab c" } else { b"abc" };
            let text = small_alphabet(text, alpha);
            check_encoding(&tok, &ranks, std::str::from_utf8(&text).unwrap(), false);
        }
        _ => unreachable!(),
    }
}

// ------------------------------------------------------------------------------------------------
// loaders: every tokenizer-file parser (.tiktoken, vocab.json + merges.txt, native, HF
// tokenizer.json) returns Ok or Err on arbitrary bytes (never panics, never
// hangs, never allocates without bound); what parses must then build a tokenizer or be refused.

pub fn loaders(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let path = Path::new("fuzz-input");
    match mode % 4 {
        0 => {
            if let Ok(tokens) = fastbpe::formats::tiktoken::parse(rest, path) {
                let _ = Tokenizer::from_ranked(tokens, Vec::new(), GPT2_PATTERN, None, Vec::new());
            }
        }
        1 => {
            // vocab.json and merges.txt, split at the first NUL byte.
            let cut = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let (v, m) = (&rest[..cut], rest.get(cut + 1..).unwrap_or(&[]));
            let vocab = fastbpe::formats::vocab_merges::parse_vocab(v, path);
            let merges = fastbpe::formats::vocab_merges::parse_merges(m, path);
            if let (Ok(vocab), Ok(merges)) = (vocab, merges) {
                let specials = vec!["<|endoftext|>".to_string()];
                let _ = Tokenizer::from_vocab_merges(vocab, merges, &specials, GPT2_PATTERN);
            }
        }
        2 => native(rest, path),
        3 => hf_json(rest, path),
        _ => unreachable!(),
    }
    // Patterns read from files reach fancy-regex: a bad one must be an error.
    if mode == 255 {
        let _ = Pretokenizer::from_pattern(&String::from_utf8_lossy(rest));
    }
}

/// fastbpe's own format (`rust/src/formats/native.rs`): parsing also builds the tokenizer.
/// A parsed file must survive a write -> parse round trip unchanged.
fn native(data: &[u8], path: &Path) {
    use fastbpe::formats::native;
    if let Ok(loaded) = native::parse(data, path) {
        let text = native::write(&loaded.tokenizer, loaded.name.as_deref());
        let again = native::parse(text.as_bytes(), path).expect("a file fastbpe wrote parses");
        assert_eq!(
            native::write(&again.tokenizer, again.name.as_deref()),
            text,
            "write(parse(write(t))) != write(t)"
        );
    }
}

/// Hugging Face `tokenizer.json` (`rust/src/formats/hf_json/`): what parses is something fastbpe
/// writes back, and the written file parses to a tokenizer with the same ids (on the input itself
/// as text, which holds the vocabulary's strings).
fn hf_json(data: &[u8], path: &Path) {
    use fastbpe::formats::hf_json;
    if let Ok(tok) = hf_json::parse(data, path) {
        let text = hf_json::write(&tok);
        let again =
            hf_json::parse(text.as_bytes(), path).expect("a tokenizer.json fastbpe wrote parses");
        let sample = String::from_utf8_lossy(data);
        assert_eq!(
            again.encode_ordinary(&sample).ok(),
            tok.encode_ordinary(&sample).ok(),
            "ids differ after write -> parse"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// train: counting does not depend on threads or chunking; the merge loop (serial and parallel
// update paths, the latter with `unsafe`) equals a naive CS336 trainer; what it learns builds a
// tokenizer that round-trips.

/// CS336's rule the obvious way: recount every pair each step, merge the most frequent (ties: the
/// greater `(left, right)` bytes) in every word, until `target` distinct tokens or no pair is left.
/// Symbols are indices into a table of distinct byte strings, so equal bytes are one symbol.
/// Returns (new tokens in creation order, merges).
#[allow(clippy::type_complexity)]
pub fn naive_train(
    words: &[(Vec<u8>, u64)],
    target: usize,
) -> (Vec<Vec<u8>>, Vec<(Vec<u8>, Vec<u8>)>) {
    let mut table: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    let mut index: HashMap<Vec<u8>, u32> = (0..=255u8).map(|b| (vec![b], b as u32)).collect();
    let mut words: Vec<(Vec<u32>, u64)> = words
        .iter()
        .map(|(w, n)| (w.iter().map(|&b| b as u32).collect(), *n))
        .collect();
    let (mut new_tokens, mut merges) = (Vec::new(), Vec::new());
    while table.len() < target {
        let mut counts: HashMap<(u32, u32), u64> = HashMap::new();
        for (syms, n) in &words {
            for w in syms.windows(2) {
                *counts.entry((w[0], w[1])).or_insert(0) += n;
            }
        }
        let key = |&(a, b): &(u32, u32)| (table[a as usize].clone(), table[b as usize].clone());
        let Some((&(a, b), _)) = counts
            .iter()
            .max_by(|(p, c), (q, d)| c.cmp(d).then_with(|| key(p).cmp(&key(q))))
        else {
            break;
        };
        let product = [&table[a as usize][..], &table[b as usize][..]].concat();
        let id = match index.get(&product) {
            Some(&id) => id,
            None => {
                let id = table.len() as u32;
                table.push(product.clone());
                index.insert(product.clone(), id);
                new_tokens.push(product);
                id
            }
        };
        for (syms, _) in words.iter_mut() {
            let mut out = Vec::with_capacity(syms.len());
            let mut i = 0;
            while i < syms.len() {
                if i + 1 < syms.len() && syms[i] == a && syms[i + 1] == b {
                    out.push(id);
                    i += 2;
                } else {
                    out.push(syms[i]);
                    i += 1;
                }
            }
            *syms = out;
        }
        merges.push((table[a as usize].clone(), table[b as usize].clone()));
    }
    (new_tokens, merges)
}

pub fn train(data: &[u8]) {
    use fastbpe::monitor::Monitor;
    use fastbpe::train::{count_texts, learn, CountOptions, MergeOptions};

    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // Keep the naive trainer fast: the interesting structure fits in 1 KB.
    let text = String::from_utf8_lossy(&rest[..rest.len().min(1024)]);
    let specials = vec!["<|endoftext|>".to_string()];
    let monitor = Monitor::silent();
    // Counting: 1 thread and one chunk == 2 threads and tiny chunks.
    let texts = [text.as_ref()];
    let count = |threads, chunk_size| {
        let opts = CountOptions {
            special_tokens: specials.clone(),
            threads: Some(threads),
            chunk_size,
            ..CountOptions::default()
        };
        count_texts(&texts, &opts, &monitor).expect("counting a str never fails")
    };
    let serial = count(1, 1 << 20);
    let chunked = count(2, 1 + (mode as usize % 16));
    assert_eq!(
        serial.sorted(),
        chunked.sorted(),
        "counts depend on threads/chunking"
    );
    if serial.is_empty() {
        return;
    }
    // Words for the merge loop: the counted pre-tokens, and (mode odd) 2100 variants of each so
    // that a merge touches more than 2048 words and takes the parallel update path.
    let base: Vec<(Vec<u8>, u64)> = serial
        .sorted()
        .into_iter()
        .take(4)
        .map(|(w, n)| (w.to_vec(), n))
        .collect();
    let mut words: Vec<(Vec<u8>, u64)> = base.clone();
    if mode % 2 == 1 {
        let per = 2100;
        for (w, n) in &base {
            for i in 0..per {
                let mut v = w.clone();
                v.extend_from_slice(&[0x80 | (i % 64) as u8, (i / 64) as u8]);
                words.push((v, n + (i % 3) as u64));
            }
        }
    }
    let mut counts = fastbpe::train::WordCounts::new();
    for (w, n) in &words {
        counts.add(w, *n);
    }
    let mut words: Vec<(Vec<u8>, u64)> = counts
        .sorted()
        .into_iter()
        .map(|(w, n)| (w.to_vec(), n))
        .collect();
    words.sort();
    let vocab_size = 256 + specials.len() + (mode as usize / 2 % 48);
    let learn_with = |threads| {
        let opts = MergeOptions {
            vocab_size,
            special_tokens: specials.clone(),
            min_frequency: 0,
            threads: Some(threads),
        };
        learn(&counts, &opts, &monitor).expect("learning from counts never fails")
    };
    let one = learn_with(1);
    let two = learn_with(2);
    assert_eq!(one, two, "training depends on the thread count");
    let (new_tokens, merges) = naive_train(&words, vocab_size - specials.len());
    assert_eq!(one.merges, merges, "merges != naive CS336 trainer");
    assert_eq!(
        one.vocab[256 + specials.len()..],
        new_tokens[..],
        "vocab != naive trainer"
    );
    assert_eq!(
        one.ran_out,
        one.vocab.len() < vocab_size,
        "ran_out flag is wrong"
    );
    // What training made must load as a tokenizer and round-trip.
    let vocab: Vec<(u32, Vec<u8>)> = one
        .vocab
        .iter()
        .enumerate()
        .map(|(i, b)| (i as u32, b.clone()))
        .collect();
    let tok = Tokenizer::from_vocab_merges(vocab, one.merges.clone(), &specials, GPT2_PATTERN)
        .expect("a trained vocabulary loads");
    let ids = tok.encode(&text, Allowed::All).unwrap();
    assert_eq!(
        tok.decode_bytes(&ids).unwrap(),
        text.as_bytes(),
        "trained tokenizer round trip"
    );
}

// ------------------------------------------------------------------------------------------------
// pretokenize_cl100k, pretokenize_o200k: the hand-written cl100k_base / o200k_base scanner ==
// fancy-regex running tiktoken's pattern, piece by piece, on any input (bytes made text with
// U+FFFD for invalid UTF-8); the pieces are never empty and concatenate to the input.

pub fn pretokenize_cl100k(data: &[u8]) {
    use fastbpe::pretokenize::cl100k::Cl100kPieces;
    use fastbpe::pretokenize::CL100K_PATTERN;

    fn scan(text: &str) -> Vec<&str> {
        Cl100kPieces::new(text).collect()
    }
    static RE: OnceLock<RegexSplitter> = OnceLock::new();
    scanner_equals_regex(data, &RE, CL100K_PATTERN, scan);
}

pub fn pretokenize_o200k(data: &[u8]) {
    use fastbpe::pretokenize::o200k::O200kPieces;
    use fastbpe::pretokenize::O200K_PATTERN;

    fn scan(text: &str) -> Vec<&str> {
        O200kPieces::new(text).collect()
    }
    static RE: OnceLock<RegexSplitter> = OnceLock::new();
    scanner_equals_regex(data, &RE, O200K_PATTERN, scan);
}

/// `scan`'s pieces of `data` (made text) against fancy-regex running `pattern` (compiled once
/// into `oracle`).
fn scanner_equals_regex(
    data: &[u8],
    oracle: &OnceLock<RegexSplitter>,
    pattern: &str,
    scan: fn(&str) -> Vec<&str>,
) {
    let oracle =
        oracle.get_or_init(|| RegexSplitter::new(pattern).expect("tiktoken's pattern compiles"));
    let text = String::from_utf8_lossy(data);
    let text: &str = &text;
    let got = scan(text);
    assert_eq!(got.concat(), text, "pieces do not concatenate to the input");
    assert!(got.iter().all(|p| !p.is_empty()), "empty piece");
    let mut want: Vec<&str> = Vec::new();
    // The regex engine may give up (backtrack limit) on hostile input; then there is no oracle.
    if oracle.for_each_piece(text, |p| want.push(p)).is_ok() {
        assert_eq!(got, want, "scanner != regex ({pattern}) on {text:?}");
    }
}

// ------------------------------------------------------------------------------------------------
// counts: the counts-file reader (`rust/src/formats/counts.rs`) on arbitrary bytes: never a
// panic, and whatever parses is canonical (writing it back gives the same bytes). The checksum is
// fixed up first, or nearly every input would stop at it and the structure behind it would go
// unfuzzed.

pub fn counts(data: &[u8]) {
    use fastbpe::formats::counts;

    let mut file = data.to_vec();
    if file.len() >= 8 {
        let body = file.len() - 8;
        let sum = counts::checksum(&file[..body]);
        file[body..].copy_from_slice(&sum.to_le_bytes());
    }
    if let Ok((prov, words)) = counts::parse(&file, Path::new("fuzz.counts")) {
        assert_eq!(
            counts::write(&prov, &words),
            file,
            "parse then write changed the file"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// utf8: the transcoder from Python's fixed-width str storage == `char::encode_utf8`.

/// The first byte picks the width (1, 2 or 4 bytes a character) and, for 2 and 4, a bias that
/// steers the units into ASCII runs, the BMP, surrogates or past U+10FFFF; the rest are units.
pub fn utf8(data: &[u8]) {
    use fastbpe::utf8_from_units::{to_utf8, NotTranscoded, Unit};

    fn check<U: Unit>(units: &[U]) {
        let mut want = String::new();
        let mut bad = None;
        for (i, u) in units.iter().enumerate() {
            match char::from_u32(u.code()) {
                Some(c) => want.push(c),
                None => {
                    bad = Some(i);
                    break;
                }
            }
        }
        match (to_utf8(units), bad) {
            (Ok(got), None) => assert_eq!(got, want),
            (Err(NotTranscoded::NoUtf8(i)), Some(j)) => assert_eq!(i, j),
            (got, bad) => panic!("to_utf8 gave {got:?}, the first unencodable unit is {bad:?}"),
        }
    }

    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // Small codes (below 0x80) are common either way, so ASCII blocks occur.
    let shift = |x: u32| match mode >> 2 & 3 {
        0 => x & 0x7F,
        1 => x,
        2 => x.wrapping_add(0xD700),
        _ => x.wrapping_mul(17),
    };
    match mode & 3 {
        0 => check(rest),
        1 => {
            let units: Vec<u16> = rest
                .chunks_exact(2)
                .map(|c| shift(u16::from_le_bytes([c[0], c[1]]) as u32) as u16)
                .collect();
            check(&units)
        }
        _ => {
            let units: Vec<u32> = rest
                .chunks_exact(4)
                .map(|c| shift(u32::from_le_bytes([c[0], c[1], c[2], c[3]]) % 0x11_0100))
                .collect();
            check(&units)
        }
    }
}
