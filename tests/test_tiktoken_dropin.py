"""fastbpe.Encoding as a drop-in for tiktoken.Encoding: every public member, the constructor,
the attributes code reads to rebuild an encoding, `encode_with_unstable`, `decode_bytes_batch`,
and pickling (multiprocessing hands tokenizers to workers that way)."""

import multiprocessing
import pickle
import random

import fastbpe
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def _same_unstable(ours, theirs) -> bool:
    # tiktoken returns its completions in hash-set order; fastbpe sorts them.
    return ours[0] == theirs[0] and {tuple(c) for c in ours[1]} == {tuple(c) for c in theirs[1]}


def test_every_public_member_of_tiktoken_encoding_exists(gpt2_fastbpe, gpt2_tiktoken):
    public = {name for name in dir(gpt2_tiktoken) if not name.startswith("_")}
    assert public, "tiktoken.Encoding lists no public members?"
    missing = sorted(name for name in public if not hasattr(gpt2_fastbpe, name))
    assert missing == []


# fastbpe's additions to tiktoken's signatures: keyword-only, with defaults, so no call written
# for tiktoken can tell them apart.
EXTRA_PARAMETERS = {
    "encode_to_numpy": ["dtype"],
    "get_encoding": ["path"],
    "encoding_for_model": ["path"],
}


def _parameters(fn, name: str = "") -> list[tuple[str, str, object]]:
    """(name, kind, default) of each parameter, fastbpe's documented extras left out after
    checking that they are keyword-only with a default."""
    import inspect

    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.name in EXTRA_PARAMETERS.get(name, ()):
            assert p.kind is p.KEYWORD_ONLY and p.default is not p.empty, (name, p)
            continue
        out.append((p.name, p.kind.name, p.default))
    return out


def test_every_method_takes_tiktokens_parameters():
    """Names, kinds (positional, keyword-only, ...) and defaults of every public method and the
    constructor equal tiktoken's: code written for tiktoken passes nothing fastbpe refuses, and
    gets the same defaults."""
    import inspect

    import tiktoken

    methods = [
        name
        for name, member in inspect.getmembers(tiktoken.Encoding)
        if (not name.startswith("_") or name == "__init__") and inspect.isfunction(member)
    ]
    assert "decode_batch" in methods and "encode" in methods and len(methods) >= 15
    pairs = [(getattr(fastbpe.Encoding, n), getattr(tiktoken.Encoding, n), n) for n in methods]
    pairs += [
        (getattr(fastbpe, n), getattr(tiktoken, n), n)
        for n in ("get_encoding", "encoding_for_model", "encoding_name_for_model")
    ]
    differ = {
        name: (_parameters(ours, name), _parameters(theirs))
        for ours, theirs, name in pairs
        if _parameters(ours, name) != _parameters(theirs)
    }
    assert differ == {}


def test_decode_batch_takes_num_threads(gpt2_fastbpe, gpt2_tiktoken):
    batch = [[31373, 995], [50256]]
    assert gpt2_fastbpe.decode_batch(batch, num_threads=4) == gpt2_tiktoken.decode_batch(
        batch, num_threads=4
    )


def test_module_level_functions_of_tiktoken_exist():
    import tiktoken

    functions = {n for n in dir(tiktoken) if callable(getattr(tiktoken, n)) and n[0] != "_"}
    assert {"get_encoding", "encoding_for_model", "list_encoding_names"} <= functions
    assert sorted(n for n in functions if not hasattr(fastbpe, n)) == []


def test_encoding_for_model_agrees_with_tiktoken(gpt2_files):
    from tiktoken.model import MODEL_TO_ENCODING

    # Every model tiktoken knows maps to the same encoding (the whole table: test_registry).
    ours = {m: fastbpe.encoding_name_for_model(m) for m in MODEL_TO_ENCODING}
    assert ours == MODEL_TO_ENCODING
    enc = fastbpe.encoding_for_model("davinci")
    assert isinstance(enc, fastbpe.Encoding) and enc.name == "r50k_base"
    assert enc.encode("hello world") == [31373, 995]
    with pytest.raises(KeyError, match="Could not automatically map"):
        fastbpe.encoding_for_model("no-such-model")


def test_attributes_for_rebuilding_an_encoding(gpt2_fastbpe, gpt2_tiktoken):
    assert gpt2_fastbpe._pat_str == gpt2_tiktoken._pat_str
    assert gpt2_fastbpe._mergeable_ranks == gpt2_tiktoken._mergeable_ranks
    assert gpt2_fastbpe._special_tokens == gpt2_tiktoken._special_tokens


def test_constructor_takes_tiktokens_arguments(gpt2_tiktoken, varied_text):
    # The usual recipe for adding special tokens to GPT-2, written against tiktoken's API.
    import tiktoken

    kwargs = dict(
        name="gpt2_im",
        pat_str=gpt2_tiktoken._pat_str,
        mergeable_ranks=gpt2_tiktoken._mergeable_ranks,
        special_tokens={
            **gpt2_tiktoken._special_tokens,
            "<|im_start|>": 50257,
            "<|im_end|>": 50258,
        },
        explicit_n_vocab=50259,
    )
    ours, theirs = fastbpe.Encoding(**kwargs), tiktoken.Encoding(**kwargs)
    text = "<|im_start|>user\nhi there<|im_end|><|endoftext|>" + varied_text[:20_000]
    assert ours.encode(text, allowed_special="all") == theirs.encode(text, allowed_special="all")
    assert ours.name == "gpt2_im" and ours.n_vocab == theirs.n_vocab == 50259
    with pytest.raises(ValueError, match="disallowed special token"):
        ours.encode("<|im_end|>")


BYTE_RANKS = {bytes([i]): i for i in range(256)}
CONSTRUCTOR_ERRORS = [
    # (arguments that differ from a valid 257-token encoding, error, message)
    ({"explicit_n_vocab": 300}, ValueError, "explicit_n_vocab is 300 but there are 257 tokens"),
    ({"special_tokens": {"<|endoftext|>": 299}, "explicit_n_vocab": 257}, ValueError, "largest id"),
    ({"mergeable_ranks": list(BYTE_RANKS)}, TypeError, "mergeable_ranks must be a dict"),
    ({"name": None}, TypeError, "name must be a str"),
    ({"pat_str": "(unclosed"}, ValueError, "invalid pre-tokenization pattern"),
]


@pytest.mark.parametrize(("changes", "error", "message"), CONSTRUCTOR_ERRORS)
def test_constructor_rejects_what_tiktoken_rejects(changes, error, message):
    kwargs = dict(
        name="x",
        pat_str=fastbpe.GPT2_PATTERN,
        mergeable_ranks=BYTE_RANKS,
        special_tokens={"<|endoftext|>": 256},
    )
    fastbpe.Encoding(**kwargs)  # valid as given
    with pytest.raises(error, match=message):
        fastbpe.Encoding(**{**kwargs, **changes})


def test_decode_bytes_batch(gpt2_fastbpe, gpt2_tiktoken, varied_text):
    docs = varied_text[:200_000].split("\n\n")
    batch = gpt2_tiktoken.encode_ordinary_batch(docs)
    assert gpt2_fastbpe.decode_bytes_batch(batch) == gpt2_tiktoken.decode_bytes_batch(batch)
    with pytest.raises(KeyError):
        gpt2_fastbpe.decode_bytes_batch([[1], [50257]])


# ----------------------------------------------------------------------------- encode_with_unstable

UNSTABLE_CASES = [
    "hello fanta",
    "",
    "x",
    "a  \n\n",
    "hello<|endoftext|>",
    "hello <|endoftext|> wor",
    "def f():\n    return 1  ",
    "日本語の",
    "naïve",
    "hello world\u3000",
    " 12345",
    "emoji 👩‍👩‍👧",
    "tab\t",
    "\ud800 lone",
]


@pytest.mark.parametrize("text", UNSTABLE_CASES)
def test_encode_with_unstable_cases(gpt2_fastbpe, gpt2_tiktoken, text):
    from fastbpe._text import fix_surrogates

    # tiktoken rejects lone surrogates in this method; compare on what it would accept.
    want = gpt2_tiktoken.encode_with_unstable(fix_surrogates(text), allowed_special="all")
    got = gpt2_fastbpe.encode_with_unstable(text, allowed_special="all")
    assert _same_unstable(got, want)
    stable, completions = got
    data = fix_surrogates(text).encode()
    assert data.startswith(gpt2_fastbpe.decode_bytes(stable))
    if "<|endoftext|>" not in text[-13:]:
        assert all(gpt2_fastbpe.decode_bytes(stable + c).startswith(data) for c in completions)


def test_encode_with_unstable_on_slices_of_varied_text(gpt2_fastbpe, gpt2_tiktoken, varied_text):
    rng = random.Random(11)
    for _ in range(200):
        i = rng.randrange(len(varied_text))
        text = varied_text[i : i + rng.randrange(1, 80)]
        want = gpt2_tiktoken.encode_with_unstable(text, disallowed_special=())
        got = gpt2_fastbpe.encode_with_unstable(text, disallowed_special=())
        assert _same_unstable(got, want), repr(text)


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=24))
def test_encode_with_unstable_on_generated_text(gpt2_fastbpe, gpt2_tiktoken, text):
    want = gpt2_tiktoken.encode_with_unstable(text, disallowed_special=())
    assert _same_unstable(gpt2_fastbpe.encode_with_unstable(text, disallowed_special=()), want)


def test_encode_with_unstable_special_token_rules(gpt2_fastbpe, gpt2_tiktoken):
    with pytest.raises(ValueError, match="disallowed special token"):
        gpt2_fastbpe.encode_with_unstable("a <|endoftext|>")
    with pytest.raises(TypeError):
        gpt2_fastbpe.encode_with_unstable(b"bytes")


# ----------------------------------------------------------------------------- pickling


def _trained_tokenizer() -> fastbpe.Tokenizer:
    docs = ["low lower lowest newer wider <|endoftext|> " * 3, "the quick brown fox " * 4]
    return fastbpe.train(iter(docs), vocab_size=280, special_tokens=["<|endoftext|>"])


def _encode_in_worker(args):
    tok, text = args
    return type(tok).__name__, tok.name, tok.encode(text, allowed_special="all")


@pytest.mark.parametrize("which", ["gpt2", "trained", "constructed"])
def test_pickle_round_trip(which, gpt2_fastbpe, gpt2_tiktoken, varied_text):
    if which == "gpt2":
        tok = gpt2_fastbpe
    elif which == "trained":
        tok = _trained_tokenizer()
    else:
        tok = fastbpe.Encoding(
            "mine",
            pat_str=gpt2_tiktoken._pat_str,
            mergeable_ranks=gpt2_tiktoken._mergeable_ranks,
            special_tokens={"<|endoftext|>": 50256, "<|pad|>": 50300},
        )
    back = pickle.loads(pickle.dumps(tok))
    assert type(back) is type(tok)
    assert back.name == tok.name
    assert back.special_tokens == tok.special_tokens
    assert back.vocab == tok.vocab
    text = varied_text[:100_000] + "<|endoftext|>"
    assert back.encode(text, allowed_special="all") == tok.encode(text, allowed_special="all")
    # The defaults travel with the class: an Encoding still refuses special-token text.
    if isinstance(tok, fastbpe.Encoding):
        with pytest.raises(ValueError):
            back.encode("<|endoftext|>")


def test_tokenizers_go_to_spawned_workers(gpt2_fastbpe):
    # spawn: the worker is a fresh interpreter, so the tokenizer must arrive whole.
    trained = _trained_tokenizer()
    jobs = [(gpt2_fastbpe, "hello world<|endoftext|>"), (trained, "lower newer<|endoftext|>")]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_encode_in_worker, jobs)
    assert results == [
        (
            "Encoding",
            "gpt2",
            gpt2_fastbpe.encode("hello world<|endoftext|>", allowed_special="all"),
        ),
        ("Tokenizer", trained.name, trained.encode("lower newer<|endoftext|>")),
    ]


def test_corrupt_pickle_data_is_a_clear_error():
    from fastbpe.tokenizer import _unpickle

    with pytest.raises(ValueError, match="pickled tokenizer"):
        _unpickle(fastbpe.Tokenizer, '{"format": "fastbpe", "version": 1, "tokens": [')


# ----------------------------------------------------------------------------- other patterns


def _tiktoken_constructor_args(name: str, ranks: dict[bytes, int]) -> dict:
    """tiktoken's own constructor arguments for `name` (its real pattern and special tokens),
    with GPT-2's ranks in place of the vocabulary file, which CI cannot download."""
    import tiktoken_ext.openai_public as public

    real_loader = public.load_tiktoken_bpe
    public.load_tiktoken_bpe = lambda *args, **kwargs: ranks
    try:
        kwargs = getattr(public, name)()
        kwargs.pop("explicit_n_vocab", None)  # counts the real vocabulary, not GPT-2's
        return kwargs
    finally:
        public.load_tiktoken_bpe = real_loader


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base", "p50k_base"])
def test_other_patterns_give_tiktokens_ids(name, gpt2_tiktoken, varied_text):
    import tiktoken

    kwargs = _tiktoken_constructor_args(name, gpt2_tiktoken._mergeable_ranks)
    theirs = tiktoken.Encoding(**kwargs)
    ours = fastbpe.Encoding(**kwargs)
    wrapped = fastbpe.Encoding.from_tiktoken(theirs)
    specials = " ".join(kwargs["special_tokens"])
    text = varied_text[:300_000] + specials + "  trailing  \n\n "
    want = theirs.encode(text, allowed_special="all")
    assert ours.encode(text, allowed_special="all") == want
    assert wrapped.encode(text, allowed_special="all") == want
    assert ours.encode_ordinary(text) == theirs.encode_ordinary(text)
