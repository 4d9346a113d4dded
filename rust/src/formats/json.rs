//! JSON for tokenizer files: a strict reader (the same key twice in one object is an error, not
//! "the last one wins" as in serde_json and Python's `json`) and string escaping for writers.
//!
//! Why strict: a file with `"7": "YQ=="` twice, or one vocabulary string at two ids, silently
//! loses a token under last-one-wins; every fastbpe reader refuses it instead (issue 9 item 4).
//! Nesting deeper than serde_json's limit (128) is an error too, never a stack overflow.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses `data` as JSON, refusing duplicate keys at any depth.
pub fn parse_strict(data: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<Strict>(data).map(|s| s.0)
}

/// Whether a parse error is about the text being cut short or not JSON at all (as opposed to
/// valid JSON with a duplicate key).
pub fn is_syntax(e: &serde_json::Error) -> bool {
    !matches!(e.classify(), serde_json::error::Category::Data)
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Strict(Value::Array(out)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "the key {key:?} appears twice in one object"
                )));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Strict(Value::Object(out)))
    }
}

/// `s` as a JSON string literal. `ascii`: escape every non-ASCII character as `\uXXXX` (UTF-16,
/// lowercase hex), exactly as Python's `json.dumps` does by default, which is how GPT-2's
/// `encoder.json` is written; otherwise raw UTF-8, as Hugging Face writes `tokenizer.json`.
pub fn string(s: &str, ascii: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            // Python escapes DEL too when ensure_ascii is on (it keeps only ' '..='~').
            c if (c as u32) < 0x20 || (ascii && !(' '..='~').contains(&c)) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(parse_strict(br#"{"a": 1, "b": {"c": 2}}"#).is_ok());
        let e = parse_strict(br#"{"a": 1, "a": 2}"#).unwrap_err();
        assert!(!is_syntax(&e) && e.to_string().contains("\"a\""));
        assert!(parse_strict(br#"[{"x": {"y": 1, "y": 1}}]"#).is_err());
        assert!(is_syntax(&parse_strict(b"{\"a\": ").unwrap_err()));
        let deep = "[".repeat(100_000);
        assert!(parse_strict(deep.as_bytes()).is_err());
    }

    #[test]
    fn strings_escape_like_python_json_dumps() {
        assert_eq!(string("a\"\\\n\u{1}", true), r#""a\"\\\n\u0001""#);
        assert_eq!(
            string("\u{a1}\u{120}\u{7f}", true),
            r#""\u00a1\u0120\u007f""#
        );
        assert_eq!(string("\u{1f600}", true), r#""\ud83d\ude00""#);
        assert_eq!(string("\u{120}\u{7f}", false), "\"\u{120}\u{7f}\"");
    }
}
