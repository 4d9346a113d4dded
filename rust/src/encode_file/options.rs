//! Options and statistics of `encode_files`: output layout, id type, special-token policy.

use std::path::Path;

use crate::chunk::{self, Utf8Mode};
use crate::error::{Error, Result};

/// Layout of the output file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFormat {
    /// NumPy `.npy` version 1.0: a header, then little-endian ids (`numpy.load(..., mmap_mode="r")`).
    Npy,
    /// Raw little-endian ids, no header (nanoGPT's `.bin`; `numpy.memmap(path, dtype)`).
    Bin,
}

impl TokenFormat {
    /// From the output file's extension: `.npy` or `.bin`.
    pub fn from_path(path: &Path) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("npy") => Ok(TokenFormat::Npy),
            Some("bin") => Ok(TokenFormat::Bin),
            _ => Err(Error::value(format!(
                "{}: output must end in .npy (NumPy array) or .bin (raw ids)",
                path.display()
            ))),
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "npy" => Ok(TokenFormat::Npy),
            "bin" => Ok(TokenFormat::Bin),
            other => Err(Error::value(format!(
                "token file format must be \"npy\" or \"bin\", not {other:?}"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TokenFormat::Npy => "npy",
            TokenFormat::Bin => "bin",
        }
    }
}

/// Element type of the ids in the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    U16,
    U32,
}

impl Dtype {
    /// `U16` when every id of a vocabulary of `n_vocab` ids fits, else `U32`.
    pub fn for_vocab(n_vocab: usize) -> Self {
        if n_vocab <= 1 << 16 {
            Dtype::U16
        } else {
            Dtype::U32
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "uint16" | "u16" | "<u2" => Ok(Dtype::U16),
            "uint32" | "u32" | "<u4" => Ok(Dtype::U32),
            other => Err(Error::value(format!(
                "dtype must be uint16 or uint32, not {other:?}"
            ))),
        }
    }

    pub fn itemsize(self) -> usize {
        match self {
            Dtype::U16 => 2,
            Dtype::U32 => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dtype::U16 => "uint16",
            Dtype::U32 => "uint32",
        }
    }

    pub(super) fn npy_descr(self) -> &'static str {
        match self {
            Dtype::U16 => "<u2",
            Dtype::U32 => "<u4",
        }
    }
}

/// Which special tokens are recognized in the text (the rest is encoded as ordinary text): the
/// one policy type, `crate::special::SpecialPolicy`.
pub use crate::special::SpecialPolicy;

#[derive(Clone, Debug)]
pub struct EncodeFileOptions {
    /// Output layout; `None` picks it from the output's extension.
    pub format: Option<TokenFormat>,
    /// Element type; `None` picks `uint16` when the vocabulary fits, else `uint32`.
    pub dtype: Option<Dtype>,
    pub special: SpecialPolicy,
    /// An id written between consecutive input files (e.g. `<|endoftext|>`).
    pub separator: Option<u32>,
    pub utf8: Utf8Mode,
    /// Nominal chunk size in bytes (chunks end at the first safe cut after it); at most
    /// `chunk::MAX_CHUNK_SIZE`.
    pub chunk_size: usize,
    /// Worker threads; `None` uses all cores (`crate::parallel::threads`).
    pub threads: Option<usize>,
    /// Most chunks alive at once; 0 picks `2 * threads + 2`.
    pub in_flight: usize,
}

impl Default for EncodeFileOptions {
    fn default() -> Self {
        EncodeFileOptions {
            format: None,
            dtype: None,
            special: SpecialPolicy::All,
            separator: None,
            utf8: Utf8Mode::Strict,
            chunk_size: chunk::DEFAULT_CHUNK_SIZE,
            threads: None,
            in_flight: 0,
        }
    }
}

/// What an encoding run did.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodeFileStats {
    pub bytes: u64,
    pub tokens: u64,
    pub chunks: u64,
    pub files: usize,
    pub dtype: Dtype,
    pub format: TokenFormat,
    pub seconds: f64,
}
