#![no_main]
// See fuzz/src/checks.rs for what this target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fastbpe_fuzz::checks::utf8(data));
