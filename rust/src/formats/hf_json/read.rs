//! Reading `tokenizer.json`: every setting checked against what fastbpe implements (see the
//! parent module's doc for what is accepted and why).

use std::path::Path;

use serde_json::{Map, Value};

use super::super::merge_order::RankOf;
use super::super::{byte_mapping, json};
use crate::encode::RankedToken;
use crate::error::{Error, Result};
use crate::pretokenize::GPT2_PATTERN;
use crate::tokenizer::Tokenizer;

/// Parses a `tokenizer.json`'s bytes (`path` names the file in errors).
pub fn parse(data: &[u8], path: &Path) -> Result<Tokenizer> {
    let bad = |m: String| Error::format(path, m);
    super::super::utf8(data, path)?;
    let doc = json::parse_strict(data).map_err(|e| {
        bad(if json::is_syntax(&e) {
            format!("invalid JSON ({e}); is it truncated or corrupt?")
        } else {
            e.to_string()
        })
    })?;
    let obj = doc
        .as_object()
        .ok_or_else(|| bad("not a tokenizer.json: the JSON is not an object".into()))?;
    let model = obj
        .get("model")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("not a BPE tokenizer.json (no \"model\" object)".into()))?;
    only_keys(
        obj,
        "the top level",
        &[
            "version",
            "truncation",
            "padding",
            "added_tokens",
            "normalizer",
            "pre_tokenizer",
            "post_processor",
            "decoder",
            "model",
        ],
    )
    .map_err(&bad)?;
    for (key, what) in [
        ("truncation", "fastbpe does not truncate"),
        ("padding", "fastbpe does not pad"),
        ("normalizer", "fastbpe does not normalize text"),
    ] {
        if !is_null(obj.get(key)) {
            return Err(bad(format!(
                "{key} {} is not supported: {what}, so ids would differ from tokenizers'",
                short(&obj[key])
            )));
        }
    }
    let pattern = pre_tokenizer(obj.get("pre_tokenizer")).map_err(&bad)?;
    post_processor_and_decoder(obj).map_err(&bad)?;
    let ignore_merges = model_options(model).map_err(&bad)?;
    let specials = added_tokens(obj.get("added_tokens")).map_err(&bad)?;
    let (vocab, merges) = vocab_and_merges(model, &specials).map_err(&bad)?;
    let names: Vec<String> = specials.iter().map(|(s, _)| s.clone()).collect();
    let mut all = vocab;
    all.extend(specials.iter().map(|(s, id)| (*id, s.as_bytes().to_vec())));
    let mut tok = Tokenizer::from_vocab_merges(all, merges, &names, &pattern)
        .map_err(|e| super::super::in_file(e, path))?;
    if ignore_merges {
        tok = whole_word_tokens_ranked(tok).map_err(|e| super::super::in_file(e, path))?;
    }
    if tok.specials() != specials.as_slice() {
        return Err(bad(
            "an added token's content is also a model vocab entry with another id".into(),
        ));
    }
    follows_fastbpe_rule(&tok, ignore_merges).map_err(&bad)?;
    Ok(tok)
}

type Msg = String;

fn is_null(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

/// At most 200 characters of `v`'s JSON, for messages.
fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

fn only_keys(obj: &Map<String, Value>, what: &str, known: &[&str]) -> std::result::Result<(), Msg> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "{what} has the setting {k:?}, which fastbpe does not implement (it knows: {})",
            known.join(", ")
        )),
        None => Ok(()),
    }
}

/// `obj[key]` as a bool (absent or null: `default`).
fn flag(
    obj: &Map<String, Value>,
    key: &str,
    default: bool,
    what: &str,
) -> std::result::Result<bool, Msg> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(format!(
            "{what}: {key} must be true or false, not {}",
            short(v)
        )),
    }
}

fn typed<'a>(
    v: &'a Value,
    what: &str,
) -> std::result::Result<(&'a Map<String, Value>, &'a str), Msg> {
    let obj = v
        .as_object()
        .ok_or_else(|| format!("{what} must be an object, not {}", short(v)))?;
    let ty = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what} has no \"type\": {}", short(v)))?;
    Ok((obj, ty))
}

/// A `ByteLevel` step: checks its settings; returns `use_regex`.
fn byte_level(obj: &Map<String, Value>, what: &str) -> std::result::Result<bool, Msg> {
    only_keys(
        obj,
        what,
        &["type", "add_prefix_space", "trim_offsets", "use_regex"],
    )?;
    if flag(obj, "add_prefix_space", false, what)? {
        return Err(format!(
            "{what}: ByteLevel add_prefix_space=true is not supported (fastbpe adds no space)"
        ));
    }
    flag(obj, "trim_offsets", true, what)?; // offsets only: no effect on ids
    flag(obj, "use_regex", true, what)
}

/// The pre-tokenization regex the `pre_tokenizer` stands for.
fn pre_tokenizer(pre: Option<&Value>) -> std::result::Result<String, Msg> {
    let unsupported = |detail: &str| {
        format!(
            "pre_tokenizer {} is not supported ({detail}); fastbpe reads byte-level BPE \
             tokenizer.json files with a ByteLevel pre-tokenizer, optionally after a regex \
             Split (Isolated)",
            pre.map(short).unwrap_or_else(|| "null".into())
        )
    };
    let Some(pre) = pre.filter(|p| !p.is_null()) else {
        return Err(unsupported("none given"));
    };
    let (obj, ty) = typed(pre, "pre_tokenizer")?;
    match ty {
        "ByteLevel" => {
            if !byte_level(obj, "pre_tokenizer")? {
                return Err(unsupported("ByteLevel without its regex splits nothing"));
            }
            Ok(GPT2_PATTERN.to_string())
        }
        "Sequence" => {
            only_keys(obj, "pre_tokenizer Sequence", &["type", "pretokenizers"])?;
            let steps = obj
                .get("pretokenizers")
                .and_then(Value::as_array)
                .ok_or_else(|| unsupported("no pretokenizers list"))?;
            let [split, bl] = steps.as_slice() else {
                return Err(unsupported("expected exactly Split then ByteLevel"));
            };
            let (split, split_ty) = typed(split, "pre_tokenizer Split")?;
            let (bl, bl_ty) = typed(bl, "pre_tokenizer ByteLevel")?;
            if split_ty != "Split" || bl_ty != "ByteLevel" {
                return Err(unsupported("expected exactly Split then ByteLevel"));
            }
            only_keys(
                split,
                "pre_tokenizer Split",
                &["type", "pattern", "behavior", "invert"],
            )?;
            let regex = split
                .get("pattern")
                .and_then(|p| p.get("Regex"))
                .and_then(Value::as_str)
                .ok_or_else(|| unsupported("the Split pattern must be {\"Regex\": ...}"))?;
            if split.get("behavior").and_then(Value::as_str) != Some("Isolated") {
                return Err(unsupported("Split behavior must be \"Isolated\""));
            }
            if flag(split, "invert", false, "pre_tokenizer Split")? {
                return Err(unsupported("Split invert=true"));
            }
            if byte_level(bl, "pre_tokenizer ByteLevel")? {
                return Err(unsupported(
                    "ByteLevel after a Split must have use_regex=false",
                ));
            }
            Ok(regex.to_string())
        }
        other => Err(unsupported(&format!("type {other:?}"))),
    }
}

fn post_processor_and_decoder(obj: &Map<String, Value>) -> std::result::Result<(), Msg> {
    if let Some(post) = obj.get("post_processor").filter(|p| !p.is_null()) {
        let (p, ty) = typed(post, "post_processor")?;
        if ty != "ByteLevel" {
            return Err(format!(
                "post_processor {} is not supported: it adds or changes ids after encoding \
                 (fastbpe accepts none, or ByteLevel, which only trims offsets)",
                short(post)
            ));
        }
        only_keys(
            p,
            "post_processor",
            &["type", "add_prefix_space", "trim_offsets", "use_regex"],
        )?;
    }
    let decoder = obj.get("decoder").filter(|d| !d.is_null()).ok_or_else(|| {
        "decoder is null: tokenizers would decode to byte-level characters, fastbpe to the \
         bytes; fastbpe reads ByteLevel decoders only"
            .to_string()
    })?;
    let (d, ty) = typed(decoder, "decoder")?;
    if ty != "ByteLevel" {
        return Err(format!(
            "decoder {} is not supported (fastbpe decodes byte-level BPE: ByteLevel only)",
            short(decoder)
        ));
    }
    only_keys(
        d,
        "decoder",
        &["type", "add_prefix_space", "trim_offsets", "use_regex"],
    )
}

/// Checks the BPE model's settings; returns `ignore_merges`.
fn model_options(model: &Map<String, Value>) -> std::result::Result<bool, Msg> {
    only_keys(
        model,
        "model",
        &[
            "type",
            "dropout",
            "unk_token",
            "continuing_subword_prefix",
            "end_of_word_suffix",
            "fuse_unk",
            "byte_fallback",
            "ignore_merges",
            "vocab",
            "merges",
        ],
    )?;
    match model.get("type") {
        None => {}
        Some(Value::String(t)) if t == "BPE" => {}
        Some(t) => {
            return Err(format!(
                "model type {} is not supported: not a BPE tokenizer.json",
                short(t)
            ))
        }
    }
    match model.get("dropout") {
        None | Some(Value::Null) => {}
        Some(v) if v.as_f64() == Some(0.0) => {}
        Some(v) => {
            return Err(format!(
                "model dropout {} is not supported: BPE dropout makes ids random",
                short(v)
            ))
        }
    }
    for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
        match model.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(v) => {
                return Err(format!(
                    "model {key} {} is not supported: fastbpe's tokens are plain bytes",
                    short(v)
                ))
            }
        }
    }
    // Byte fallback, like unk_token, acts only on a character the vocab lacks; byte-level BPE
    // has all 256 (fastbpe requires them), so it never acts.
    flag(model, "byte_fallback", false, "model")?;
    match model.get("unk_token") {
        None | Some(Value::Null) | Some(Value::String(_)) => {}
        Some(v) => {
            return Err(format!(
                "model unk_token must be a string, not {}",
                short(v)
            ))
        }
    }
    flag(model, "fuse_unk", false, "model")?;
    flag(model, "ignore_merges", false, "model")
}

/// The special tokens, (content, id) in file order.
fn added_tokens(v: Option<&Value>) -> std::result::Result<Vec<(String, u32)>, Msg> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let list = v
        .as_array()
        .ok_or_else(|| format!("added_tokens must be a list, not {}", short(v)))?;
    let mut out: Vec<(String, u32)> = Vec::with_capacity(list.len());
    for t in list {
        let obj = t
            .as_object()
            .ok_or_else(|| format!("added token {} is not an object", short(t)))?;
        let what = format!("added token {}", short(t));
        only_keys(
            obj,
            &what,
            &[
                "id",
                "content",
                "single_word",
                "lstrip",
                "rstrip",
                "normalized",
                "special",
            ],
        )?;
        let content = obj
            .get("content")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| format!("{what}: content must be a non-empty string"))?;
        let id = obj
            .get("id")
            .and_then(Value::as_u64)
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| format!("{what}: id must be an integer below 2^32"))?;
        if !flag(obj, "special", false, &what)? {
            return Err(format!(
                "{what} is not special: non-special added tokens are not supported"
            ));
        }
        for key in ["single_word", "lstrip", "rstrip"] {
            if flag(obj, key, false, &what)? {
                return Err(format!("{what}: {key}=true is not supported"));
            }
        }
        flag(obj, "normalized", false, &what)?; // no normalizer: no effect
        if out.iter().any(|(c, i)| c == content || *i == id) {
            return Err(format!(
                "{what} repeats the content or id of another added token"
            ));
        }
        out.push((content.to_string(), id));
    }
    Ok(out)
}

type VocabMerges = (Vec<(u32, Vec<u8>)>, Vec<(Vec<u8>, Vec<u8>)>);

/// The model's vocabulary (without the special tokens) and merges, as bytes.
fn vocab_and_merges(
    model: &Map<String, Value>,
    specials: &[(String, u32)],
) -> std::result::Result<VocabMerges, Msg> {
    let decode = |s: &str, what: &dyn Fn() -> String| {
        byte_mapping::decode(s)
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                format!(
                "{}: {s:?} is empty or has a character outside GPT-2's byte-level alphabet; only \
                 byte-level BPE tokenizers are supported",
                what()
            )
            })
    };
    let vocab_obj = model
        .get("vocab")
        .and_then(Value::as_object)
        .ok_or_else(|| "model vocab must be an object of token -> id".to_string())?;
    let mut vocab = Vec::with_capacity(vocab_obj.len());
    for (s, id) in vocab_obj {
        let id = id
            .as_u64()
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| format!("model vocab: the id of {s:?} is not an integer below 2^32"))?;
        // Special tokens are listed in the model's vocab too (GPT-2's file does).
        if let Some((content, _)) = specials.iter().find(|(_, sid)| *sid == id) {
            if content != s {
                return Err(format!(
                    "model vocab gives id {id} to {s:?}, but the added token {content:?} has it"
                ));
            }
            continue;
        }
        vocab.push((id, decode(s, &|| "model vocab".to_string())?));
    }
    let list = match model.get("merges") {
        None | Some(Value::Null) => &Vec::new(),
        Some(Value::Array(a)) => a,
        Some(v) => return Err(format!("model merges must be a list, not {}", short(v))),
    };
    let mut merges = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let what = || format!("model merge {i}");
        let (a, b) = match m {
            Value::String(s) => match s.split(' ').collect::<Vec<_>>().as_slice() {
                [a, b] => (*a, *b),
                _ => return Err(format!("{}: {s:?} is not two tokens and one space", what())),
            },
            Value::Array(pair) => match pair.as_slice() {
                [Value::String(a), Value::String(b)] => (a.as_str(), b.as_str()),
                _ => return Err(format!("{}: {} is not two strings", what(), short(m))),
            },
            _ => return Err(format!("{}: {} is not a merge", what(), short(m))),
        };
        merges.push((decode(a, &what)?, decode(b, &what)?));
    }
    Ok((vocab, merges))
}

/// Refuses a merge list on which fastbpe's rule and `tokenizers`' would differ (module doc).
/// With `ignore_merges: true` tokenizers gives a word that is in the vocab as that token, even
/// when no merge makes it; fastbpe does the same for a *ranked* token (a pre-token that is a token
/// is one token), so such vocab entries join the ranks after every merge. Their rank never
/// matters: they are never built by merging (checked in `follows_fastbpe_rule`), so they never
/// take part in another token's merges either.
fn whole_word_tokens_ranked(tok: Tokenizer) -> Result<Tokenizer> {
    let ranked_ids: rustc_hash::FxHashSet<u32> = tok.ranked().iter().map(|t| t.id).collect();
    let special_ids: rustc_hash::FxHashSet<u32> = tok.specials().iter().map(|s| s.1).collect();
    let mut ranked = tok.ranked().to_vec();
    let mut next = ranked.iter().map(|t| t.rank).max().unwrap_or(0);
    let mut added = false;
    for (id, bytes) in tok.vocab() {
        if !ranked_ids.contains(&id) && !special_ids.contains(&id) {
            next = next
                .checked_add(1)
                .ok_or_else(|| Error::value("too many tokens"))?;
            ranked.push(RankedToken {
                bytes: bytes.to_vec(),
                id,
                rank: next,
            });
            added = true;
        }
    }
    if !added {
        return Ok(tok);
    }
    let merges = tok.merges().map(<[_]>::to_vec);
    Tokenizer::from_ranked(
        ranked,
        tok.specials().to_vec(),
        tok.pattern(),
        merges,
        Vec::new(),
    )
}

fn follows_fastbpe_rule(tok: &Tokenizer, ignore_merges: bool) -> std::result::Result<(), Msg> {
    let rank_of = RankOf::new(tok.ranked());
    let merges = tok.merges().unwrap_or(&[]);
    let mut checked = rustc_hash::FxHashSet::default();
    for (i, (l, r)) in merges.iter().enumerate() {
        let product = [&l[..], &r[..]].concat();
        if !checked.insert(product.clone()) {
            continue; // a later merge for the same token: tokenizers never reaches it
        }
        let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match rank_of.split(&product) {
            Some(at) if at == l.len() => {}
            Some(at) => {
                return Err(format!(
                    "merge {i} ({:?}, {:?}): fastbpe's rule (as tiktoken's, by the rank of the \
                     merged bytes) builds {:?} from ({:?}, {:?}), tokenizers' (by the merge's \
                     place in the list) from this pair, so their ids would differ",
                    lossy(l),
                    lossy(r),
                    lossy(&product),
                    lossy(&product[..at]),
                    lossy(&product[at..])
                ))
            }
            None if ignore_merges => {}
            None => {
                return Err(format!(
                    "merge {i} ({:?}, {:?}): merging the bytes of {:?} never reaches this pair; \
                     fastbpe gives that token for a whole word, tokenizers (ignore_merges=false) \
                     does not",
                    lossy(l),
                    lossy(r),
                    lossy(&product)
                ))
            }
        }
    }
    // Tokens no merge makes (ranked by `whole_word_tokens_ranked`): tokenizers gives them only for
    // a whole word, so merging their bytes must never build them.
    for t in tok.ranked() {
        if t.bytes.len() >= 2 && !checked.contains(&t.bytes) && rank_of.split(&t.bytes).is_some() {
            return Err(format!(
                "model vocab token {:?} (id {}) is made by no merge, but merging its bytes \
                 builds it under fastbpe's rule; tokenizers never would",
                String::from_utf8_lossy(&t.bytes),
                t.id
            ));
        }
    }
    Ok(())
}
