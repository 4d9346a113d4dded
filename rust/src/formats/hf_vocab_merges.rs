//! GPT-2 / HF `vocab.json` (mapped token string -> id) and `merges.txt` (`left right` per line,
//! optional `#version` header), as used by GPT-2's `encoder.json`/`vocab.bpe` and CS336.

use std::path::Path;

use super::byte_mapping;
use crate::error::{Error, Result};

pub fn parse_vocab(data: &[u8], path: &Path) -> Result<Vec<(u32, Vec<u8>)>> {
    let text = super::utf8(data, path)?;
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| Error::format(path, format!("not a JSON object of token -> id: {e}")))?;
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

/// `vocab.json` text for (id, bytes) pairs.
pub fn write_vocab(vocab: &[(u32, &[u8])]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = vocab
        .iter()
        .map(|(id, b)| (byte_mapping::encode(b), serde_json::Value::from(*id)))
        .collect();
    serde_json::to_string(&map).unwrap_or_default()
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
}
