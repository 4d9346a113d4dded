//! tiktoken's `.tiktoken` format: one token per line, `base64(bytes) rank`.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::encode::RankedToken;
use crate::error::{Error, Result};

/// Parses a `.tiktoken` file. Ranks are also the ids, as in tiktoken.
pub fn parse(data: &[u8], path: &Path) -> Result<Vec<RankedToken>> {
    let mut tokens = Vec::new();
    for (lineno, line) in data.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let bad = |what: &str| Error::format(path, format!("line {}: {what}", lineno + 1));
        let mut parts = line.split(|&b| b == b' ');
        let (Some(b64), Some(rank), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected `<base64 token> <rank>`"));
        };
        let bytes = STANDARD
            .decode(b64)
            .map_err(|e| bad(&format!("invalid base64: {e}")))?;
        let rank: u32 = std::str::from_utf8(rank)
            .ok()
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| bad("rank is not a non-negative integer below 2^32"))?;
        if bytes.is_empty() {
            return Err(bad("empty token"));
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

/// Writes ranked tokens in `.tiktoken` format, in rank order (ranks are written as the ids).
pub fn write(tokens: &[(u32, &[u8])]) -> String {
    let mut out = String::with_capacity(tokens.len() * 12);
    for (id, bytes) in tokens {
        out.push_str(&STANDARD.encode(bytes));
        out.push(' ');
        out.push_str(&id.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let p = Path::new("x.tiktoken");
        let t = parse(b"IQ== 0\nIg== 1\n", p).unwrap();
        assert_eq!(t[1].bytes, b"\"");
        assert!(parse(b"IQ== x\n", p).is_err());
        assert!(parse(b"!!! 0\n", p).is_err());
        assert!(parse(b"IQ==\n", p).is_err());
        assert!(parse(b"", p).is_err());
    }
}
