"""Conversions: tiktoken, vocab.json + merges.txt, HF tokenizer.json: each gives the same ids."""

from __future__ import annotations

import json
import os

import fastbpe
import pytest
from fastbpe import convert
from fastbpe.io import load, save
from hypothesis import given, settings
from hypothesis import strategies as st

EOT = "<|endoftext|>"


@pytest.fixture(scope="module")
def gpt2_from_ranks(gpt2_files) -> fastbpe.Tokenizer:
    """GPT-2 loaded from r50k_base.tiktoken: ranks, no merge list."""
    return fastbpe.Tokenizer.from_tiktoken_file(
        gpt2_files["r50k_base.tiktoken"], {EOT: 50256}, name="gpt2"
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory, varied_text) -> fastbpe.Tokenizer:
    """A fastbpe-trained tokenizer (special tokens get the first ids)."""
    training = pytest.importorskip("fastbpe.training")
    d = tmp_path_factory.mktemp("trained")
    src = d / "c.txt"
    src.write_text(varied_text[:300_000], encoding="utf-8")
    return training.train([str(src)], 1500, [EOT, "<|pad|>"])


@pytest.fixture(scope="module")
def sample(varied_text) -> str:
    return varied_text[1_000_000:1_150_000]


def test_merges_from_ranks_reproduces_vocab_bpe(gpt2_from_ranks, gpt2_files):
    merges = convert.merges_from_ranks(gpt2_from_ranks)
    lines = gpt2_files["vocab.bpe"].read_text(encoding="utf-8").splitlines()[1:]
    m = convert.bytes_to_unicode()
    got = ["".join(m[b] for b in a) + " " + "".join(m[b] for b in b_) for a, b_ in merges]
    assert got == [x for x in lines if x]
    assert gpt2_from_ranks.merges == merges  # Tokenizer.merges falls back to it


def test_to_tiktoken_gpt2(gpt2_from_ranks, gpt2_tiktoken, sample):
    enc = convert.to_tiktoken(gpt2_from_ranks)
    assert enc.encode(sample, allowed_special="all") == gpt2_tiktoken.encode(
        sample, allowed_special="all"
    )
    assert enc.n_vocab == 50257 and enc.eot_token == 50256


def test_to_tiktoken_trained(trained, sample):
    enc = convert.to_tiktoken(trained, name="mine")
    assert enc.name == "mine"
    assert enc.encode(sample, allowed_special="all") == trained.encode(sample)
    assert enc.decode(trained.encode(sample)) == sample


def test_tiktoken_file_round_trip(tmp_path, trained, gpt2_from_ranks, gpt2_files, sample):
    p = tmp_path / "gpt2.tiktoken"
    save(gpt2_from_ranks, p)  # .tiktoken name -> tiktoken format
    assert p.read_bytes() == gpt2_files["r50k_base.tiktoken"].read_bytes()
    p2 = tmp_path / "mine.tiktoken"
    convert.save_tiktoken(trained, p2)
    back = convert.load_tiktoken(p2, trained.special_tokens)
    assert back.encode(sample) == trained.encode(sample)


def test_vocab_merges_round_trip(tmp_path, gpt2_from_ranks, trained, gpt2_files, sample):
    v, m = convert.save_vocab_merges(gpt2_from_ranks, tmp_path / "gpt2")
    assert json.loads(v.read_text(encoding="utf-8")) == json.loads(
        gpt2_files["encoder.json"].read_text(encoding="utf-8")
    )
    assert (
        m.read_text(encoding="utf-8").split("\n")[1:]
        == gpt2_files["vocab.bpe"].read_text(encoding="utf-8").split("\n")[1:]
    )
    v, m = convert.save_vocab_merges(trained, tmp_path / "mine")
    back = fastbpe.Tokenizer.from_files(v, m, list(trained.special_tokens))
    assert back.encode(sample) == trained.encode(sample)
    assert back.special_tokens == trained.special_tokens


def _hf_ids(path, text: str) -> list[int]:
    tokenizers = pytest.importorskip("tokenizers")
    return tokenizers.Tokenizer.from_file(str(path)).encode(text).ids


def test_hf_gpt2(tmp_path, gpt2_fastbpe, gpt2_tiktoken, varied_text):
    p = tmp_path / "tokenizer.json"
    convert.save_hf(gpt2_fastbpe, p)
    text = varied_text[:400_000]
    want = gpt2_tiktoken.encode(text, allowed_special="all")
    assert _hf_ids(p, text) == want
    back = load(p)
    assert back.encode(text) == want


def test_hf_trained_and_custom_pattern(tmp_path, trained, sample):
    p = tmp_path / "trained.json"
    convert.save_hf(trained, p)
    assert _hf_ids(p, sample) == trained.encode(sample)
    assert load(p).encode(sample) == trained.encode(sample)
    # A non-GPT-2 pattern goes through a Split pre-tokenizer.
    pattern = (
        r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}"
        r"| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"
    )
    custom = fastbpe.Tokenizer(
        trained.vocab, trained.merges, list(trained.special_tokens), pattern=pattern
    )
    p2 = tmp_path / "custom.json"
    convert.save_hf(custom, p2)
    doc = json.loads(p2.read_text(encoding="utf-8"))
    assert doc["pre_tokenizer"]["type"] == "Sequence"
    assert _hf_ids(p2, sample) == custom.encode(sample)
    assert load(p2).pattern == pattern


def test_hf_special_tokens_are_added_tokens(tmp_path, trained):
    p = tmp_path / "t.json"
    convert.save_hf(trained, p)
    text = f"a{EOT}b<|pad|>{EOT}"
    assert _hf_ids(p, text) == trained.encode(text)
    tokenizers = pytest.importorskip("tokenizers")
    hf = tokenizers.Tokenizer.from_file(str(p))
    assert hf.decode(trained.encode("hello there"), skip_special_tokens=False) == "hello there"


def test_transformers_accepts_tokenizer_json(tmp_path, gpt2_fastbpe, sample):
    import transformers  # in the test extra: a missing install is a failure, not a skip

    p = tmp_path / "tokenizer.json"
    convert.save_hf(gpt2_fastbpe, p)
    hf = transformers.PreTrainedTokenizerFast(tokenizer_file=str(p), eos_token=EOT)
    assert hf(sample)["input_ids"] == gpt2_fastbpe.encode(sample, allowed_special="all")
    assert hf.decode(hf(sample)["input_ids"]) == sample


def test_tiktoken_refuses_what_it_cannot_express():
    # Ids that do not increase with merge order ("the" merges after "th" but has a smaller id).
    vocab = {b: bytes([b]) for b in range(256)}
    vocab.update({256: b"the", 257: b"th"})
    tok = fastbpe.Tokenizer(vocab, [(b"t", b"h"), (b"th", b"e")])
    with pytest.raises(ValueError, match="increase"):
        convert.to_tiktoken(tok)
    # The other formats still work for it.
    assert convert.hf_tokenizer_json(tok)["model"]["vocab"]["the"] == 256


def test_load_hf_rejects_other_models(tmp_path):
    p = tmp_path / "wp.json"
    p.write_text(json.dumps({"model": {"type": "WordPiece", "vocab": {}}}))
    with pytest.raises(ValueError, match="BPE"):
        load(p)
    p.write_text(
        json.dumps(
            {
                "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                "pre_tokenizer": {"type": "Whitespace"},
            }
        )
    )
    with pytest.raises(ValueError, match="pre_tokenizer"):
        load(p)
    assert not [x for x in os.listdir(tmp_path) if x.endswith(".tmp")]


def test_hf_merges_follow_fastbpe_rule_not_merge_list(tmp_path):
    """fastbpe merges (a, bc) -> abc although the merge list only has (ab, c); so must HF."""
    vocab = {b: bytes([b]) for b in range(256)}
    vocab.update({256: b"bc", 257: b"ab", 258: b"abc"})
    tok = fastbpe.Tokenizer(vocab, [(b"b", b"c"), (b"a", b"b"), (b"ab", b"c")])
    assert tok.encode("abcd") == [258, ord("d")]
    p = tmp_path / "t.json"
    convert.save_hf(tok, p)
    assert _hf_ids(p, "abcd xabcd") == tok.encode("abcd xabcd")


# ----------------------------------------------------------------------------- exact interop


def _sha256(p) -> str:
    import hashlib

    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.parametrize("source", ["ranks", "merges"])
def test_gpt2_vocab_merges_are_byte_identical(tmp_path, gpt2_from_ranks, gpt2_fastbpe, gpt2_files,
                                              source):
    """vocab.json == GPT-2's encoder.json and merges.txt == vocab.bpe, byte for byte (tiktoken's
    pinned SHA-256 accepts them), whether GPT-2 came from ranks or from its own files."""
    tok = gpt2_from_ranks if source == "ranks" else gpt2_fastbpe
    v, m = convert.save_vocab_merges(tok, tmp_path / "gpt2")
    assert _sha256(v) == _sha256(gpt2_files["encoder.json"])
    assert _sha256(m) == _sha256(gpt2_files["vocab.bpe"])


def test_hf_export_holds_the_real_merge_list(tmp_path, gpt2_from_ranks, gpt2_files):
    """50,000 merges, GPT-2's own, in order (recovered from the ranks), not every split."""
    p = tmp_path / "tokenizer.json"
    convert.save_hf(gpt2_from_ranks, p)
    merges = json.loads(p.read_text(encoding="utf-8"))["model"]["merges"]
    lines = gpt2_files["vocab.bpe"].read_text(encoding="utf-8").splitlines()[1:]
    assert len(merges) == 50_000
    assert [" ".join(m) for m in merges] == lines


def test_transformers_from_pretrained_gets_special_tokens(tmp_path, gpt2_fastbpe, trained, sample):
    import transformers

    for tok, d in ((gpt2_fastbpe, tmp_path / "gpt2"), (trained, tmp_path / "trained")):
        d.mkdir()
        save(tok, d / "tokenizer.json")  # the name says HF; the configs go beside it
        assert {"tokenizer_config.json", "special_tokens_map.json"} <= set(os.listdir(d))
        for cls in (transformers.AutoTokenizer, transformers.PreTrainedTokenizerFast):
            hf = cls.from_pretrained(str(d))
            assert hf.eos_token == EOT and hf.eos_token_id == tok.special_tokens[EOT]
            assert hf.bos_token == EOT and hf.unk_token == EOT
            assert hf(sample)["input_ids"] == tok.encode(sample, allowed_special="all")
            assert hf.decode(hf(sample)["input_ids"]) == sample
    hf = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "trained"))
    assert hf.pad_token == "<|pad|>" and hf.pad_token_id == trained.special_tokens["<|pad|>"]


def test_format_from_the_name(tmp_path, trained, sample):
    """tokenizer.json -> HF, *.tiktoken -> tiktoken, a directory -> vocab.json + merges.txt,
    else fastbpe's own (issue 14: `convert -o tokenizer.json` used to write fastbpe's format)."""
    cases = {
        "tokenizer.json": "hf",
        "x.tiktoken": "tiktoken",
        "some/dir/": "vocab-merges",
        "tok.json": "fastbpe",
        "tok": "fastbpe",
    }
    for name, fmt in cases.items():
        assert fastbpe.save_format_for(name) == fmt, name
    (tmp_path / "existing").mkdir()
    assert fastbpe.save_format_for(tmp_path / "existing") == "vocab-merges"
    save(trained, tmp_path / "tokenizer.json")
    assert _hf_ids(tmp_path / "tokenizer.json", sample) == trained.encode(sample)
    save(trained, tmp_path / "existing")
    assert {"vocab.json", "merges.txt"} <= set(os.listdir(tmp_path / "existing"))


@pytest.mark.parametrize("fmt", ["fastbpe", "hf", "tiktoken"])
def test_saving_over_a_symlink_writes_its_target(tmp_path, trained, sample, fmt):
    real = tmp_path / "real" / "tok.file"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link.file"
    link.symlink_to(real)
    save(trained, link, format=fmt)
    assert link.is_symlink() and os.readlink(link) == str(real)
    back = load(real, special_tokens=trained.special_tokens) if fmt == "tiktoken" else load(real)
    assert back.encode(sample) == trained.encode(sample)
    assert set(os.listdir(tmp_path)) == {"real", "link.file"}  # no temporary file left
    assert os.listdir(real.parent) == ["tok.file"]
    # A dangling link: the file it names is created.
    real.unlink()
    save(trained, link, format=fmt)
    assert link.is_symlink() and real.is_file()


def _files(d) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


@pytest.mark.parametrize("fmt,blocker", [("vocab-merges", "merges.txt"),
                                         ("vocab-merges", "vocab.json"),
                                         ("hf", "special_tokens_map.json"),
                                         ("hf", "tokenizer_config.json")])
def test_multi_file_save_is_all_or_nothing(tmp_path, trained, gpt2_fastbpe, fmt, blocker):
    """A failure while replacing the second (or first) file of a save leaves the old files as they
    were: here a directory stands where one of the files goes (the rename over it fails). The
    fault at every single step is injected in rust/src/formats/commit.rs's unit test."""
    d = tmp_path / "out"
    target = d if fmt == "vocab-merges" else d / "tokenizer.json"
    d.mkdir()
    save(gpt2_fastbpe, target, format=fmt)  # the old tokenizer
    (d / blocker).unlink()
    (d / blocker).mkdir()
    (d / blocker / "keep").write_bytes(b"x")
    before = _files(d)
    with pytest.raises(OSError) as info:
        save(trained, target, format=fmt)
    assert blocker in str(info.value)
    assert _files(d) == before  # nothing replaced, no temporary or backup file left


# ----------------------------------------------------------------------------- duplicates


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_duplicates_are_refused_in_every_format(tmp_path_factory, data):
    """The same token (or JSON key) twice: tiktoken keeps the last line, json keeps the last key,
    so a file with a repeat means different tokenizers to different readers. fastbpe refuses it,
    naming the file."""
    d = tmp_path_factory.mktemp("dup")
    ranks = {bytes([b]): b for b in range(256)} | {b"ab": 256, b"abc": 257, b" t": 258}
    tok = fastbpe.Tokenizer.from_ranks(ranks, {EOT: 259})
    # .tiktoken: repeat one line (same bytes, another rank; or exactly the same line).
    p = d / "t.tiktoken"
    save(tok, p)
    lines = p.read_bytes().splitlines(keepends=True)
    i = data.draw(st.integers(0, len(lines) - 1))
    same_rank = data.draw(st.booleans())
    extra = lines[i] if same_rank else lines[i].split(b" ")[0] + b" 999\n"
    p.write_bytes(b"".join(lines) + extra)
    with pytest.raises(ValueError, match=r"t\.tiktoken.*(also on line)"):
        fastbpe.Tokenizer.from_tiktoken_file(p)
    # fastbpe's own file and vocab.json: one key written twice.
    native = d / "tok.json"
    save(tok, native)
    text = native.read_text(encoding="utf-8")
    key = data.draw(st.sampled_from(['"0"', '"97"', '"256"', '"258"']))
    native.write_text(text.replace(f"    {key}: ", f"    {key}: \"AA==\",\n    {key}: ", 1))
    with pytest.raises(ValueError, match=r"tok\.json.*twice"):
        load(native)
    vm = d / "vm"
    save(tok, vm, format="vocab-merges")
    vocab = json.loads((vm / "vocab.json").read_text(encoding="utf-8"))
    k = data.draw(st.sampled_from(sorted(vocab)))
    raw = (vm / "vocab.json").read_text(encoding="utf-8")
    (vm / "vocab.json").write_text(raw[:-1] + f", {json.dumps(k)}: {vocab[k]}}}", encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab\.json.*twice"):
        load(vm)


def test_cli_convert_takes_the_format_from_the_name(tmp_path, trained, sample):
    """`fastbpe convert -t x.json -o tokenizer.json` writes HF's format (it used to write
    fastbpe's, which HF then failed to read); `-o x.tiktoken` tiktoken's; `-o dir/` the pair."""
    from fastbpe.cli import main

    src = tmp_path / "x.json"
    save(trained, src)
    out = tmp_path / "hf"
    out.mkdir()
    assert main(["convert", "-t", str(src), "-o", str(out / "tokenizer.json"), "-q"]) == 0
    assert _hf_ids(out / "tokenizer.json", sample) == trained.encode(sample)
    assert (out / "tokenizer_config.json").is_file()
    assert main(["convert", "-t", str(src), "-o", str(tmp_path / "t.tiktoken"), "-q"]) == 0
    back = load(tmp_path / "t.tiktoken", special_tokens=trained.special_tokens)
    assert back.encode(sample) == trained.encode(sample)
    assert main(["convert", "-t", str(src), "-o", str(tmp_path / "vm") + "/", "-q"]) == 0
    assert load(tmp_path / "vm").encode(sample) == trained.encode(sample)


DISK_FULL_SCRIPT = r"""
import resource, sys
import fastbpe
tok = fastbpe.get_encoding("gpt2")
limit = int(sys.argv[3])
# CPython ignores SIGXFSZ, so a write past the limit fails with EFBIG, as on a full disk.
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    fastbpe.save(tok, sys.argv[1], format=sys.argv[2])
except OSError as e:
    print("OSError", e)
"""


@pytest.mark.parametrize("fmt", ["vocab-merges", "hf"])
def test_multi_file_save_on_a_full_disk_keeps_the_old_files(tmp_path, trained, fmt):
    """GPT-2's files (about 1 MB, 0.5 MB; HF 2 MB) on a disk that takes 600 KB per file: some fit,
    one does not; the old tokenizer's files stay as they were."""
    import subprocess
    import sys

    d = tmp_path / "out"
    target = d if fmt == "vocab-merges" else d / "tokenizer.json"
    d.mkdir()
    save(trained, target, format=fmt)
    before = _files(d)
    r = subprocess.run(
        [sys.executable, "-c", DISK_FULL_SCRIPT, str(target), fmt, str(600_000)],
        capture_output=True, text=True, timeout=300,
    )
    assert "OSError" in r.stdout, r.stdout + r.stderr
    assert _files(d) == before


def _naive_split(token: bytes, ranks: dict[bytes, int]) -> tuple[bytes, bytes] | None:
    """Byte-pair merging `token`'s bytes alone (lowest rank, leftmost) until two parts remain."""
    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 2:
        found = [(ranks[a + b], i) for i, (a, b) in enumerate(zip(parts, parts[1:])) if a + b in ranks]
        if not found:
            return None
        _, i = min(found)
        parts[i : i + 2] = [parts[i] + parts[i + 1]]
    return (parts[0], parts[1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=2, max_size=12).map(lambda b: bytes(x % 3 + 97 for x in b)),
                max_size=30, unique=True))
def test_merges_from_ranks_equals_a_naive_loop(tokens):
    """The merge list recovered from ranks (rust/src/formats/merge_order.rs, a heap) equals the
    obvious quadratic loop on generated vocabularies over a 3-letter alphabet (ties, unreachable
    tokens, tokens ranked before their parts)."""
    ranks = {bytes([b]): b for b in range(256)}
    for t in tokens:
        ranks.setdefault(t, len(ranks))
    tok = fastbpe.Tokenizer.from_ranks(ranks)
    want = [_naive_split(t, ranks) for t, _ in sorted(ranks.items(), key=lambda kv: kv[1])
            if len(t) >= 2]
    if None in want:
        with pytest.raises(ValueError, match="no merge list"):
            convert.merges_from_ranks(tok)
    else:
        assert convert.merges_from_ranks(tok) == want


@pytest.mark.parametrize("fmt", ["vocab-merges", "hf"])
def test_failed_save_into_a_new_directory_leaves_no_directory(tmp_path, fmt):
    """The directory a save creates goes again when the save fails (disk full here)."""
    import subprocess
    import sys

    target = tmp_path / "new" / "deeper"
    r = subprocess.run(
        [sys.executable, "-c", DISK_FULL_SCRIPT, str(target) + "/", fmt, str(600_000)],
        capture_output=True, text=True, timeout=300,
    )
    assert "OSError" in r.stdout, r.stdout + r.stderr
    assert os.listdir(tmp_path) == []
