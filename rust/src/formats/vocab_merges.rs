//! GPT-2 / HF `vocab.json` (mapped token string -> id) and `merges.txt` (`left right` per line,
//! optional `#version` header), as used by GPT-2's `encoder.json`/`vocab.bpe` and CS336.
//!
//! The writer reproduces GPT-2's files byte for byte (tested against their SHA-256): entries in id
//! order, Python `json.dumps` spacing and `\u00a1`-style escapes, and a `#version: 0.2` header.

use std::path::{Path, PathBuf};

use super::{byte_mapping, json, merge_order};
use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// Reads `vocab.json` + `merges.txt`; errors about their contents name the vocabulary file.
pub fn load(
    vocab_path: &Path,
    merges_path: &Path,
    special_tokens: &[String],
    pattern: &str,
) -> Result<Tokenizer> {
    let vocab = parse_vocab(&super::read(vocab_path)?, vocab_path)?;
    let merges = parse_merges(&super::read(merges_path)?, merges_path)?;
    Tokenizer::from_vocab_merges(vocab, merges, special_tokens, pattern)
        .map_err(|e| super::in_file(e, vocab_path))
}

/// Writes `vocab.json` and `merges.txt` into `dir` (created if needed), both or neither.
/// Returns their paths.
pub fn save(tok: &Tokenizer, dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let (vocab_path, merges_path) = (dir.join("vocab.json"), dir.join("merges.txt"));
    let merges = merge_order::merges_of(tok)?;
    super::commit::write_files_into(
        dir,
        &[
            (vocab_path.clone(), write_vocab(tok).into_bytes()),
            (merges_path.clone(), write_merges(&merges).into_bytes()),
        ],
    )?;
    Ok((vocab_path, merges_path))
}

pub fn parse_vocab(data: &[u8], path: &Path) -> Result<Vec<(u32, Vec<u8>)>> {
    super::utf8(data, path)?;
    let value = json::parse_strict(data)
        .map_err(|e| Error::format(path, format!("not a JSON object of token -> id: {e}")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(Error::format(
            path,
            "not a JSON object of token -> id (found another JSON value)",
        ));
    };
    let mut vocab = Vec::with_capacity(map.len());
    for (token, id) in map {
        let id = id
            .as_u64()
            .filter(|&i| i <= u32::MAX as u64)
            .ok_or_else(|| Error::format(path, format!("id of {token:?} is not an integer id")))?;
        let bytes = byte_mapping::decode(&token).ok_or_else(|| {
            Error::format(
                path,
                format!("token {token:?} has characters outside GPT-2's byte mapping"),
            )
        })?;
        if bytes.is_empty() {
            return Err(Error::format(path, "empty token string"));
        }
        vocab.push((id as u32, bytes));
    }
    vocab.sort_by_key(|(id, _)| *id);
    Ok(vocab)
}

pub fn parse_merges(data: &[u8], path: &Path) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let text = super::utf8(data, path)?;
    let mut merges = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        if line.starts_with("#version") || line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| Error::format(path, format!("line {}: {what}", lineno + 1));
        let mut parts = line.split(' ');
        let (Some(l), Some(r), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected two tokens separated by one space"));
        };
        let decode = |s: &str| {
            byte_mapping::decode(s)
                .filter(|b| !b.is_empty())
                .ok_or_else(|| bad(&format!("{s:?} is empty or outside GPT-2's byte mapping")))
        };
        merges.push((decode(l)?, decode(r)?));
    }
    Ok(merges)
}

/// `vocab.json` text: every id (special tokens included), in id order; bytes that two ids share
/// are listed once, under the smaller id.
pub fn write_vocab(tok: &Tokenizer) -> String {
    let mut seen = rustc_hash::FxHashSet::default();
    let mut out = String::with_capacity(tok.n_vocab() * 12);
    out.push('{');
    for (id, bytes) in tok.vocab() {
        let key = byte_mapping::encode(bytes);
        if !seen.insert(key.clone()) {
            continue;
        }
        if out.len() > 1 {
            out.push_str(", ");
        }
        out.push_str(&json::string(&key, true));
        out.push_str(": ");
        out.push_str(&id.to_string());
    }
    out.push('}');
    out
}

/// `merges.txt` text, with the `#version: 0.2` header GPT-2 and HF write.
pub fn write_merges(merges: &[(Vec<u8>, Vec<u8>)]) -> String {
    let mut out = String::from("#version: 0.2\n");
    for (l, r) in merges {
        out.push_str(&byte_mapping::encode(l));
        out.push(' ');
        out.push_str(&byte_mapping::encode(r));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_are_reported() {
        let p = Path::new("v.json");
        assert!(parse_vocab(b"[1,2]", p).is_err());
        assert!(parse_vocab(b"{\"a\": -1}", p).is_err());
        assert!(parse_vocab(b"{\"\xe2\x82\xac\": 1}", p).is_err());
        assert_eq!(
            parse_vocab(b"{\"\xc4\xa0a\": 5}", p).unwrap(),
            vec![(5, b" a".to_vec())]
        );
        assert!(parse_merges(b"a b c\n", p).is_err());
        assert_eq!(
            parse_merges(b"#version: 0.2\n\xc4\xa0 t\n", p).unwrap(),
            vec![(b" ".to_vec(), b"t".to_vec())]
        );
    }

    #[test]
    fn the_same_key_twice_is_refused() {
        let e = parse_vocab(br#"{"a": 1, "a": 2}"#, Path::new("v.json")).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
    }
}
