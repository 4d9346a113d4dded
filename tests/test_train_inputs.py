"""What `train` makes of its input and how it reports: a text file object is one stream of text
(as `encode_iterable` reads it), special tokens separate its documents, not its lines; a short
vocabulary always warns; `progress` has `encode_file`'s default."""

from __future__ import annotations

import inspect
import io
import warnings

import fastbpe
import pytest
from fastbpe.training import ShortVocabularyWarning, _stream_documents, count_words
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EOT = "<|endoftext|>"


@pytest.fixture(scope="module")
def crlf_corpus(tmp_path_factory, varied_text):
    """~150 KB of text with CRLF line ends and special tokens between documents."""
    text = varied_text[:150_000].replace("\n\n", f"\n{EOT}").replace("\n", "\r\n")
    path = tmp_path_factory.mktemp("crlf") / "corpus.txt"
    path.write_bytes(text.encode("utf-8"))
    return path


def test_a_file_object_is_one_stream_like_its_path(crlf_corpus):
    """The issue's case: lines as documents lost the (b'\\r', b'\\n') merge (#45 there)."""
    by_path = fastbpe.train([crlf_corpus], 400, [EOT])
    with open(crlf_corpus, encoding="utf-8", newline="") as f:  # the file's exact text
        by_file = fastbpe.train(f, 400, [EOT])
    assert by_file.merges == by_path.merges and by_file.vocab == by_path.vocab
    assert (b"\r", b"\n") in by_path.merges
    # Lines as separate documents would never see a pair across a line end, and differ.
    with open(crlf_corpus, encoding="utf-8", newline="") as f:
        by_lines = fastbpe.train(iter(list(f)), 400, [EOT])
    assert by_lines.merges != by_path.merges


def test_file_object_means_the_same_in_train_and_encode_iterable(crlf_corpus):
    # open() in text mode turns \r\n into \n; both read the same decoded stream.
    with open(crlf_corpus, encoding="utf-8") as f:
        text = f.read()
    with open(crlf_corpus, encoding="utf-8") as f:
        tok = fastbpe.train(f, 400, [EOT])
    assert tok.merges == fastbpe.train(iter([text]), 400, [EOT]).merges
    with open(crlf_corpus, encoding="utf-8") as f:
        assert list(tok.encode_iterable(f)) == tok.encode(text)


def test_binary_file_object_is_refused_with_what_to_pass(crlf_corpus):
    with open(crlf_corpus, "rb") as f, pytest.raises(TypeError, match="text mode"):
        fastbpe.train(f, 300, [EOT])


TEXT = st.lists(
    st.sampled_from(["a", "b", " ", "\n", "\r", "é", "1", "'s", EOT, "<|", "|>"]), max_size=100
).map("".join)


@settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    text=TEXT,
    block=st.integers(1, 40),
    specials=st.sampled_from([[], [EOT], [EOT, "<|"]]),
    pattern=st.sampled_from([None, r"\w+|\s+|[^\w\s]+", r"\w+\r?|\s+|[^\w\s]+"]),
)
def test_stream_pieces_count_as_the_whole_text(text, block, specials, pattern):
    pieces = list(_stream_documents(io.StringIO(text), specials, pattern, block_chars=block))
    assert "".join(pieces) == text and all(pieces)
    whole = count_words(iter([text]), specials, pattern=pattern, progress=False)
    cut = count_words(iter(pieces), specials, pattern=pattern, progress=False)
    assert sorted(cut.items()) == sorted(whole.items())


def test_short_vocabulary_always_warns():
    for call in (
        lambda: fastbpe.train(iter(["ab ab cd"]), 300),
        lambda: fastbpe.train_from_counts(count_words(iter(["ab ab cd"])), 300),
    ):
        with pytest.warns(ShortVocabularyWarning, match="260 tokens instead of 300"):
            result = call()
        assert len(result.vocab if hasattr(result, "vocab") else result[0]) == 260
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastbpe.train(iter(["ab ab cd"]), 260)  # exactly reachable: no warning


def test_train_bpe_warns_too(tmp_path):
    p = tmp_path / "tiny.txt"
    p.write_text("ab ab cd", encoding="utf-8")
    with pytest.warns(ShortVocabularyWarning) as caught:
        fastbpe.train_bpe(p, 300, [])
    assert caught[0].filename == __file__  # points at the caller's line


def test_progress_defaults_match_encode_file():
    from fastbpe import token_files

    default = inspect.signature(token_files.encode_file).parameters["progress"].default
    for fn in (fastbpe.train, fastbpe.train_bpe, fastbpe.count_words, fastbpe.train_from_counts):
        assert inspect.signature(fn).parameters["progress"].default == default, fn.__name__
