use super::*;

fn cutter(specials: &[&str]) -> Cutter {
    let s: Vec<String> = specials.iter().map(|s| s.to_string()).collect();
    Cutter::new(&s, CutRule::Gpt2).unwrap()
}

fn lcg_text(n: usize, seed: u64) -> Vec<u8> {
    let alphabet: Vec<&str> = vec![
        "a", "b", " ", "\n", "é", "<|s|>", ".", "  ", "\n\n", "x1", "\t", "\r\n", "\u{3000}",
        "\u{a0}", "'s", "7", "!!", " \n", "世",
    ];
    let mut s = seed;
    let mut out = Vec::new();
    while out.len() < n {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.extend_from_slice(alphabet[(s >> 33) as usize % alphabet.len()].as_bytes());
    }
    out
}

#[test]
fn file_chunks_tile_and_match_reader() {
    let c = cutter(&["<|s|>"]);
    for seed in 0..20u64 {
        let text = lcg_text(5000, seed);
        for size in [1usize, 7, 64, 1000, 10000] {
            let fc = FileChunks::plan("mem", text.as_slice(), text.len() as u64, size, &c).unwrap();
            assert_eq!(fc.cuts.first().copied(), Some(0));
            assert_eq!(fc.cuts.last().copied(), Some(text.len() as u64));
            for w in fc.cuts.windows(2) {
                assert!(w[0] < w[1]);
                let p = w[0] as usize;
                if p > 0 {
                    assert_eq!(c.find_cut(&text, 0, p, true), Cut::At(p));
                }
            }
            let reader = ChunkReader::new(text.as_slice(), c.clone(), size, "mem");
            let mut joined = Vec::new();
            for ch in reader {
                let ch = ch.unwrap();
                assert_eq!(ch.offset as usize, joined.len());
                assert!(!ch.data.is_empty());
                let p = ch.offset as usize;
                if p > 0 {
                    assert_eq!(c.find_cut(&text, 0, p, true), Cut::At(p));
                }
                joined.extend_from_slice(&ch.data);
            }
            assert_eq!(joined, text);
            let s = std::str::from_utf8(&text).unwrap();
            assert_eq!(split_str(&c, s, size).concat(), s);
        }
    }
}

#[test]
fn plan_is_linear_without_newlines() {
    let c = cutter(&["<|endoftext|>"]);
    // Spaces but no newline: cuts at spaces, every chunk about chunk_size.
    let text = "the quick brown fox. ".repeat(50_000).into_bytes();
    let fc = FileChunks::plan("mem", text.as_slice(), text.len() as u64, 4096, &c).unwrap();
    assert!(fc.cuts.len() > text.len() / 4096 - 2);
    assert!(fc.ranges().all(|r| r.end - r.start < 4096 + 64));
    // No whitespace at all: one chunk, found by one linear search.
    let text = "x".repeat(3_000_000).into_bytes();
    let t = std::time::Instant::now();
    let fc = FileChunks::plan("mem", text.as_slice(), text.len() as u64, 1000, &c).unwrap();
    assert_eq!(fc.cuts, vec![0, text.len() as u64]);
    // Linear: ~0.1 s in a debug build. Quadratic (each of the 3000 nominal boundaries searching
    // to the end) would be ~4.5e9 byte steps, minutes; the bound is loose for loaded machines.
    assert!(t.elapsed().as_secs_f64() < 20.0, "{:?}", t.elapsed());
}

#[test]
fn utf8_policy() {
    let bad = b"ab\xffcd";
    match decode(bad, Utf8Mode::Strict, "f.txt", 100) {
        Err(Error::Utf8 { context, offset }) => {
            assert_eq!(context, "f.txt");
            assert_eq!(offset, 102);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        decode(bad, Utf8Mode::Replace, "f", 0).unwrap(),
        "ab\u{FFFD}cd"
    );
    assert!(Utf8Mode::parse("ignore").is_err());
}

/// An endless input without a cut (`/dev/zero`) stops at the limit with a clear error.
#[test]
fn no_cut_input_stops_at_the_limit() {
    let zeros = std::io::repeat(0u8);
    let mut r = ChunkReader::new(zeros, cutter(&[]), 1000, "/dev/zero").with_max_uncut(100_000);
    let err = r.next_chunk().unwrap_err().to_string();
    assert!(
        err.contains("/dev/zero") && err.contains("no place to cut"),
        "{err}"
    );
    assert!(r.buf.capacity() < 1 << 20, "grew to {}", r.buf.capacity());
}

/// A huge chunk size on a small input allocates what the input holds, not chunk_size.
#[test]
fn buffers_grow_with_need() {
    let text = b"hello world\n".repeat(10);
    let mut r = ChunkReader::new(text.as_slice(), cutter(&[]), MAX_CHUNK_SIZE, "small");
    let ch = r.next_chunk().unwrap().unwrap();
    assert_eq!(ch.data, text);
    assert!(
        ch.data.capacity() <= 2 * READ_BLOCK,
        "{}",
        ch.data.capacity()
    );
    assert!(check_chunk_size(MAX_CHUNK_SIZE + 1).is_err());
    assert_eq!(check_chunk_size(0).unwrap(), DEFAULT_CHUNK_SIZE);
}

#[test]
fn changed_size_is_reported() {
    let text = b"hello world\n".repeat(100);
    for expected in [10u64, 5000] {
        let mut r =
            ChunkReader::new(text.as_slice(), cutter(&[]), 64, "f.txt").expect_len(expected);
        let err = loop {
            match r.next_chunk() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("no error for expected length {expected}"),
                Err(e) => break e.to_string(),
            }
        };
        assert!(
            err.contains("f.txt") && err.contains("changed while"),
            "{err}"
        );
    }
    // Positional reads: the planned length no longer matches.
    let fc = FileChunks::plan("g.txt", text.as_slice(), 2000, 64, &cutter(&[]));
    assert!(
        fc.is_err() || {
            let fc = fc.unwrap();
            let mut buf = Vec::new();
            let failed = fc
                .ranges()
                .any(|r| fc.read(text.as_slice(), r, &mut buf).is_err());
            failed
        }
    );
}
