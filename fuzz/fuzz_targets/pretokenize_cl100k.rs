#![no_main]
// The hand-written cl100k_base scanner == fancy-regex running tiktoken's cl100k pattern, piece by
// piece, on any input (bytes made text with U+FFFD for invalid UTF-8); the pieces are never empty
// and concatenate to the input.
use fastbpe::pretokenize::cl100k::Cl100kPieces;
use fastbpe::pretokenize::regex_pattern::RegexSplitter;
use fastbpe::pretokenize::CL100K_PATTERN;

fn oracle() -> &'static RegexSplitter {
    static RE: std::sync::OnceLock<RegexSplitter> = std::sync::OnceLock::new();
    RE.get_or_init(|| RegexSplitter::new(CL100K_PATTERN).expect("tiktoken's pattern compiles"))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text: &str = &text;
    let got: Vec<&str> = Cl100kPieces::new(text).collect();
    assert_eq!(got.concat(), text, "pieces do not concatenate to the input");
    assert!(got.iter().all(|p| !p.is_empty()), "empty piece");
    let mut want: Vec<&str> = Vec::new();
    // The regex engine may give up (backtrack limit) on hostile input; then there is no oracle.
    if oracle().for_each_piece(text, |p| want.push(p)).is_ok() {
        assert_eq!(got, want, "scanner != regex (cl100k pattern) on {text:?}");
    }
});
