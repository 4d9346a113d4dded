#![no_main]
// See `pretokenize_o200k` in fuzz/src/checks.rs for what this target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fastbpe_fuzz::checks::pretokenize_o200k(data));
