#![no_main]
// The counts-file reader (`rust/src/formats/counts.rs`) on arbitrary bytes: never a panic, and
// whatever parses is canonical (writing it back gives the same bytes). The checksum is fixed up
// first, or nearly every input would stop at it and the structure behind it would go unfuzzed.
use std::path::Path;

use fastbpe::formats::counts;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut file = data.to_vec();
    if file.len() >= 8 {
        let body = file.len() - 8;
        let sum = counts::checksum(&file[..body]);
        file[body..].copy_from_slice(&sum.to_le_bytes());
    }
    if let Ok((prov, words)) = counts::parse(&file, Path::new("fuzz.counts")) {
        assert_eq!(
            counts::write(&prov, &words),
            file,
            "parse then write changed the file"
        );
    }
});
