//! The bytes of a token file: ids as little-endian `u16`/`u32`, and the `.npy` header.

use super::options::Dtype;

/// Ids as little-endian bytes of `dtype` (workers do this, so the writer only copies).
pub fn ids_to_bytes(ids: &[u32], dtype: Dtype) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * dtype.itemsize());
    match dtype {
        // `check_dtype` guarantees every id fits when U16 is chosen.
        Dtype::U16 => ids
            .iter()
            .for_each(|&i| out.extend_from_slice(&(i as u16).to_le_bytes())),
        Dtype::U32 => ids
            .iter()
            .for_each(|&i| out.extend_from_slice(&i.to_le_bytes())),
    }
    out
}

/// Total size of the `.npy` header we write: fixed, so the final header (with the real length)
/// overwrites the placeholder exactly. 128 bytes leave room for a 20-digit length and keep the
/// data 64-byte aligned, as NumPy requires of version 1.0 headers.
pub const NPY_HEADER_LEN: usize = 128;

/// A NumPy 1.0 header for a 1-D little-endian array of `len` elements.
pub fn npy_header(dtype: Dtype, len: u64) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': ({},), }}",
        dtype.npy_descr(),
        len
    );
    let body_len = NPY_HEADER_LEN - 10;
    let mut out = Vec::with_capacity(NPY_HEADER_LEN);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(body_len as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(NPY_HEADER_LEN - 1, b' ');
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_header_is_aligned_and_fixed_size() {
        for n in [0u64, 7, u64::MAX] {
            let h = npy_header(Dtype::U32, n);
            assert_eq!(h.len(), NPY_HEADER_LEN);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(*h.last().unwrap(), b'\n');
        }
    }
}
