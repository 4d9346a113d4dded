//! tiktoken's `.tiktoken` format: one token per line, `base64(bytes) rank`; the rank is also the
//! id. The file holds neither special tokens nor the pattern: callers pass them.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rustc_hash::FxHashMap;

use crate::encode::RankedToken;
use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// Reads a `.tiktoken` file into a tokenizer with these special tokens and pattern.
pub fn load(path: &Path, specials: Vec<(String, u32)>, pattern: &str) -> Result<Tokenizer> {
    let ranked = parse(&super::read(path)?, path)?;
    Tokenizer::from_ranked(ranked, specials, pattern, None, Vec::new())
        .map_err(|e| super::in_file(e, path))
}

/// Writes `tok`'s ranks as a `.tiktoken` file (atomically).
pub fn save(tok: &Tokenizer, path: &Path) -> Result<()> {
    super::commit::write_files(&[(path.to_path_buf(), write(tok)?.into_bytes())])
}

/// Parses a `.tiktoken` file. Ranks are also the ids, as in tiktoken.
///
/// The same bytes at two ranks, or two tokens at one rank, are refused naming both lines: tiktoken
/// keeps the last line for repeated bytes and refuses a repeated rank, so neither file means one
/// thing to both libraries.
pub fn parse(data: &[u8], path: &Path) -> Result<Vec<RankedToken>> {
    let mut tokens = Vec::new();
    let mut line_of_bytes: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
    let mut line_of_rank: FxHashMap<u32, usize> = FxHashMap::default();
    for (lineno, line) in data.split(|&b| b == b'\n').enumerate() {
        let lineno = lineno + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let bad = |what: &str| Error::format(path, format!("line {lineno}: {what}"));
        let mut parts = line.split(|&b| b == b' ');
        let (Some(b64), Some(rank), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected `<base64 token> <rank>`"));
        };
        let bytes = STANDARD
            .decode(b64)
            .map_err(|e| bad(&format!("invalid base64: {e}")))?;
        let rank: u32 = std::str::from_utf8(rank)
            .ok()
            .filter(|r| r.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| bad("rank is not a non-negative integer below 2^32"))?;
        if bytes.is_empty() {
            return Err(bad("empty token"));
        }
        if let Some(first) = line_of_bytes.insert(bytes.clone(), lineno) {
            return Err(bad(&format!(
                "token {:?} is also on line {first}: each token may appear once",
                String::from_utf8_lossy(&bytes)
            )));
        }
        if let Some(first) = line_of_rank.insert(rank, lineno) {
            return Err(bad(&format!(
                "rank {rank} is also on line {first}: ranks must be distinct"
            )));
        }
        tokens.push(RankedToken {
            bytes,
            id: rank,
            rank,
        });
    }
    if tokens.is_empty() {
        return Err(Error::format(
            path,
            "no tokens in file (empty or not a .tiktoken file)",
        ));
    }
    Ok(tokens)
}

/// tiktoken's `mergeable_ranks` for `tok`: (bytes, rank = id) in id order.
///
/// tiktoken has one number per token, so this works when the ids of the multi-byte tokens
/// increase with their rank (true of tiktoken and GPT-2 vocabularies and of every fastbpe-trained
/// one); single bytes may have any ids, since their rank never decides a merge.
pub fn ranks(tok: &Tokenizer) -> Result<Vec<(&[u8], u32)>> {
    let mut last: Option<&RankedToken> = None;
    for t in tok.ranked().iter().filter(|t| t.bytes.len() >= 2) {
        if let Some(prev) = last.filter(|p| t.id <= p.id) {
            return Err(Error::value(format!(
                "cannot express this tokenizer in tiktoken's format: token {:?} (id {}) merges \
                 after {:?} (id {}) but has a smaller id; tiktoken needs ids that increase with \
                 merge order",
                String::from_utf8_lossy(&t.bytes),
                t.id,
                String::from_utf8_lossy(&prev.bytes),
                prev.id
            )));
        }
        last = Some(t);
    }
    let ranked_ids: rustc_hash::FxHashSet<u32> = tok.ranked().iter().map(|t| t.id).collect();
    let special_ids: rustc_hash::FxHashSet<u32> = tok.specials().iter().map(|s| s.1).collect();
    let extra: Vec<u32> = tok
        .vocab()
        .map(|(id, _)| id)
        .filter(|id| !ranked_ids.contains(id) && !special_ids.contains(id))
        .collect();
    if let Some(first) = extra.first() {
        return Err(Error::value(format!(
            "{} decode-only ids (e.g. {first}) have no place in tiktoken's format",
            extra.len()
        )));
    }
    let mut out: Vec<(&[u8], u32)> = tok
        .ranked()
        .iter()
        .map(|t| (t.bytes.as_slice(), t.id))
        .collect();
    out.sort_by_key(|&(_, id)| id);
    Ok(out)
}

/// The `.tiktoken` text of `tok`, in rank (= id) order as tiktoken writes it: GPT-2's
/// `r50k_base.tiktoken` comes out byte for byte (tested).
pub fn write(tok: &Tokenizer) -> Result<String> {
    let tokens = ranks(tok)?;
    let mut out = String::with_capacity(tokens.len() * 12);
    for (bytes, id) in tokens {
        out.push_str(&STANDARD.encode(bytes));
        out.push(' ');
        out.push_str(&id.to_string());
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretokenize::GPT2_PATTERN;

    #[test]
    fn parses_and_rejects() {
        let p = Path::new("x.tiktoken");
        let t = parse(b"IQ== 0\nIg== 1\n", p).unwrap();
        assert_eq!(t[1].bytes, b"\"");
        assert!(parse(b"IQ== x\n", p).is_err());
        assert!(parse(b"IQ== +1\n", p).is_err());
        assert!(parse(b"!!! 0\n", p).is_err());
        assert!(parse(b"IQ==\n", p).is_err());
        assert!(parse(b"", p).is_err());
    }

    #[test]
    fn duplicates_are_refused_naming_both_lines() {
        let p = Path::new("x.tiktoken");
        let e = parse(b"IQ== 0\nIg== 1\nIQ== 2\n", p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("line 1"), "{e}");
        let e = parse(b"IQ== 0\nIg== 0\n", p).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("rank 0"), "{e}");
    }

    #[test]
    fn write_round_trips() {
        let mut text = String::new();
        for b in 0..=255u8 {
            text.push_str(&format!("{} {b}\n", STANDARD.encode([b])));
        }
        text.push_str(&format!("{} 256\n", STANDARD.encode(b"ab")));
        let ranked = parse(text.as_bytes(), Path::new("x")).unwrap();
        let tok = Tokenizer::from_ranked(ranked, vec![], GPT2_PATTERN, None, vec![]).unwrap();
        assert_eq!(write(&tok).unwrap(), text);
    }
}
