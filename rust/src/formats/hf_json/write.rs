//! Writing `tokenizer.json` and the `transformers` config files beside it.

use serde_json::{json, Map, Value};

use super::super::{byte_mapping, json, merge_order};
use crate::pretokenize::GPT2_PATTERN;
use crate::tokenizer::Tokenizer;

/// The `tokenizer.json` text for `tok` (see the module doc).
pub fn write(tok: &Tokenizer) -> String {
    let byte_level = json!({
        "type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true
    });
    let pre_tokenizer = if is_gpt2_pattern(tok.pattern()) {
        byte_level.clone()
    } else {
        let mut bl = byte_level.clone();
        bl["use_regex"] = Value::Bool(false);
        json!({"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": tok.pattern()}, "behavior": "Isolated",
             "invert": false},
            bl,
        ]})
    };
    let mut specials: Vec<&(String, u32)> = tok.specials().iter().collect();
    specials.sort_by_key(|(_, id)| *id);
    let added: Vec<Value> = specials
        .iter()
        .map(|(s, id)| {
            json!({"id": id, "content": s, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    // The vocab: ranked tokens and, as GPT-2's file has them, the special tokens (HF keeps an
    // added token's id only when the model's vocab gives its content that id).
    let mut vocab: Vec<(u32, String)> = Vec::with_capacity(tok.n_vocab());
    let mut seen = rustc_hash::FxHashSet::default();
    for t in tok.ranked() {
        let s = byte_mapping::encode(&t.bytes);
        if seen.insert(s.clone()) {
            vocab.push((t.id, s));
        }
    }
    for (s, id) in &specials {
        if seen.insert(s.clone()) {
            vocab.push((*id, s.clone()));
        }
    }
    vocab.sort();
    let mut out = String::with_capacity(tok.n_vocab() * 40);
    out.push_str("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n");
    out.push_str(&format!("  \"added_tokens\": {},\n", Value::Array(added)));
    out.push_str("  \"normalizer\": null,\n");
    out.push_str(&format!("  \"pre_tokenizer\": {pre_tokenizer},\n"));
    out.push_str("  \"post_processor\": null,\n");
    let mut decoder = byte_level;
    decoder["add_prefix_space"] = Value::Bool(true);
    out.push_str(&format!("  \"decoder\": {decoder},\n"));
    out.push_str(
        "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n    \
         \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \
         \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": true,\n    \
         \"vocab\": {",
    );
    for (i, (id, s)) in vocab.iter().enumerate() {
        out.push_str(if i == 0 { "\n      " } else { ",\n      " });
        out.push_str(&json::string(s, false));
        out.push_str(&format!(": {id}"));
    }
    out.push_str("\n    },\n    \"merges\": [");
    let mut first = true;
    for (t, split) in merge_order::splits(tok) {
        let Some(at) = split else { continue }; // built only as a whole word: ignore_merges
        out.push_str(if first { "\n      [" } else { ",\n      [" });
        first = false;
        out.push_str(&json::string(&byte_mapping::encode(&t.bytes[..at]), false));
        out.push_str(", ");
        out.push_str(&json::string(&byte_mapping::encode(&t.bytes[at..]), false));
        out.push(']');
    }
    out.push_str("\n    ]\n  }\n}\n");
    out
}

fn is_gpt2_pattern(pattern: &str) -> bool {
    const CLASSIC: &str =
        r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    pattern == GPT2_PATTERN || pattern == CLASSIC
}

/// Which special token plays which `transformers` role, by the names tokenizers commonly use.
/// As in GPT-2's own files, a tokenizer with an end-of-text token but no begin or unknown token
/// uses it for those roles too.
fn roles(tok: &Tokenizer) -> (Vec<(&'static str, String)>, Vec<String>) {
    const NAMES: [(&str, &[&str]); 4] = [
        (
            "eos_token",
            &[
                "<|endoftext|>",
                "</s>",
                "<|eos|>",
                "<eos>",
                "<|end_of_text|>",
            ],
        ),
        (
            "bos_token",
            &[
                "<s>",
                "<|bos|>",
                "<bos>",
                "<|begin_of_text|>",
                "<|startoftext|>",
            ],
        ),
        ("unk_token", &["<unk>", "<|unk|>"]),
        ("pad_token", &["<pad>", "<|pad|>", "<|padding|>"]),
    ];
    let has = |s: &str| tok.specials().iter().any(|(t, _)| t == s);
    let mut roles: Vec<(&'static str, String)> = Vec::new();
    for (role, names) in NAMES {
        if let Some(name) = names.iter().find(|n| has(n)) {
            roles.push((role, name.to_string()));
        }
    }
    if let Some(eos) = roles
        .iter()
        .find(|r| r.0 == "eos_token")
        .map(|r| r.1.clone())
    {
        for role in ["bos_token", "unk_token"] {
            if !roles.iter().any(|r| r.0 == role) {
                roles.push((role, eos.clone()));
            }
        }
    }
    let others = tok
        .specials()
        .iter()
        .map(|(s, _)| s.clone())
        .filter(|s| !roles.iter().any(|r| &r.1 == s))
        .collect();
    (roles, others)
}

/// (`tokenizer_config.json`, `special_tokens_map.json`) for `transformers`.
pub fn write_configs(tok: &Tokenizer) -> (String, String) {
    let (roles, others) = roles(tok);
    let mut map = Map::new();
    for (role, name) in &roles {
        map.insert(role.to_string(), Value::from(name.as_str()));
    }
    if !others.is_empty() {
        map.insert("additional_special_tokens".into(), json!(others));
    }
    let mut decoder = Map::new();
    for (s, id) in tok.specials() {
        decoder.insert(
            id.to_string(),
            json!({"content": s, "lstrip": false, "normalized": false, "rstrip": false,
                   "single_word": false, "special": true}),
        );
    }
    let mut config = map.clone();
    config.insert("tokenizer_class".into(), json!("PreTrainedTokenizerFast"));
    // fastbpe decodes exactly; transformers' space clean-up would change the text.
    config.insert("clean_up_tokenization_spaces".into(), json!(false));
    config.insert("add_prefix_space".into(), json!(false));
    config.insert("added_tokens_decoder".into(), Value::Object(decoder));
    let pretty = |m: Map<String, Value>| {
        serde_json::to_string_pretty(&Value::Object(m)).unwrap_or_default() + "\n"
    };
    (pretty(config), pretty(map))
}
