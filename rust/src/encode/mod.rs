//! BPE encoding.
