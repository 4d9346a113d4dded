"""Reading Hugging Face tokenizer.json strictly (issue 9 items 3, 4, 17).

* Generated variants of a valid file: each setting fastbpe implements (or that cannot change
  byte-level ids) loads, and its ids equal the real `tokenizers` library's on the same file; each
  setting that would change ids is refused with a ValueError naming the setting and the file.
* Generated malformed files (hypothesis mutating the JSON tree, cutting and corrupting bytes,
  nesting deeply, breaking UTF-8): every failure is a ValueError or OSError naming the file,
  never AttributeError, KeyError, TypeError, RecursionError or a panic.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastbpe
import pytest
import tokenizers
from fastbpe import convert
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EOT = "<|endoftext|>"
SAMPLE = (
    "Hello world, the quick brown fox's jumps. 123 4567 naïve café 日本語\n"
    "  spaces\tand tabs\r\n<|endoftext|>them theirs there's 'll 've\n\n  end"
    " x <|endoftext|>  y z<|endoftext|>w <|pad|> <|pad|>q a\x00\x01\x02b"
)

Doc = dict[str, Any]
Mod = Callable[[Doc], None]


@pytest.fixture(scope="module")
def base(tmp_path_factory, varied_text) -> tuple[fastbpe.Tokenizer, Doc, str]:
    """A trained tokenizer, its tokenizer.json document, and text to compare ids on."""
    tok = fastbpe.train(iter([varied_text[:150_000]]), 700, [EOT, "<|pad|>"])
    p = tmp_path_factory.mktemp("hf") / "tokenizer.json"
    tok.save(p, format="hf")
    return tok, json.loads(p.read_text(encoding="utf-8")), SAMPLE + varied_text[200_000:230_000]


def _set(*keys: str, value: Any) -> Mod:
    def mod(doc: Doc) -> None:
        d: Any = doc
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value

    return mod


def _merges_as_strings(doc: Doc) -> None:
    doc["model"]["merges"] = [" ".join(m) for m in doc["model"]["merges"]]


# Settings that give the same ids (tokenizers agrees, checked below).
ACCEPTED: dict[str, Mod] = {
    "ignore_merges false": _set("model", "ignore_merges", value=False),
    "ignore_merges absent": lambda d: d["model"].pop("ignore_merges"),
    "dropout 0": _set("model", "dropout", value=0.0),
    "empty subword prefix": _set("model", "continuing_subword_prefix", value=""),
    "empty word suffix": _set("model", "end_of_word_suffix", value=""),
    "unk_token": _set("model", "unk_token", value=EOT),
    "fuse_unk": _set("model", "fuse_unk", value=True),
    "byte_fallback": _set("model", "byte_fallback", value=True),
    "merges as strings": _merges_as_strings,
    "post_processor ByteLevel": _set(
        "post_processor",
        value={"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False},
    ),
    "trim_offsets false": _set("pre_tokenizer", "trim_offsets", value=False),
    "added tokens normalized": lambda d: [t.update(normalized=True) for t in d["added_tokens"]],
    "no version": lambda d: d.pop("version"),
    # A vocab entry no merge makes: with ignore_merges a whole word, else never produced.
    "whole-word token": lambda d: d["model"]["vocab"].update({"\u0100\u0101\u0102": 700}),
}
ADDS_TOKENS = {"whole-word token"}

def _split(behavior: str, *, invert: bool) -> Doc:
    """A regex Split then ByteLevel, the pre-tokenizer of a non-GPT-2 pattern."""
    split = {"type": "Split", "pattern": {"Regex": r"\s+"}, "behavior": behavior, "invert": invert}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}
    return {"type": "Sequence", "pretokenizers": [split, byte_level]}


# Settings that change ids: (modification, word the error must contain).
REFUSED: dict[str, tuple[Mod, str]] = {
    "dropout": (_set("model", "dropout", value=0.1), "dropout"),
    "subword prefix": (_set("model", "continuing_subword_prefix", value="##"), "prefix"),
    "word suffix": (_set("model", "end_of_word_suffix", value="</w>"), "end_of_word_suffix"),
    "normalizer NFC": (_set("normalizer", value={"type": "NFC"}), "normalizer"),
    "normalizer Lowercase": (_set("normalizer", value={"type": "Lowercase"}), "normalizer"),
    "prefix space": (_set("pre_tokenizer", "add_prefix_space", value=True), "add_prefix_space"),
    "Whitespace": (_set("pre_tokenizer", value={"type": "Whitespace"}), "pre_tokenizer"),
    "Metaspace": (
        _set("pre_tokenizer", value={"type": "Metaspace", "replacement": "▁"}),
        "pre_tokenizer",
    ),
    "ByteLevel without regex": (_set("pre_tokenizer", "use_regex", value=False), "pre_tokenizer"),
    "split inverted": (_set("pre_tokenizer", value=_split("Isolated", invert=True)), "invert"),
    "split removed": (_set("pre_tokenizer", value=_split("Removed", invert=False)), "behavior"),
    "decoder WordPiece": (_set("decoder", value={"type": "WordPiece"}), "decoder"),
    "no decoder": (_set("decoder", value=None), "decoder"),
    "template": (
        _set(
            "post_processor",
            value={"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": EOT}}]},
        ),
        "post_processor",
    ),
    "truncation": (
        _set("truncation", value={"max_length": 8, "strategy": "LongestFirst", "stride": 0}),
        "truncation",
    ),
    "padding": (_set("padding", value={"strategy": "BatchLongest"}), "padding"),
    "lstrip": (lambda d: d["added_tokens"][0].update(lstrip=True), "lstrip"),
    "rstrip": (lambda d: d["added_tokens"][0].update(rstrip=True), "rstrip"),
    "single_word": (lambda d: d["added_tokens"][0].update(single_word=True), "single_word"),
    "not special": (lambda d: d["added_tokens"][0].update(special=False), "special"),
    "unknown model setting": (_set("model", "some_new_option", value=True), "some_new_option"),
    "unknown top-level setting": (_set("extra", value={}), "extra"),
    "WordPiece": (_set("model", "type", value="WordPiece"), "BPE"),
    "merges out of rank order": (
        lambda d: d["model"]["merges"].reverse(),
        "merge",
    ),
}


def _write(tmp: Path, doc: Doc) -> Path:
    p = tmp / "variant.json"
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return p


def _tokenizers_ids(p: Path, text: str) -> list[int] | None:
    try:
        return tokenizers.Tokenizer.from_file(str(p)).encode(text).ids
    except BaseException:  # noqa: BLE001 - it may refuse, or panic (PanicException)
        return None


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    accepted=st.sets(st.sampled_from(sorted(ACCEPTED)), max_size=4),
    refused=st.one_of(st.none(), st.sampled_from(sorted(REFUSED))),
)
def test_generated_variants(tmp_path, base, accepted, refused):
    tok, doc, text = base
    variant = copy.deepcopy(doc)
    for name in sorted(accepted):
        ACCEPTED[name](variant)
    if refused is not None:
        REFUSED[refused][0](variant)
    p = _write(tmp_path, variant)
    if refused is not None:
        with pytest.raises(ValueError) as info:
            fastbpe.load(p)
        msg = str(info.value)
        assert p.name in msg and REFUSED[refused][1] in msg, msg
        return
    loaded = fastbpe.load(p)
    want = _tokenizers_ids(p, text)
    assert want is not None, f"tokenizers refuses a variant fastbpe accepts: {sorted(accepted)}"
    assert loaded.encode(text) == want
    if not accepted & ADDS_TOKENS:
        assert want == tok.encode(text)


def test_every_refused_setting_changes_what_tokenizers_does(tmp_path, base):
    """The refusals are not arbitrary: for each one that tokenizers itself loads, its ids (or its
    decoding) differ from the unmodified file's somewhere in the sample."""
    tok, doc, text = base
    want = tok.encode(text)
    for name, (mod, _) in REFUSED.items():
        variant = copy.deepcopy(doc)
        mod(variant)
        p = _write(tmp_path, variant)
        got = _tokenizers_ids(p, text)
        if got is None or name in ("truncation", "padding", "unknown top-level setting",
                                   "unknown model setting", "not special"):
            continue  # tokenizers refuses it, or it acts only on batches / future versions
        if name in ("decoder WordPiece", "no decoder"):
            hf = tokenizers.Tokenizer.from_file(str(p))
            assert hf.decode(want) != tok.decode(want), name
            continue
        assert got != want, f"{name}: tokenizers gives the same ids; need not be refused"


def test_merge_list_fastbpe_cannot_follow_is_refused(tmp_path):
    """(b, c), (a, b), (ab, c): tokenizers builds 'abc' only from (ab, c), which never forms since
    'bc' merges first; fastbpe's rank rule would build it from (a, bc). Refused, naming the merge."""
    vocab = {b: bytes([b]) for b in range(256)}
    vocab.update({256: b"bc", 257: b"ab", 258: b"abc"})
    tok = fastbpe.Tokenizer(vocab, [(b"b", b"c"), (b"a", b"b"), (b"ab", b"c")])
    p = tmp_path / "t.json"
    tok.save(p, format="hf")
    doc = json.loads(p.read_text(encoding="utf-8"))
    assert ["a", "bc"] in doc["model"]["merges"]  # the writer lists the split fastbpe makes
    assert _tokenizers_ids(p, "abcd") == tok.encode("abcd")
    doc["model"]["merges"] = [["b", "c"], ["a", "b"], ["ab", "c"]]
    p.write_text(json.dumps(doc), encoding="utf-8")
    assert _tokenizers_ids(p, "abcd") != tok.encode("abcd")
    with pytest.raises(ValueError, match=r"t\.json.*merge 2"):
        fastbpe.load(p)


def test_duplicate_keys_are_refused(tmp_path, base):
    """The same JSON key twice (Python's json and serde keep the last one silently)."""
    _, doc, _ = base
    text = json.dumps(doc)
    first_key = next(iter(doc["model"]["vocab"]))
    dup = text.replace('"vocab": {', f'"vocab": {{{json.dumps(first_key)}: 5, ', 1)
    p = tmp_path / "dup.json"
    p.write_text(dup, encoding="utf-8")
    with pytest.raises(ValueError, match=r"dup\.json.*twice"):
        fastbpe.load(p)


# ----------------------------------------------------------------------------- malformed files

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Paths to every node of a JSON tree, but only the first few entries of long containers."""
    out = [prefix]
    if isinstance(node, dict):
        for k in list(node)[:12]:
            out += _paths(node[k], (*prefix, k))
    elif isinstance(node, list):
        for i in range(min(len(node), 4)):
            out += _paths(node[i], (*prefix, i))
    return out


@st.composite
def malformed(draw: st.DrawFn, doc: Doc) -> bytes:
    kind = draw(st.sampled_from(["replace", "delete", "cut", "flip", "nest", "utf8"]))
    if kind in ("replace", "delete"):
        d = copy.deepcopy(doc)
        paths = [p for p in _paths(d) if p]
        path = draw(st.sampled_from(paths))
        parent: Any = d
        for k in path[:-1]:
            parent = parent[k]
        if kind == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON_VALUES)
        return json.dumps(d).encode()
    data = json.dumps(doc).encode()
    if kind == "cut":
        return data[: draw(st.integers(0, len(data) - 1))]
    if kind == "flip":
        i = draw(st.integers(0, len(data) - 1))
        return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]
    if kind == "nest":
        depth = draw(st.integers(100, 100_000))
        return data.replace(b": ", b": " + b"[" * depth, 1)  # the first value, nested deep
    i = draw(st.integers(0, len(data) - 1))
    return data[:i] + b"\xff\xfe" + data[i:]


@pytest.fixture(scope="module")
def small_doc() -> Doc:
    """A small valid tokenizer.json document (fast to load hundreds of times)."""
    tok = fastbpe.Tokenizer.from_ranks({bytes([b]): b for b in range(256)} | {b"ab": 256},
                                       {EOT: 257})
    return convert.hf_tokenizer_json(tok)


@pytest.fixture(scope="module")
def small_native_doc() -> Doc:
    """The same tokenizer in fastbpe's own format."""
    tok = fastbpe.Tokenizer.from_ranks({bytes([b]): b for b in range(256)} | {b"ab": 256},
                                       {EOT: 257})
    return json.loads(fastbpe._fastbpe.native_to_string(tok._core, "small"))


@pytest.fixture(scope="module")
def small_vocab_merges(tmp_path_factory) -> tuple[Doc, bytes]:
    """The same tokenizer as vocab.json (a document) + merges.txt (bytes)."""
    tok = fastbpe.Tokenizer.from_ranks({bytes([b]): b for b in range(256)} | {b"ab": 256},
                                       {EOT: 257})
    d = tmp_path_factory.mktemp("vm")
    v, m = convert.save_vocab_merges(tok, d)
    return json.loads(v.read_text(encoding="utf-8")), m.read_bytes()


@pytest.mark.parametrize("fmt", ["hf", "fastbpe", "vocab.json"])
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_malformed_files_fail_cleanly_naming_the_file(
    tmp_path, small_doc, small_native_doc, small_vocab_merges, fmt, data
):
    docs = {"hf": small_doc, "fastbpe": small_native_doc, "vocab.json": small_vocab_merges[0]}
    raw = data.draw(malformed(docs[fmt]))
    if fmt == "vocab.json":
        p = tmp_path / "vocab.json"
        (tmp_path / "merges.txt").write_bytes(small_vocab_merges[1])
    else:
        p = tmp_path / "mangled-tokenizer.json"
    p.write_bytes(raw)
    try:
        fastbpe.load(tmp_path if fmt == "vocab.json" else p)
    except (ValueError, OSError) as e:
        assert p.name in str(e), f"{type(e).__name__}: {e}"
        assert "panicked" not in str(e)


def test_files_written_by_tokenizers_itself_load_with_its_ids(tmp_path, gpt2_files, varied_text):
    """Not only fastbpe's own exports: GPT-2 assembled by the tokenizers library from encoder.json
    and vocab.bpe, and a vocabulary trained by its BpeTrainer, load and give its ids."""
    from tokenizers import decoders, models, pre_tokenizers, processors, trainers

    def byte_level(model: Any) -> tokenizers.Tokenizer:
        t = tokenizers.Tokenizer(model)
        t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        t.decoder = decoders.ByteLevel()
        t.post_processor = processors.ByteLevel(trim_offsets=False)
        return t

    gpt2 = byte_level(
        models.BPE.from_file(str(gpt2_files["encoder.json"]), str(gpt2_files["vocab.bpe"]))
    )
    gpt2.add_special_tokens([EOT])
    trained = byte_level(models.BPE())
    corpus = varied_text[:400_000]
    trained.train_from_iterator(
        [corpus[i : i + 10_000] for i in range(0, len(corpus), 10_000)],
        trainers.BpeTrainer(
            vocab_size=1500,
            special_tokens=[EOT],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    text = SAMPLE + varied_text[500_000:700_000]
    for name, hf in (("gpt2", gpt2), ("trained", trained)):
        p = tmp_path / f"{name}.json"
        hf.save(str(p))
        assert fastbpe.load(p).encode(text) == hf.encode(text).ids, name


ALPHABET = "ab c\n"


@settings(max_examples=40, deadline=None)
@given(
    tokens=st.lists(st.text(alphabet="abc ", min_size=2, max_size=8), max_size=25, unique=True),
    text=st.text(alphabet=ALPHABET, max_size=300),
)
def test_exported_merge_list_gives_fastbpe_ids_in_tokenizers(tmp_path_factory, tokens, text):
    """The HF export of a vocabulary defined by ranks alone (generated: ties, tokens ranked before
    their parts, tokens merging never builds) gives fastbpe's ids in the tokenizers library: the
    merge-list argument of rust/src/formats/merge_order.rs, checked on generated cases."""
    ranks = {bytes([b]): b for b in range(256)}
    for t in tokens:
        ranks.setdefault(t.encode(), len(ranks))
    tok = fastbpe.Tokenizer.from_ranks(ranks, {EOT: len(ranks)})
    p = tmp_path_factory.mktemp("ranks") / "tokenizer.json"
    tok.save(p)
    text = text + EOT + text[::-1]
    assert _tokenizers_ids(p, text) == tok.encode(text)
    assert fastbpe.load(p).encode(text) == tok.encode(text)


@settings(max_examples=25, deadline=None)
@given(corpus=st.text(alphabet=ALPHABET + "d'", min_size=50, max_size=2000),
       text=st.text(alphabet=ALPHABET + "d'", max_size=300))
def test_exported_trained_tokenizers_give_fastbpe_ids_in_tokenizers(
    tmp_path_factory, corpus, text
):
    """The same for vocabularies fastbpe trains on generated corpora (merge lists, repeated
    products)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a small corpus runs out of pairs: fine here
        tok = fastbpe.train(iter([corpus]), 300, [EOT])
    p = tmp_path_factory.mktemp("trained") / "tokenizer.json"
    tok.save(p)
    assert _tokenizers_ids(p, text) == tok.encode(text)
    assert fastbpe.load(p).encode(text) == tok.encode(text)


@settings(max_examples=25, deadline=None)
@given(corpus=st.text(alphabet=ALPHABET + "d'", min_size=50, max_size=2000),
       text=st.text(alphabet=ALPHABET + "d'", max_size=300))
def test_files_tokenizers_trains_load_exactly_or_are_refused(tmp_path_factory, corpus, text):
    """tokenizers' own BpeTrainer on generated corpora: fastbpe either loads the file and gives
    its ids, or refuses it naming a merge; it never loads one and gives other ids."""
    from tokenizers import decoders, models, pre_tokenizers, trainers

    hf = tokenizers.Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    hf.train_from_iterator(
        [corpus],
        trainers.BpeTrainer(vocab_size=320, special_tokens=[EOT], show_progress=False,
                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet()),
    )
    p = tmp_path_factory.mktemp("hf-trained") / "tokenizer.json"
    hf.save(str(p))
    try:
        tok = fastbpe.load(p)
    except ValueError as e:
        assert p.name in str(e) and "merge" in str(e), str(e)
        return
    assert tok.encode(text) == hf.encode(text).ids
