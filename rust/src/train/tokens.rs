//! The token table of the merge loop: byte strings by internal id (0..256 are the single bytes;
//! each merge that makes new bytes appends one).

use rustc_hash::FxHashMap;

use super::table::hash_bytes;

pub(super) struct Tokens {
    bytes: Vec<Box<[u8]>>,
    /// `prefix8` of each token: lets the tie-break settle most comparisons without the bytes.
    prefix: Vec<u64>,
    /// Ids by hash of their bytes (the bytes are kept once, in `bytes`).
    ids: FxHashMap<u64, Vec<u32>>,
}

/// First 8 bytes of `b` as a big-endian, zero-padded `u64`. When two prefixes differ, they order
/// as the byte strings do (a zero pad sorts a shorter string first, as it should); when they are
/// equal, the strings must be compared in full.
fn prefix8(b: &[u8]) -> u64 {
    let mut p = [0u8; 8];
    let n = b.len().min(8);
    p[..n].copy_from_slice(&b[..n]);
    u64::from_be_bytes(p)
}

impl Tokens {
    pub(super) fn new() -> Self {
        let mut t = Tokens {
            bytes: Vec::new(),
            prefix: Vec::new(),
            ids: FxHashMap::default(),
        };
        for b in 0..=255u8 {
            t.push(Box::new([b]));
        }
        t
    }

    /// Number of distinct tokens (bytes included).
    pub(super) fn len(&self) -> usize {
        self.bytes.len()
    }

    #[inline]
    pub(super) fn get(&self, id: u32) -> &[u8] {
        &self.bytes[id as usize]
    }

    #[inline]
    pub(super) fn prefix(&self, id: u32) -> u64 {
        self.prefix[id as usize]
    }

    fn push(&mut self, bytes: Box<[u8]>) -> u32 {
        let id = self.bytes.len() as u32;
        self.prefix.push(prefix8(&bytes));
        self.ids.entry(hash_bytes(&bytes)).or_default().push(id);
        self.bytes.push(bytes);
        id
    }

    /// The id of the token `a ++ b`, and whether it is new. Bytes that already are a token (`(a,
    /// bc)` after `(ab, c)`) keep their id: every byte string has one id.
    pub(super) fn concat(&mut self, a: u32, b: u32) -> (u32, bool) {
        let mut merged = Vec::with_capacity(self.get(a).len() + self.get(b).len());
        merged.extend_from_slice(self.get(a));
        merged.extend_from_slice(self.get(b));
        let hash = hash_bytes(&merged);
        let found = self.ids.get(&hash).and_then(|ids| {
            ids.iter()
                .copied()
                .find(|&id| *self.bytes[id as usize] == *merged)
        });
        match found {
            Some(id) => (id, false),
            None => (self.push(merged.into_boxed_slice()), true),
        }
    }

    /// All token byte strings, by internal id.
    pub(super) fn into_bytes(self) -> Vec<Box<[u8]>> {
        self.bytes
    }
}
