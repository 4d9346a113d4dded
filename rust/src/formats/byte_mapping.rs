//! GPT-2's reversible mapping between bytes and printable characters (`bytes_to_unicode` in
//! GPT-2's `encoder.py`), used by `encoder.json`/`vocab.bpe` and HF `vocab.json`/`merges.txt`.
//!
//! Printable Latin-1 bytes (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) map to themselves; the other 68 bytes map,
//! in byte order, to U+0100, U+0101, ...

use crate::fork_safe::RaceOnce;

fn is_printable_byte(b: u8) -> bool {
    (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b)
}

/// byte -> char.
pub fn byte_to_char() -> &'static [char; 256] {
    // RaceOnce, not OnceLock: a child forked while another thread builds the table must not block.
    static TABLE: RaceOnce<[char; 256]> = RaceOnce::new();
    TABLE.get_or_init(|| {
        let mut table = ['\0'; 256];
        let mut next = 0x100u32;
        for b in 0..=255u8 {
            table[b as usize] = if is_printable_byte(b) {
                b as char
            } else {
                let c = char::from_u32(next).unwrap_or('\u{FFFD}');
                next += 1;
                c
            };
        }
        table
    })
}

/// char -> byte, or None for a character outside the mapping.
pub fn char_to_byte(c: char) -> Option<u8> {
    let u = c as u32;
    if u < 0x100 && is_printable_byte(u as u8) {
        return Some(u as u8);
    }
    if (0x100..0x100 + 68).contains(&u) {
        let k = (u - 0x100) as usize;
        return (0..=255u8).filter(|&b| !is_printable_byte(b)).nth(k);
    }
    None
}

/// Decodes a mapped token string to its bytes.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    s.chars().map(char_to_byte).collect()
}

/// Encodes bytes to the mapped token string.
pub fn encode(bytes: &[u8]) -> String {
    let t = byte_to_char();
    bytes.iter().map(|&b| t[b as usize]).collect()
}

/// The 256 bytes in GPT-2's "data gym" rank order: printable bytes first, then the rest.
pub fn data_gym_byte_order() -> Vec<u8> {
    let mut order: Vec<u8> = (0..=255u8).filter(|&b| is_printable_byte(b)).collect();
    order.extend((0..=255u8).filter(|&b| !is_printable_byte(b)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_is_a_bijection() {
        for b in 0..=255u8 {
            let c = byte_to_char()[b as usize];
            assert_eq!(char_to_byte(c), Some(b));
        }
        assert_eq!(byte_to_char()[b' ' as usize], 'Ġ');
        assert_eq!(byte_to_char()[b'\n' as usize], 'Ċ');
        assert_eq!(char_to_byte('€'), None);
    }
}
