//! fastbpe's own tokenizer file: one JSON document holding everything a [`Tokenizer`] is (see
//! `docs/format.md` for the specification).
//!
//! ```json
//! {
//!   "format": "fastbpe",
//!   "version": 1,
//!   "name": "gpt2",
//!   "pattern": "'(?:[sdmt]|ll|ve|re)| ?\\p{L}++| ...",
//!   "special_tokens": [{"token": "<|endoftext|>", "id": 50256}],
//!   "vocab": {"0": "IQ==", "1": "Ig==", ...},
//!   "ranks": [0, 1, 2, ...],
//!   "merges": [["IA==", "dA=="], ...]
//! }
//! ```
//!
//! * `vocab`: every id that is not (only) a special token -> its bytes in standard base64.
//! * `ranks`: the mergeable ids in merge priority order (the first merges first). This is what
//!   encoding needs, and it is exact for both kinds of tokenizer: those made from merges (CS336,
//!   HF) and those made from tiktoken ranks (which have no merge list).
//! * `merges`: the ordered merges the tokenizer was built from, or `null` (tiktoken-style ranks).
//!   A hand-written file may give `merges` and leave out `ranks`: ranks then follow the merges
//!   (single bytes first, then each merge's product), as in `Tokenizer::from_vocab_merges`.
//!
//! Reading is strict: another format name, another version, invalid or truncated JSON, missing
//! fields, bad base64, ids out of range, duplicate ids or ranks, merges that use unknown tokens are
//! all errors naming the file. Nothing here panics on any input.

use std::collections::BTreeMap;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;

use crate::encode::RankedToken;
use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

pub const FORMAT_NAME: &str = "fastbpe";
pub const VERSION: u64 = 1;

/// A tokenizer read from a native file, with the name stored in it (if any).
#[derive(Debug)]
pub struct Loaded {
    pub tokenizer: Tokenizer,
    pub name: Option<String>,
}

/// The fields of a version 1 file.
struct FileV1 {
    name: Option<String>,
    pattern: String,
    special_tokens: Vec<SpecialV1>,
    vocab: BTreeMap<String, String>,
    ranks: Option<Vec<u32>>,
    merges: Option<Vec<(String, String)>>,
}

const FIELDS_V1: &[&str] = &[
    "format",
    "version",
    "name",
    "pattern",
    "special_tokens",
    "vocab",
    "ranks",
    "merges",
];

fn required<T: serde::de::DeserializeOwned>(
    obj: &serde_json::Map<String, serde_json::Value>,
    key: &str,
    path: &Path,
) -> Result<T> {
    field(obj, key, true, path)?
        .ok_or_else(|| Error::format(path, format!("missing field {key:?}")))
}

/// One field of the top-level object, deserialized on its own so that errors name the field.
/// A missing or `null` optional field is `None`.
fn field<T: serde::de::DeserializeOwned>(
    obj: &serde_json::Map<String, serde_json::Value>,
    key: &str,
    required: bool,
    path: &Path,
) -> Result<Option<T>> {
    match obj.get(key) {
        None | Some(serde_json::Value::Null) if required => Err(Error::format(
            path,
            format!("not a valid fastbpe tokenizer file: missing field {key:?}"),
        )),
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => T::deserialize(v)
            .map(Some)
            .map_err(|e| Error::format(path, format!("field {key:?} is invalid: {e}"))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecialV1 {
    token: String,
    id: u32,
}

/// The file's text for `tok` (and an optional `name`). Deterministic: ids ascending, one vocab
/// entry and one merge per line.
pub fn write(tok: &Tokenizer, name: Option<&str>) -> String {
    let js = |s: &str| serde_json::Value::from(s).to_string();
    let ranked_ids: FxHashSet<u32> = tok.ranked().iter().map(|t| t.id).collect();
    let special_ids: FxHashSet<u32> = tok.specials().iter().map(|(_, id)| *id).collect();
    let mut out = String::with_capacity(tok.n_vocab() * 24 + 1024);
    out.push_str("{\n");
    out.push_str(&format!("  \"format\": {},\n", js(FORMAT_NAME)));
    out.push_str(&format!("  \"version\": {VERSION},\n"));
    if let Some(name) = name {
        out.push_str(&format!("  \"name\": {},\n", js(name)));
    }
    out.push_str(&format!("  \"pattern\": {},\n", js(tok.pattern())));
    out.push_str("  \"special_tokens\": [");
    for (i, (s, id)) in tok.specials().iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        out.push_str(&format!(
            "{sep}\n    {{\"token\": {}, \"id\": {id}}}",
            js(s)
        ));
    }
    if !tok.specials().is_empty() {
        out.push_str("\n  ");
    }
    out.push_str("],\n  \"vocab\": {");
    let mut first = true;
    for (id, bytes) in tok.vocab() {
        if special_ids.contains(&id) && !ranked_ids.contains(&id) {
            continue;
        }
        let sep = if first { "" } else { "," };
        first = false;
        out.push_str(&format!(
            "{sep}\n    \"{id}\": \"{}\"",
            STANDARD.encode(bytes)
        ));
    }
    out.push_str("\n  },\n  \"ranks\": [");
    for (i, t) in tok.ranked().iter().enumerate() {
        if i > 0 {
            out.push_str(if i % 16 == 0 { ",\n    " } else { ", " });
        } else {
            out.push_str("\n    ");
        }
        out.push_str(&t.id.to_string());
    }
    out.push_str("\n  ],\n  \"merges\": ");
    match tok.merges() {
        None => out.push_str("null"),
        Some(merges) => {
            out.push('[');
            for (i, (l, r)) in merges.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                out.push_str(&format!(
                    "{sep}\n    [\"{}\", \"{}\"]",
                    STANDARD.encode(l),
                    STANDARD.encode(r)
                ));
            }
            out.push_str(if merges.is_empty() { "]" } else { "\n  ]" });
        }
    }
    out.push_str("\n}\n");
    out
}

/// Writes the file atomically (a temporary file beside it, then a rename).
pub fn save(tok: &Tokenizer, name: Option<&str>, path: &Path) -> Result<()> {
    super::commit::write_files(&[(path.to_path_buf(), write(tok, name).into_bytes())])
}

/// Reads a native file.
pub fn load(path: &Path) -> Result<Loaded> {
    parse(&super::read(path)?, path)
}

/// Parses a native file's bytes (`path` is only for messages).
pub fn parse(data: &[u8], path: &Path) -> Result<Loaded> {
    let bad = |m: String| Error::format(path, m);
    let value = super::json::parse_strict(data).map_err(|e| {
        bad(if super::json::is_syntax(&e) {
            format!(
                "not a valid fastbpe tokenizer file: invalid JSON ({e}); is it truncated or \
                 corrupt?"
            )
        } else {
            format!("not a valid fastbpe tokenizer file: {e}")
        })
    })?;
    let obj = value
        .as_object()
        .ok_or_else(|| bad("not a fastbpe tokenizer file: the JSON is not an object".into()))?;
    match obj.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT_NAME) => {}
        Some(other) => {
            return Err(bad(format!(
                "not a fastbpe tokenizer file (its \"format\" is {other:?}, expected \"fastbpe\")"
            )))
        }
        None if obj.contains_key("model") => {
            return Err(bad(
                "this looks like a Hugging Face tokenizer.json, not a fastbpe file; \
                 load it with fastbpe.load(path), which detects the format"
                    .into(),
            ))
        }
        None => {
            return Err(bad(
                "not a fastbpe tokenizer file (no \"format\": \"fastbpe\" field)".into(),
            ))
        }
    }
    match obj.get("version").and_then(|v| v.as_u64()) {
        Some(VERSION) => {}
        Some(v) if v > VERSION => {
            return Err(bad(format!(
                "fastbpe file format version {v} is newer than this fastbpe reads (version \
                 {VERSION}); upgrade fastbpe"
            )))
        }
        Some(v) => return Err(bad(format!("unsupported fastbpe file format version {v}"))),
        None => {
            return Err(bad(
                "missing or invalid \"version\" (expected a positive integer)".into(),
            ))
        }
    }
    if let Some(unknown) = obj.keys().find(|k| !FIELDS_V1.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown field {unknown:?} (version 1 has: {})",
            FIELDS_V1.join(", ")
        )));
    }
    let file = FileV1 {
        name: field(obj, "name", false, path)?,
        pattern: required(obj, "pattern", path)?,
        special_tokens: required(obj, "special_tokens", path)?,
        vocab: required(obj, "vocab", path)?,
        ranks: field(obj, "ranks", false, path)?,
        merges: field(obj, "merges", false, path)?,
    };
    let name = file.name.clone();
    let tokenizer = build(file, path)?;
    Ok(Loaded { tokenizer, name })
}

fn build(file: FileV1, path: &Path) -> Result<Tokenizer> {
    let bad = |m: String| Error::format(path, m);
    let b64 = |s: &str, what: &dyn Fn() -> String| -> Result<Vec<u8>> {
        let bytes = STANDARD
            .decode(s)
            .map_err(|e| bad(format!("{}: invalid base64 {s:?} ({e})", what())))?;
        if bytes.is_empty() {
            return Err(bad(format!("{}: empty token", what())));
        }
        Ok(bytes)
    };

    let mut vocab: Vec<(u32, Vec<u8>)> = Vec::with_capacity(file.vocab.len());
    for (key, val) in &file.vocab {
        let id: u32 = key
            .parse()
            .ok()
            .filter(|_| key.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                bad(format!(
                    "vocab key {key:?} is not a token id (0 to 4294967295)"
                ))
            })?;
        vocab.push((id, b64(val, &|| format!("vocab id {id}"))?));
    }
    vocab.sort_by_key(|(id, _)| *id);
    for w in vocab.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(bad(format!(
                "vocab has id {} twice (e.g. \"7\" and \"07\")",
                w[0].0
            )));
        }
    }
    let by_id: FxHashMap<u32, &[u8]> = vocab.iter().map(|(id, b)| (*id, b.as_slice())).collect();
    let known_bytes: FxHashSet<&[u8]> = vocab.iter().map(|(_, b)| b.as_slice()).collect();

    let mut specials: Vec<(String, u32)> = Vec::with_capacity(file.special_tokens.len());
    for s in &file.special_tokens {
        if let Some(bytes) = by_id.get(&s.id) {
            if *bytes != s.token.as_bytes() {
                return Err(bad(format!(
                    "special token {:?} has id {}, which vocab gives to {:?}",
                    s.token,
                    s.id,
                    String::from_utf8_lossy(bytes)
                )));
            }
        }
        if specials.iter().any(|(_, id)| *id == s.id) {
            return Err(bad(format!("two special tokens share id {}", s.id)));
        }
        specials.push((s.token.clone(), s.id));
    }

    let merges = match &file.merges {
        None => None,
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for (i, (l, r)) in list.iter().enumerate() {
                let l = b64(l, &|| format!("merge {i}"))?;
                let r = b64(r, &|| format!("merge {i}"))?;
                let product = [&l[..], &r[..]].concat();
                for part in [&l, &r, &product] {
                    if !known_bytes.contains(part.as_slice()) {
                        return Err(bad(format!(
                            "merge {i} ({:?}, {:?}) needs {:?}, which is not in vocab",
                            String::from_utf8_lossy(&l),
                            String::from_utf8_lossy(&r),
                            String::from_utf8_lossy(part)
                        )));
                    }
                }
                out.push((l, r));
            }
            Some(out)
        }
    };

    let as_format = |e: Error| match e {
        Error::Value(m) => bad(m),
        other => other,
    };
    match &file.ranks {
        Some(ranks) => {
            let mut seen: FxHashSet<u32> = FxHashSet::default();
            let mut ranked = Vec::with_capacity(ranks.len());
            for (rank, &id) in ranks.iter().enumerate() {
                let bytes = by_id
                    .get(&id)
                    .ok_or_else(|| bad(format!("ranks lists id {id}, which is not in vocab")))?;
                if !seen.insert(id) {
                    return Err(bad(format!("ranks lists id {id} twice")));
                }
                ranked.push(RankedToken {
                    bytes: bytes.to_vec(),
                    id,
                    rank: u32::try_from(rank).map_err(|_| bad("too many ranks".into()))?,
                });
            }
            let extra: Vec<(u32, Vec<u8>)> = vocab
                .into_iter()
                .filter(|(id, _)| !seen.contains(id) && !specials.iter().any(|(_, s)| s == id))
                .collect();
            Tokenizer::from_ranked(ranked, specials, &file.pattern, merges, extra)
                .map_err(as_format)
        }
        None => {
            let Some(merges) = merges else {
                return Err(bad(
                    "needs \"ranks\" or \"merges\" (both are missing or null)".into(),
                ));
            };
            let names: Vec<String> = specials.iter().map(|(s, _)| s.clone()).collect();
            let mut all = vocab.clone();
            for (s, id) in &specials {
                if !by_id.contains_key(id) {
                    all.push((*id, s.as_bytes().to_vec()));
                }
            }
            let tok = Tokenizer::from_vocab_merges(all, merges, &names, &file.pattern)
                .map_err(as_format)?;
            if tok.specials() != specials.as_slice() {
                return Err(bad(
                    "special tokens' bytes collide with other vocab entries; give \"ranks\"".into(),
                ));
            }
            Ok(tok)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretokenize::GPT2_PATTERN;
    use crate::tokenizer::Allowed;

    fn small() -> Tokenizer {
        let mut vocab: Vec<(u32, Vec<u8>)> = (0..256u32).map(|b| (b + 1, vec![b as u8])).collect();
        vocab.push((0, b"<|endoftext|>".to_vec()));
        vocab.push((257, b"th".to_vec()));
        vocab.push((258, b"the".to_vec()));
        let merges = vec![
            (b"t".to_vec(), b"h".to_vec()),
            (b"th".to_vec(), b"e".to_vec()),
        ];
        let specials = vec!["<|endoftext|>".to_string()];
        Tokenizer::from_vocab_merges(vocab, merges, &specials, GPT2_PATTERN).unwrap()
    }

    fn roundtrip(tok: &Tokenizer) -> Tokenizer {
        let text = write(tok, Some("t"));
        let loaded = parse(text.as_bytes(), Path::new("t.json")).unwrap();
        assert_eq!(loaded.name.as_deref(), Some("t"));
        loaded.tokenizer
    }

    #[test]
    fn round_trip_is_exact() {
        let tok = small();
        let back = roundtrip(&tok);
        let s = "the<|endoftext|>thethe other";
        assert_eq!(
            back.encode(s, Allowed::All).unwrap(),
            tok.encode(s, Allowed::All).unwrap()
        );
        assert_eq!(back.specials(), tok.specials());
        assert_eq!(back.merges(), tok.merges());
        assert_eq!(
            back.vocab().collect::<Vec<_>>(),
            tok.vocab().collect::<Vec<_>>()
        );
        assert_eq!(write(&back, Some("t")), write(&tok, Some("t")));
    }

    #[test]
    fn merges_only_file_loads() {
        let text = write(&small(), None);
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v.as_object_mut().unwrap().remove("ranks");
        let tok = parse(v.to_string().as_bytes(), Path::new("x"))
            .unwrap()
            .tokenizer;
        assert_eq!(
            tok.encode("the<|endoftext|>", Allowed::All).unwrap(),
            vec![258, 0]
        );
    }

    fn err_of(text: &str) -> String {
        match parse(text.as_bytes(), Path::new("f.json")) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn strict_validation() {
        let good = write(&small(), None);
        assert!(err_of(&good[..good.len() / 2]).contains("truncated"));
        assert!(err_of("").contains("invalid JSON"));
        assert!(err_of("[1]").contains("not an object"));
        assert!(err_of(r#"{"model": {}}"#).contains("Hugging Face"));
        assert!(err_of(r#"{"format": "other"}"#).contains("\"other\""));
        assert!(err_of(r#"{"format": "fastbpe", "version": 2}"#).contains("newer"));
        assert!(err_of(r#"{"format": "fastbpe"}"#).contains("version"));
        let with = |from: &str, to: &str| good.replacen(from, to, 1);
        assert!(err_of(&with("\"pattern\"", "\"patern\"")).contains("patern"));
        assert!(err_of(&with("\"1\": \"", "\"x\": \"")).contains("not a token id"));
        assert!(err_of(&with("\"1\": \"AA==\"", "\"1\": \"!!\"")).contains("base64"));
        assert!(err_of(&with("\"ranks\": [\n    ", "\"ranks\": [\n    999, ")).contains("999"));
        assert!(err_of(&with("\"ranks\": [\n    ", "\"ranks\": [\n    1, ")).contains("twice"));
        assert!(err_of(&with("\"id\": 0", "\"id\": 5")).contains("vocab gives"));
        assert!(err_of(&with("\"pattern\": \"", "\"pattern\": \"(")).contains("f.json"));
        let twice = with("\"vocab\": {", "\"vocab\": {\n    \"1\": \"AA==\",");
        assert!(err_of(&twice).contains("twice"), "{}", err_of(&twice));
        let v: serde_json::Value = serde_json::from_str(&good).unwrap();
        let mut no_rank = v.clone();
        no_rank["ranks"] = serde_json::Value::Null;
        no_rank["merges"] = serde_json::Value::Null;
        assert!(err_of(&no_rank.to_string()).contains("ranks"));
        let mut bad_merge = v;
        bad_merge["merges"] = serde_json::json!([["eA==", "eQ=="]]);
        assert!(err_of(&bad_merge.to_string()).contains("not in vocab"));
    }
}
