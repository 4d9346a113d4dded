use super::*;
use crate::pretokenize::GPT2_PATTERN;
use crate::tokenizer::Allowed;

/// A small tokenizer: bytes + a few merges, `<|endoftext|>` special.
fn tokenizer() -> Tokenizer {
    let mut vocab: Vec<(u32, Vec<u8>)> = (0..256u32).map(|b| (b, vec![b as u8])).collect();
    let merges: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (b" ".to_vec(), b"t".to_vec()),
        (b"h".to_vec(), b"e".to_vec()),
        (b" t".to_vec(), b"he".to_vec()),
        (b" ".to_vec(), b" ".to_vec()),
        (b"\xc3".to_vec(), b"\xa9".to_vec()),
    ];
    for (i, (l, r)) in merges.iter().enumerate() {
        vocab.push((256 + i as u32, [&l[..], &r[..]].concat()));
    }
    let specials = vec!["<|endoftext|>".to_string()];
    Tokenizer::from_vocab_merges(vocab, merges, &specials, GPT2_PATTERN).unwrap()
}

fn text(n: usize, seed: u64) -> String {
    let parts = [
        "the",
        " the",
        "  ",
        "\n",
        "é",
        "<|endoftext|>",
        ".",
        " x",
        "\n\n",
        "12",
        "   \n",
        "日本",
    ];
    let mut s = seed;
    let mut out = String::new();
    while out.len() < n {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push_str(parts[(s >> 33) as usize % parts.len()]);
    }
    out
}

fn read_npy(path: &Path) -> (Dtype, Vec<u32>) {
    let data = std::fs::read(path).unwrap();
    assert_eq!(&data[..8], b"\x93NUMPY\x01\x00");
    let hlen = u16::from_le_bytes([data[8], data[9]]) as usize;
    let header = std::str::from_utf8(&data[10..10 + hlen]).unwrap();
    let dtype = if header.contains("<u2") {
        Dtype::U16
    } else {
        Dtype::U32
    };
    let body = &data[10 + hlen..];
    let ids: Vec<u32> = match dtype {
        Dtype::U16 => body
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]) as u32)
            .collect(),
        Dtype::U32 => body
            .chunks(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    };
    assert!(
        header.contains(&format!("'shape': ({},)", ids.len())),
        "{header}"
    );
    (dtype, ids)
}

#[test]
fn chunked_equals_whole_for_many_chunk_sizes() {
    let tok = tokenizer();
    let dir = std::env::temp_dir().join(format!("fastbpe-ef-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for seed in 0..5 {
        let t = text(20_000, seed);
        let input = dir.join(format!("in{seed}.txt"));
        std::fs::write(&input, &t).unwrap();
        let want = tok.encode(&t, Allowed::All).unwrap();
        for chunk_size in [1usize, 3, 17, 1000, 1 << 20] {
            let out = dir.join(format!("out{seed}_{chunk_size}.npy"));
            let opts = EncodeFileOptions {
                chunk_size,
                threads: Some(2),
                in_flight: 3,
                ..Default::default()
            };
            let st = encode_files(
                &tok,
                std::slice::from_ref(&input),
                &out,
                &opts,
                &Monitor::silent(),
            )
            .unwrap();
            let (dtype, ids) = read_npy(&out);
            assert_eq!(dtype, Dtype::U16);
            assert_eq!(ids, want, "seed {seed} chunk {chunk_size}");
            assert_eq!(st.tokens as usize, want.len());
            assert_eq!(st.bytes as usize, t.len());
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_leave_no_output_and_name_the_offset() {
    let tok = tokenizer();
    let dir = std::env::temp_dir().join(format!("fastbpe-ef-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("bad.txt");
    let mut data = text(50_000, 1).into_bytes();
    data[30_001] = 0xff;
    data[40_001] = 0xff;
    std::fs::write(&input, &data).unwrap();
    let out = dir.join("out.bin");
    let opts = EncodeFileOptions {
        chunk_size: 100,
        threads: Some(2),
        ..Default::default()
    };
    let err = encode_files(
        &tok,
        std::slice::from_ref(&input),
        &out,
        &opts,
        &Monitor::silent(),
    )
    .unwrap_err();
    match err {
        Error::Utf8 { offset, .. } => assert!(offset <= 30_001 && offset > 29_990, "{offset}"),
        other => panic!("{other:?}"),
    }
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "temporary file left behind"
    );
    // Cancelled before starting: no output either.
    let m = Monitor::silent();
    m.cancel();
    let good = dir.join("good.txt");
    std::fs::write(&good, "hello\n").unwrap();
    let err = encode_files(&tok, &[good], &out, &opts, &m).unwrap_err();
    assert!(matches!(err, Error::Interrupted));
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn empty_input_separator_and_bin() {
    let tok = tokenizer();
    let dir = std::env::temp_dir().join(format!("fastbpe-ef-sep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let out = dir.join("e.npy");
    encode_files(
        &tok,
        std::slice::from_ref(&empty),
        &out,
        &Default::default(),
        &Monitor::silent(),
    )
    .unwrap();
    assert_eq!(read_npy(&out).1, Vec::<u32>::new());

    let a = dir.join("a.txt");
    std::fs::write(&a, "the").unwrap();
    let out = dir.join("s.bin");
    let opts = EncodeFileOptions {
        separator: Some(261),
        dtype: Some(Dtype::U32),
        ..Default::default()
    };
    let st = encode_files(
        &tok,
        &[a.clone(), empty, a],
        &out,
        &opts,
        &Monitor::silent(),
    )
    .unwrap();
    let raw = std::fs::read(&out).unwrap();
    let ids: Vec<u32> = raw
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let the = tok.encode("the", Allowed::None).unwrap();
    let mut want = the.clone();
    want.extend([261, 261]);
    want.extend(the);
    assert_eq!(ids, want);
    assert_eq!(st.files, 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments() {
    let tok = tokenizer();
    let m = Monitor::silent();
    let o = Path::new("/nonexistent-dir/x.npy");
    let missing = PathBuf::from("/nonexistent-file.txt");
    assert!(matches!(
        encode_files(&tok, &[missing], o, &Default::default(), &m),
        Err(Error::Io { .. })
    ));
    assert!(encode_files(&tok, &[], o, &Default::default(), &m).is_err());
    assert!(TokenFormat::from_path(Path::new("x.txt")).is_err());
    let opts = EncodeFileOptions {
        separator: Some(99_999),
        ..Default::default()
    };
    assert!(encode_files(&tok, &[PathBuf::from("x")], o, &opts, &m).is_err());
}

#[test]
fn crlf_and_newline_free_inputs_are_still_chunked() {
    let tok = tokenizer();
    let dir = std::env::temp_dir().join(format!("fastbpe-ef-crlf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let texts = [
        "the line é\r\n".repeat(800),
        "the  word, ".repeat(800),
        "x<|endoftext|>\r\n the\r\n\r\n".repeat(400),
    ];
    for (i, t) in texts.iter().enumerate() {
        let input = dir.join(format!("in{i}.txt"));
        std::fs::write(&input, t).unwrap();
        let want = tok.encode(t, Allowed::All).unwrap();
        for chunk_size in [1usize, 7, 100, 1000] {
            let out = dir.join(format!("out{i}.npy"));
            let opts = EncodeFileOptions {
                chunk_size,
                threads: Some(2),
                ..Default::default()
            };
            let st = encode_files(
                &tok,
                std::slice::from_ref(&input),
                &out,
                &opts,
                &Monitor::silent(),
            )
            .unwrap();
            assert_eq!(read_npy(&out).1, want, "text {i} chunk {chunk_size}");
            assert!(
                st.chunks as usize >= t.len() / (2 * chunk_size + 64),
                "{}",
                st.chunks
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
