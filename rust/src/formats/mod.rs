//! Tokenizer file formats.
