//! Hugging Face `tokenizer.json` (byte-level BPE), read and written; the writer adds the
//! `tokenizer_config.json` and `special_tokens_map.json` that `transformers.AutoTokenizer` reads.
//!
//! Reading refuses every setting fastbpe does not implement, naming the setting and the file:
//! a tokenizer that loaded with one ignored would disagree with `tokenizers` on ids. What is
//! accepted is what gives fastbpe's ids exactly:
//!
//! * `pre_tokenizer`: `ByteLevel` (GPT-2's regex, no prefix space), or `Sequence[Split(Regex,
//!   "Isolated"), ByteLevel(use_regex=false)]` (any pattern);
//! * `model`: `BPE` without dropout or word prefixes/suffixes; `unk_token`, `fuse_unk` and
//!   `byte_fallback` are accepted because byte-level BPE has every byte, so nothing is unknown;
//! * `decoder`: `ByteLevel`; `post_processor`: none or `ByteLevel` (it only trims offsets);
//!   no `normalizer`, `truncation` or `padding`;
//! * `added_tokens`: special tokens without `lstrip`/`rstrip`/`single_word`;
//! * the merge list must be one fastbpe's rule follows: `tokenizers` ranks a *pair* by its place
//!   in the list, fastbpe (as tiktoken) the pair's *merged bytes*. They agree exactly when each
//!   token's first merge is the split that merging its own bytes reaches (the argument is in
//!   `merge_order.rs`). With `ignore_merges: true` (a word that is a token is that token) vocab
//!   entries no merge makes are tokens for whole words, as in tokenizers, as long as merging
//!   their bytes never builds them; with `false` every merged token must be reachable by merging.
//!
//! The writer emits such a file: the merge list is each token's split in rank order (for GPT-2
//! exactly its 50,000 merges, `vocab.bpe`) and `ignore_merges: true`.

mod read;
mod write;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::tokenizer::Tokenizer;

pub use read::parse;
pub use write::{write, write_configs};

/// Reads a `tokenizer.json`.
pub fn load(path: &Path) -> Result<Tokenizer> {
    parse(&super::read(path)?, path)
}

/// Writes `tokenizer.json` (at `path`, or inside `path` when it is a directory); beside a file
/// named `tokenizer.json` also `tokenizer_config.json` and `special_tokens_map.json`. All files
/// or none. Returns the paths written.
pub fn save(tok: &Tokenizer, path: &Path) -> Result<Vec<PathBuf>> {
    let dir = super::names_directory(path);
    let file = if dir {
        path.join("tokenizer.json")
    } else {
        path.to_path_buf()
    };
    let mut files = vec![(file.clone(), write(tok).into_bytes())];
    if file.file_name().is_some_and(|n| n == "tokenizer.json") {
        let (config, map) = write_configs(tok);
        files.push((
            file.with_file_name("tokenizer_config.json"),
            config.into_bytes(),
        ));
        files.push((
            file.with_file_name("special_tokens_map.json"),
            map.into_bytes(),
        ));
    }
    if dir {
        super::commit::write_files_into(path, &files)?;
    } else {
        super::commit::write_files(&files)?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::RankedToken;
    use crate::pretokenize::GPT2_PATTERN;
    use serde_json::{json, Value};

    fn small() -> Tokenizer {
        let mut vocab: Vec<(u32, Vec<u8>)> = (0..256u32).map(|b| (b, vec![b as u8])).collect();
        vocab.push((256, b"bc".to_vec()));
        vocab.push((257, b"ab".to_vec()));
        vocab.push((258, b"abc".to_vec()));
        vocab.push((259, b"<|endoftext|>".to_vec()));
        let merges = vec![
            (b"b".to_vec(), b"c".to_vec()),
            (b"a".to_vec(), b"b".to_vec()),
            (b"ab".to_vec(), b"c".to_vec()),
        ];
        let specials = vec!["<|endoftext|>".to_string()];
        Tokenizer::from_vocab_merges(vocab, merges, &specials, GPT2_PATTERN).unwrap()
    }

    fn err(text: &str) -> String {
        match parse(text.as_bytes(), Path::new("t.json")) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn written_file_reads_back_with_the_rank_rule_split() {
        let tok = small();
        let text = write(&tok);
        // "abc" is built as a + bc under the rank rule, not as the listed (ab, c).
        assert!(text.contains("[\"a\", \"bc\"]") && !text.contains("[\"ab\", \"c\"]"));
        let back = parse(text.as_bytes(), Path::new("t.json")).unwrap();
        let ids = |t: &Tokenizer| t.encode("abcd <|endoftext|>", crate::tokenizer::Allowed::All);
        assert_eq!(ids(&back).unwrap(), ids(&tok).unwrap());
    }

    #[test]
    fn settings_that_change_ids_are_refused_by_name() {
        let good: Value = serde_json::from_str(&write(&small())).unwrap();
        let with = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            err(&v.to_string())
        };
        assert!(with(&|v| v["model"]["dropout"] = json!(0.1)).contains("dropout"));
        assert!(with(&|v| v["model"]["end_of_word_suffix"] = json!("</w>"))
            .contains("end_of_word_suffix"));
        assert!(with(&|v| v["model"]["new_thing"] = json!(1)).contains("new_thing"));
        assert!(with(&|v| v["normalizer"] = json!({"type": "NFC"})).contains("normalizer"));
        assert!(with(&|v| v["added_tokens"][0]["lstrip"] = json!(true)).contains("lstrip"));
        assert!(with(&|v| v["decoder"] = json!({"type": "WordPiece"})).contains("decoder"));
        let listed = with(&|v| v["model"]["merges"][2] = json!(["ab", "c"]));
        assert!(
            listed.contains("merge 2") && listed.contains("t.json"),
            "{listed}"
        );
        assert!(err(r#"{"model": {"type": "BPE", "vocab": {}}, "model": {}}"#).contains("twice"));
    }

    #[test]
    fn configs_name_gpt2_roles() {
        let ranked: Vec<RankedToken> = (0..=255u8)
            .map(|b| RankedToken {
                bytes: vec![b],
                id: b as u32,
                rank: b as u32,
            })
            .collect();
        let specials = vec![
            ("<|endoftext|>".to_string(), 256),
            ("<|pad|>".to_string(), 257),
        ];
        let tok = Tokenizer::from_ranked(ranked, specials, GPT2_PATTERN, None, vec![]).unwrap();
        let (_, map) = write_configs(&tok);
        let map: Value = serde_json::from_str(&map).unwrap();
        assert_eq!(map["eos_token"], "<|endoftext|>");
        assert_eq!(map["bos_token"], "<|endoftext|>");
        assert_eq!(map["pad_token"], "<|pad|>");
    }
}
