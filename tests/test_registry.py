"""`get_encoding` / `encoding_for_model` for every tiktoken encoding: the same names, URLs,
pinned hashes, patterns and special tokens as tiktoken; files from tiktoken's cache (same
directory, same SHA-1 names), from `path=` (which fills the cache), or downloaded and hash-checked;
offline, an error that says what was wrong with which file and how to supply it.

The real cl100k/o200k/p50k files are not downloaded by the tests: each encoding is run with its
own pattern and special tokens over GPT-2's ranks, served from a temporary cache; the real files
(made offline by conftest.py: p50k from GPT-2's, cl100k/o200k from the bpe-openai wheel, all
hash-checked) are compared with tiktoken when they are in the cache (else that test is reported as
skipped, with the reason)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import fastbpe
import pytest
from fastbpe import registry

EOT = "<|endoftext|>"
NAMES = [
    "gpt2",
    "r50k_base",
    "p50k_base",
    "p50k_edit",
    "cl100k_base",
    "o200k_base",
    "o200k_harmony",
]


def tiktoken_constructor(name: str, ranks: dict[bytes, int] | None = None) -> tuple[dict, list]:
    """tiktoken's own constructor arguments for `name` and the (url, hash) pairs it loads; with
    `ranks`, those stand in for the vocabulary file (nothing is read or downloaded)."""
    import tiktoken_ext.openai_public as public

    loads: list[tuple[str, str]] = []

    def fake_tiktoken(url, expected_hash=None):
        loads.append((url, expected_hash))
        return ranks if ranks is not None else {}

    def fake_data_gym(vocab_bpe_file, encoder_json_file, vocab_bpe_hash, encoder_json_hash, **kw):
        loads.extend([(encoder_json_file, encoder_json_hash), (vocab_bpe_file, vocab_bpe_hash)])
        return ranks if ranks is not None else {}

    real = public.load_tiktoken_bpe, public.data_gym_to_mergeable_bpe_ranks
    public.load_tiktoken_bpe, public.data_gym_to_mergeable_bpe_ranks = fake_tiktoken, fake_data_gym
    try:
        return public.ENCODING_CONSTRUCTORS[name](), loads
    finally:
        public.load_tiktoken_bpe, public.data_gym_to_mergeable_bpe_ranks = real


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """A fresh tiktoken cache, no network, and no encodings remembered from earlier tests."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.setattr(registry, "_cache", {})

    def no_network(url, *a, **k):
        raise OSError(f"network is unreachable (test): {url}")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    return cache


def sha1_name(url: str) -> str:
    return hashlib.sha1(url.encode()).hexdigest()


# ----------------------------------------------------------------------------- same table as tiktoken


def test_names_are_tiktokens():
    import tiktoken

    assert fastbpe.list_encoding_names() == NAMES
    assert sorted(NAMES) == sorted(tiktoken.list_encoding_names())


@pytest.mark.parametrize("name", NAMES)
def test_urls_hashes_patterns_and_specials_are_tiktokens(name):
    kwargs, loads = tiktoken_constructor(name)
    spec = registry.ENCODINGS[name]
    assert [(f.url, f.sha256) for f in spec.sources[0]] == loads
    assert spec.pattern == kwargs["pat_str"]
    assert spec.special_tokens == kwargs["special_tokens"]
    assert spec.explicit_n_vocab == kwargs.get("explicit_n_vocab")


def test_model_table_is_tiktokens():
    from fastbpe import models
    from tiktoken import model

    assert models.MODEL_TO_ENCODING == model.MODEL_TO_ENCODING
    assert list(models.MODEL_PREFIX_TO_ENCODING.items()) == list(
        model.MODEL_PREFIX_TO_ENCODING.items()
    )
    for name in [*model.MODEL_TO_ENCODING, "gpt-4o-2024-05-13", "gpt-4-0314", "ft:gpt-4o:x"]:
        assert fastbpe.encoding_name_for_model(name) == model.encoding_name_for_model(name)
    with pytest.raises(KeyError, match="gpt-17"):
        fastbpe.encoding_name_for_model("gpt-17")


# ----------------------------------------------------------------------------- each pattern, offline


def gpt2_ranks_cache(cache: Path, gpt2_files, name: str, monkeypatch) -> registry.EncodingSpec:
    """Puts GPT-2's r50k_base.tiktoken into `cache` under `name`'s file name (SHA-1 of its URL)
    and makes the registry expect that file's hash: `name` then loads GPT-2's ranks with its own
    pattern and special tokens."""
    data = gpt2_files["r50k_base.tiktoken"].read_bytes()
    spec = registry.ENCODINGS[name]
    url = spec.sources[0][0].url if len(spec.sources[0]) == 1 else registry.R50K_FILE.url
    cache.mkdir(parents=True, exist_ok=True)
    (cache / sha1_name(url)).write_bytes(data)
    fake = dataclasses.replace(
        spec,
        sources=((registry.VocabFile(url, hashlib.sha256(data).hexdigest()),),),
        explicit_n_vocab=None,  # counts the real vocabulary, not GPT-2's
    )
    monkeypatch.setitem(registry.ENCODINGS, name, fake)
    return fake


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base", "p50k_base", "p50k_edit"])
def test_each_encoding_from_the_cache_gives_tiktokens_ids(
    name, empty_cache, gpt2_files, gpt2_tiktoken, varied_text, monkeypatch
):
    import tiktoken

    gpt2_ranks_cache(empty_cache, gpt2_files, name, monkeypatch)
    enc = fastbpe.get_encoding(name)
    assert isinstance(enc, fastbpe.Encoding) and enc.name == name
    kwargs, _ = tiktoken_constructor(name, gpt2_tiktoken._mergeable_ranks)
    kwargs.pop("explicit_n_vocab", None)
    theirs = tiktoken.Encoding(**kwargs)
    assert enc.special_tokens == theirs._special_tokens and enc._pat_str == theirs._pat_str
    text = (
        varied_text[:200_000] + " ".join(kwargs["special_tokens"]) + "  it's DON'T \r\n\r\n 1234567"
    )
    assert enc.encode(text, allowed_special="all") == theirs.encode(text, allowed_special="all")
    assert enc.encode_ordinary(text) == theirs.encode_ordinary(text)
    with pytest.raises(ValueError, match="disallowed special token"):
        enc.encode(EOT)
    assert fastbpe.get_encoding(name) is enc  # remembered


def test_encoding_for_gpt_4o_loads_o200k_from_the_cache(empty_cache, gpt2_files, monkeypatch):
    gpt2_ranks_cache(empty_cache, gpt2_files, "o200k_base", monkeypatch)
    enc = fastbpe.encoding_for_model("gpt-4o")
    assert enc.name == "o200k_base" and enc.eot_token == 199999
    assert enc.special_tokens == {EOT: 199999, "<|endofprompt|>": 200018}


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base", "p50k_base"])
def test_real_file_gives_tiktokens_ids(name, varied_text):
    """With the real vocabulary file in tiktoken's cache (it is not downloaded for the tests)."""
    import tiktoken

    f = registry.ENCODINGS[name].sources[0][0]
    p = f.cache_path()
    if p is None or not p.is_file() or hashlib.sha256(p.read_bytes()).hexdigest() != f.sha256:
        pytest.skip(f"real file absent: {f.name} is not in tiktoken's cache ({p})")
    ours, theirs = fastbpe.get_encoding(name), tiktoken.get_encoding(name)
    text = varied_text[:300_000]
    assert ours.encode(text, allowed_special="all") == theirs.encode(text, allowed_special="all")
    assert ours.n_vocab == theirs.n_vocab


# ----------------------------------------------------------------------------- download, path=, offline


def test_download_is_hash_checked_and_fills_tiktokens_cache(empty_cache, gpt2_files, monkeypatch):
    import io

    served = {registry.R50K_FILE.url: gpt2_files["r50k_base.tiktoken"].read_bytes()}
    monkeypatch.setattr("urllib.request.urlopen", lambda url, timeout=None: io.BytesIO(served[url]))
    enc = fastbpe.get_encoding("r50k_base")
    assert enc.encode("hello world") == [31373, 995]
    cached = empty_cache / sha1_name(registry.R50K_FILE.url)
    assert cached.read_bytes() == served[registry.R50K_FILE.url]
    assert not [p for p in empty_cache.iterdir() if p.name.endswith(".tmp")]
    # tiktoken reads the same cache: its loader finds the file without the network.
    from tiktoken.load import load_tiktoken_bpe

    ranks = load_tiktoken_bpe(registry.R50K_FILE.url, registry.R50K_FILE.sha256)
    assert len(ranks) == 50256

    # Data that fails the hash check is neither used nor cached.
    monkeypatch.setattr(registry, "_cache", {})
    cached.unlink()
    served[registry.R50K_FILE.url] = b"not the file"
    with pytest.raises(FileNotFoundError, match="downloaded .* failed the SHA-256 check"):
        fastbpe.get_encoding("r50k_base")
    assert not cached.exists()


def test_offline_error_says_how_to_supply_the_file(empty_cache):
    with pytest.raises(FileNotFoundError) as e:
        fastbpe.get_encoding("gpt2")
    msg = str(e.value)
    assert "not in the cache" in msg and "network is unreachable" in msg
    for needed in (
        "TIKTOKEN_CACHE_DIR",
        "path=",
        "pip download --no-deps --no-binary :all: openai-whisper==20250625",
        "tar xzf",
        "whisper/assets/gpt2.tiktoken",
        sha1_name(registry.R50K_FILE.url),
    ):
        assert needed in msg, needed
    with pytest.raises(FileNotFoundError) as e:
        fastbpe.get_encoding("cl100k_base")
    assert sha1_name(registry.CL100K_FILE.url) in str(e.value) and "whisper" not in str(e.value)


def test_corrupt_cache_file_is_named_as_failing_the_hash_check(empty_cache):
    empty_cache.mkdir()
    bad = empty_cache / sha1_name(registry.CL100K_FILE.url)
    bad.write_bytes(b"corrupt")
    with pytest.raises(FileNotFoundError) as e:
        fastbpe.get_encoding("cl100k_base")
    msg = str(e.value)
    assert f"the cached file {bad} failed the SHA-256 check" in msg
    assert hashlib.sha256(b"corrupt").hexdigest() in msg and "not in the cache" not in msg


def test_path_load_fills_the_cache_for_the_next_call(empty_cache, gpt2_files, tmp_path):
    assert not empty_cache.exists()
    enc = fastbpe.get_encoding("gpt2", path=gpt2_files["r50k_base.tiktoken"])
    assert enc.encode("hello world") == [31373, 995]
    registry._cache.clear()
    again = fastbpe.get_encoding("gpt2")  # offline: only the cache can serve it now
    assert again.encode("hello world") == [31373, 995]
    # The openai-whisper sdist's name for the file, in a folder, works too.
    d = tmp_path / "assets"
    d.mkdir()
    (d / "gpt2.tiktoken").write_bytes(gpt2_files["r50k_base.tiktoken"].read_bytes())
    assert fastbpe.get_encoding("r50k_base", path=d).n_vocab == 50257


def test_path_that_is_not_tiktokens_file(empty_cache, tmp_path):
    other = tmp_path / "other.tiktoken"
    other.write_bytes(b"YQ== 0\n")
    with pytest.raises(ValueError, match="not tiktoken's r50k_base.tiktoken"):
        fastbpe.get_encoding("gpt2", path=other)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fastbpe.get_encoding("gpt2", path=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="encoder.json"):
        fastbpe.get_encoding("gpt2", path=tmp_path)
    assert not empty_cache.exists()  # nothing unverified is cached


def test_unknown_name_and_bad_types():
    with pytest.raises(ValueError, match="cl100k_base"):
        fastbpe.get_encoding("cl100k")
    with pytest.raises(TypeError):
        fastbpe.get_encoding(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fastbpe.get_encoding("gpt2", path=5)  # type: ignore[arg-type]


def test_cli_shows_the_offline_hint_in_one_line(tmp_path):
    """The command line's error keeps the way out: one line, naming the sdist and tar steps."""
    code = (
        "import sys, urllib.request\n"
        "def offline(*a, **k): raise OSError('offline (test)')\n"
        "urllib.request.urlopen = offline\n"
        "from fastbpe.cli import main\n"
        "sys.exit(main(['encode', '-t', 'gpt2', '--text', 'hi']))\n"
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path / "empty")}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastbpe: error: cannot load the 'gpt2'"), lines
    for needed in ("-t FILE", "pip download", "tar xzf", "gpt2.tiktoken", "docs/install.md"):
        assert needed in lines[0], needed


def test_cli_loads_the_file_once_then_the_name_works_offline(tmp_path, gpt2_files):
    """docs/install.md's one way, on the command line: `-t FILE` fills the cache for `-t gpt2`."""
    code = (
        "import sys, urllib.request\n"
        "def offline(*a, **k): raise OSError('offline (test)')\n"
        "urllib.request.urlopen = offline\n"
        "from fastbpe.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path / "cache")}

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-c", code, *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    assert cli("encode", "-t", "gpt2", "--text", "hi").returncode == 1  # not cached yet
    first = cli("encode", "-t", gpt2_files["r50k_base.tiktoken"], "--text", "hello world")
    assert first.returncode == 0 and first.stdout.split() == ["31373", "995"], first.stderr
    again = cli("encode", "-t", "gpt2", "--text", "hello <|endoftext|>")
    assert again.returncode == 0 and again.stdout.split() == ["31373", "220", "50256"]


def test_install_doc_names_the_cache_files():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "install.md").read_text()
    for spec in registry.ENCODINGS.values():
        for group in spec.sources:
            for f in group:
                assert f"`{sha1_name(f.url)}`" in doc, f.name


def test_empty_cache_variable_disables_the_cache(tmp_path, gpt2_files, monkeypatch):
    """As in tiktoken: TIKTOKEN_CACHE_DIR="" downloads every time and writes nothing."""
    import io

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    monkeypatch.setattr(registry, "_cache", {})
    data = gpt2_files["r50k_base.tiktoken"].read_bytes()
    fetched = []

    def serve(url, timeout=None):
        fetched.append(url)
        return io.BytesIO(data)

    monkeypatch.setattr("urllib.request.urlopen", serve)
    monkeypatch.chdir(tmp_path)
    assert fastbpe.get_encoding("r50k_base").encode("hello world") == [31373, 995]
    assert fetched == [registry.R50K_FILE.url] and registry.cache_dir() is None
    assert list(tmp_path.iterdir()) == []
