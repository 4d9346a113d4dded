//! cuts: every way of cutting a stream gives the ids of one `encode` call.
//!
//! For a pattern (GPT-2's or a user pattern), a set of special tokens (overlapping,
//! self-overlapping, prefixes of each other) and a text over CR/LF/CRLF-rich fragments, all
//! chosen by the input:
//! - `ChunkReader` at the input's chunk size (what `encode_file` and training on streams do),
//! - `FileChunks` (training on files),
//! - a stream split at the input's positions, cut at `Cutter::last_cut` (what `encode_iterable`
//!   does),
//! - shards cut at `next_safe_cut` on windows (what the Dask planner does), deciding the same
//!   boundary from two different windows (locality),
//!
//! each encode to exactly `tokenizer.encode(text)`.
//!
//! Included by path from `checks.rs` (so it may only use `fastbpe`'s public API and `std`).

use fastbpe::chunk::{ChunkReader, Cutter, FileChunks};
use fastbpe::cut::next_safe_cut;
use fastbpe::pretokenize::GPT2_PATTERN;
use fastbpe::tokenizer::{Allowed, Tokenizer};

/// Patterns: GPT-2's (the proved rule) and user patterns (the verified rule), including the one
/// from issue 9 item 2 that glues `\r` to words.
pub const PATTERNS: &[&str] = &[
    GPT2_PATTERN,
    r"\w+\r?|\s+|[^\w\s]+",
    r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+",
    r"\S+|\s+",
    r" ?\w+|\s+(?!\S)|\s+|.",
    r"[a-z]+|\r\n|\n|\r| |.",
    r"[^\n]*\n|[^\n]+",
];

/// Special tokens to choose from: prefixes of each other, overlapping, self-overlapping, made of
/// whitespace.
pub const SPECIALS: &[&str] = &[
    "<|e|>",
    "<|e|><|e|>",
    "aa",
    "aaa",
    "<x",
    "x>",
    "<x>",
    "\r\n",
    "a a",
];

/// Text fragments the input's bytes pick from.
const FRAGMENTS: &[&str] = &[
    "a", "b", " ", "\n", "\r", "\r\n", "\t", "é", "1", ".", "'s", "<|e|>", "aa", "<x", "x>", "x",
    " a", "  ", "世", "\r\n\r\n", "ab", " \n", "\u{a0}",
];

/// A small tokenizer: bytes plus merges over the fragments' letters.
fn tokenizer(pattern: &str, specials: &[String]) -> Tokenizer {
    let mut vocab: Vec<(u32, Vec<u8>)> = (0..256u32).map(|b| (b, vec![b as u8])).collect();
    let merges: Vec<(Vec<u8>, Vec<u8>)> = [
        (&b"a"[..], &b"a"[..]),
        (b" ", b"a"),
        (b"\r", b"\n"),
        (b"a", b"b"),
        (b" ", b" "),
        (b"<", b"x"),
        (b"\xc3", b"\xa9"),
    ]
    .iter()
    .map(|(l, r)| (l.to_vec(), r.to_vec()))
    .collect();
    for (i, (l, r)) in merges.iter().enumerate() {
        vocab.push((256 + i as u32, [&l[..], &r[..]].concat()));
    }
    Tokenizer::from_vocab_merges(vocab, merges, specials, pattern).expect("fuzz tokenizer builds")
}

pub fn cuts(data: &[u8]) {
    let [pat, mask, size, rest @ ..] = data else {
        return;
    };
    let pattern = PATTERNS[*pat as usize % PATTERNS.len()];
    let specials: Vec<String> = SPECIALS
        .iter()
        .enumerate()
        .filter(|(i, _)| ((*mask as u32 * 0x9E37) >> i) & 1 == 1)
        .map(|(_, s)| s.to_string())
        .collect();
    let chunk_size = 1 + (*size as usize % 48);
    // The first half of the rest picks fragments, the second half split points.
    let (text_bytes, split_bytes) = rest.split_at(rest.len() / 2 + rest.len() % 2);
    let text: String = text_bytes
        .iter()
        .map(|&b| FRAGMENTS[b as usize % FRAGMENTS.len()])
        .collect();
    let tok = tokenizer(pattern, &specials);
    let whole = tok.encode(&text, Allowed::All).expect("encode");
    let cutter = Cutter::for_pretokenizer(&specials, tok.pretokenizer()).expect("cutter");
    let encode = |part: &[u8]| {
        tok.encode(
            std::str::from_utf8(part).expect("cuts fall on char boundaries"),
            Allowed::All,
        )
        .expect("encode")
    };
    let bytes = text.as_bytes();
    let why =
        |what: &str| format!("{what}: pattern {pattern:?} specials {specials:?} text {text:?}");

    // encode_file / training on streams: ChunkReader.
    let mut ids = Vec::new();
    for chunk in ChunkReader::new(bytes, cutter.clone(), chunk_size, "fuzz") {
        ids.extend(encode(&chunk.expect("read").data));
    }
    assert_eq!(
        ids,
        whole,
        "{}",
        why(&format!("ChunkReader at chunk size {chunk_size}"))
    );

    // Training on files: FileChunks.
    let plan =
        FileChunks::plan("fuzz", bytes, bytes.len() as u64, chunk_size, &cutter).expect("plan");
    let ids: Vec<u32> = plan
        .ranges()
        .flat_map(|r| encode(&bytes[r.start as usize..r.end as usize]))
        .collect();
    assert_eq!(
        ids,
        whole,
        "{}",
        why(&format!("FileChunks at chunk size {chunk_size}"))
    );

    // encode_iterable: the stream arrives in pieces; after each, cut at the last safe cut.
    let mut points: Vec<usize> = split_bytes
        .iter()
        .map(|&b| b as usize * bytes.len() / 256)
        .collect();
    points.sort_unstable();
    let (mut ids, mut start) = (Vec::new(), 0usize);
    for &end in points.iter().chain(std::iter::once(&bytes.len())) {
        // A piece of a Python str ends on a character boundary.
        let end = (end..=bytes.len())
            .find(|&e| text.is_char_boundary(e))
            .unwrap_or(bytes.len());
        if end <= start {
            continue;
        }
        if let Some(p) = cutter.last_cut(&bytes[start..end], 0, false) {
            ids.extend(encode(&bytes[start..start + p]));
            start += p;
        }
    }
    ids.extend(encode(&bytes[start..]));
    assert_eq!(
        ids,
        whole,
        "{}",
        why(&format!("stream split at {points:?}"))
    );

    // Shards at next_safe_cut, each boundary decided from a window of the stream; the same
    // boundary from a wider window (locality).
    let k = cutter.context();
    let mut bounds = vec![0usize];
    let mut x = chunk_size;
    while x < bytes.len() {
        let lo = x.saturating_sub(k);
        let decide = |lo: usize, extra: usize| {
            let mut m = 64;
            loop {
                let hi = (x + m + extra).min(bytes.len());
                let got =
                    next_safe_cut(&cutter, &bytes[lo..hi], x - lo, lo == 0, hi == bytes.len());
                if let Some(p) = got {
                    return lo + p;
                }
                m *= 2;
            }
        };
        let b = decide(lo, 0);
        assert_eq!(
            b,
            decide(lo.saturating_sub(7), 13),
            "{}",
            why(&format!("boundary at {x}"))
        );
        let b = b.max(*bounds.last().unwrap_or(&0));
        if b > *bounds.last().unwrap_or(&0) {
            bounds.push(b);
        }
        x += chunk_size;
    }
    bounds.push(bytes.len());
    let ids: Vec<u32> = bounds
        .windows(2)
        .flat_map(|w| encode(&bytes[w[0]..w[1]]))
        .collect();
    assert_eq!(ids, whole, "{}", why(&format!("shards {bounds:?}")));
}
