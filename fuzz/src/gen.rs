//! Deterministic structured random inputs for the fallback driver (`tests/random.rs`), used when
//! libFuzzer is not available. Without coverage feedback it leans on structure instead: inputs are
//! stitched from fragments that matter to the code under test (contractions, whitespace runs,
//! letters/numbers/marks from many scripts, astral characters, special tokens, loader syntax),
//! plus raw random bytes, plus mutations of the saved regression cases.

/// xorshift64*: small, seedable, good enough for input generation.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    #[allow(clippy::should_implement_trait)] // a generator, not an Iterator (never ends)
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const TEXT_FRAGMENTS: &[&str] = &[
    " ",
    "  ",
    "   ",
    "\n",
    "\n\n",
    "\t",
    "\r\n",
    " \n",
    "\u{a0}",
    "\u{3000}",
    "\u{2028}",
    "\u{85}",
    "\u{b}",
    "\u{c}",
    "'s",
    "'t",
    "'re",
    "'ve",
    "'m",
    "'ll",
    "'d",
    "'S",
    "'",
    "''",
    "’s",
    "a",
    "the",
    " the",
    "Hello",
    "ÉCOLE",
    "é",
    "e\u{301}",
    "\u{301}",
    "\u{200d}",
    "\u{fe0f}",
    "日本語",
    "한국어",
    "Ελληνικά",
    "русский",
    "עברית",
    "العربية",
    "हिन्दी",
    "ไทย",
    "1",
    "123",
    "١٢٣",
    "²",
    "Ⅻ",
    "½",
    "①",
    "3.14",
    "-",
    "!",
    "?!",
    "...",
    "^",
    "$",
    "€",
    "😀",
    "👍🏽",
    "🇫🇷",
    "\u{10ffff}",
    "\u{e000}",
    "\u{fffd}",
    "\u{1d400}",
    "𝟘",
    "\u{0}",
    "\u{1}",
    "\u{7f}",
    "<|endoftext|>",
    "<|endoftext",
    "|>",
    "<|fim|>",
    "aaaa",
    "abab",
    "ba",
    "123",
    "th",
    "er",
    "her",
];

const LOADER_FRAGMENTS: &[&str] = &[
    "IQ== 0\n",
    "Ig== 1\n",
    "YQ== 97\n",
    "4294967295",
    "4294967296",
    "-1",
    " ",
    "\n",
    "\r\n",
    "==",
    "!!!",
    "\u{0}",
    "{",
    "}",
    "\"",
    ":",
    ",",
    "\"a\": 5",
    "\"Ġ\": 4294967295",
    "\"\\u0000\": 1",
    "#version: 0.2\n",
    "Ġ t\n",
    "a b\n",
    "a b c\n",
    "Ġthe",
    "[1,2]",
    "null",
    "1e3",
    "0.5",
    "18446744073709551616",
];

fn raw_bytes(rng: &mut Rng, max: usize) -> Vec<u8> {
    let n = rng.below(max + 1);
    (0..n).map(|_| rng.next() as u8).collect()
}

fn fragments(rng: &mut Rng, frags: &[&str], max: usize) -> Vec<u8> {
    let n = rng.below(max + 1);
    let mut out = Vec::new();
    for _ in 0..n {
        match rng.below(10) {
            0 => out.push(rng.next() as u8),
            1 => {
                // a long run: the heap encoder and possessive runs
                let f = rng.pick(frags).as_bytes();
                for _ in 0..rng.below(300) {
                    out.extend_from_slice(f);
                }
            }
            _ => out.extend_from_slice(rng.pick(frags).as_bytes()),
        }
    }
    out
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        let i = if out.is_empty() {
            0
        } else {
            rng.below(out.len() + 1)
        };
        match rng.below(4) {
            0 if i < out.len() => out[i] = rng.next() as u8,
            1 if i < out.len() => {
                out.remove(i);
            }
            2 => out.insert(i, rng.next() as u8),
            _ => out.truncate(i),
        }
    }
    out
}

/// One input for target `name`, drawn from `rng`; `seeds` are saved cases to mutate.
pub fn input(name: &str, rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let choice = rng.below(10);
    if choice == 0 && !seeds.is_empty() {
        let s = rng.pick(seeds).clone();
        return mutate(rng, &s);
    }
    let mode = rng.next() as u8;
    let body = if choice < 3 {
        raw_bytes(rng, 256)
    } else if name == "loaders" {
        fragments(rng, LOADER_FRAGMENTS, 40)
    } else {
        fragments(rng, TEXT_FRAGMENTS, 40)
    };
    match name {
        "pretokenize" | "pretokenize_cl100k" | "pretokenize_o200k" => body,
        // Pattern, special-token set and chunk size, then text fragments and split points.
        "cuts" => {
            let mut v = vec![mode, rng.next() as u8, rng.next() as u8];
            v.extend(raw_bytes(rng, 200));
            v
        }
        _ => {
            let mut v = vec![mode];
            v.extend(body);
            v
        }
    }
}
