"""Counts files (`WordCounts.save/load`, `fastbpe count`, `fastbpe train --from-counts`): exact
round trips, provenance checks on merging, and clear errors for damaged files."""

from __future__ import annotations

import pickle
import random

import fastbpe
import pytest
from fastbpe import WordCounts
from fastbpe.cli import main
from fastbpe.counts import merge_files, tokenizer_from_counts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EOT = "<|endoftext|>"
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def corpus(seed: int, n: int = 4000) -> str:
    rng = random.Random(seed)
    words = ["the", " cat", "sat", " on", "\n", EOT, "é世", " mat.", "  ", "dog", "12", "\n\n"]
    return "".join(rng.choice(words) + rng.choice(["", " "]) for _ in range(n))


@pytest.fixture
def files(tmp_path):
    paths = []
    for k in range(3):
        p = tmp_path / f"c{k}.txt"
        p.write_text(corpus(k), encoding="utf-8")
        paths.append(str(p))
    return paths


@SETTINGS
@given(
    words=st.dictionaries(st.binary(max_size=40), st.integers(1, 2**64 - 1), max_size=60),
    specials=st.lists(st.text(min_size=1, max_size=8), max_size=3, unique=True),
)
def test_save_load_round_trip_is_exact(tmp_path, words, specials):
    counts = fastbpe.count_words(iter(["x y"]), specials)
    for w, n in words.items():
        counts.add(w, n)
    path = tmp_path / "r.counts"
    counts.save(path)
    back = WordCounts.load(path)
    assert back.items() == counts.items()
    assert (back.pattern, back.special_tokens, back.bytes_read) == (
        counts.pattern,
        specials,
        3,
    )
    assert back.to_file_bytes() == path.read_bytes()  # canonical: one file per content
    again = pickle.loads(pickle.dumps(counts))
    assert again.items() == counts.items() and again.special_tokens == specials


def test_hand_built_counts_have_no_origin_and_merge_with_any(tmp_path):
    hand = WordCounts()
    hand.add(b"ab", 2)
    assert hand.pattern is None and hand.special_tokens is None
    hand.save(tmp_path / "h.counts")
    loaded = WordCounts.load(tmp_path / "h.counts")
    assert loaded.pattern is None and loaded.items() == [(b"ab", 2)]
    counted = fastbpe.count_words(iter(["ab ab"]), [EOT])
    counted.update(loaded)
    assert counted.get(b"ab") == 3 and counted.special_tokens == [EOT]


def test_merging_different_pattern_or_specials_is_an_error(files):
    a = fastbpe.count_words(files[0], [EOT])
    with pytest.raises(ValueError, match="different special tokens"):
        a.update(fastbpe.count_words(files[1], []))
    with pytest.raises(ValueError, match="different pre-tokenization patterns"):
        a.update(fastbpe.count_words(files[1], [EOT], pattern=r"\S+|\s+"))
    # The order of special tokens changes ids, not counts: these merge.
    a2 = fastbpe.count_words(files[0], [EOT, "<x>"])
    a2.update(fastbpe.count_words(files[1], ["<x>", EOT]))


def test_counts_file_grows_with_distinct_words_not_corpus(tmp_path):
    text = corpus(7, 3000)
    small, big = tmp_path / "s.txt", tmp_path / "b.txt"
    small.write_text(text, encoding="utf-8")
    big.write_text(text * 40, encoding="utf-8")
    fastbpe.count_words(str(small), [EOT]).save(tmp_path / "s.counts")
    fastbpe.count_words(str(big), [EOT]).save(tmp_path / "b.counts")
    s, b = (tmp_path / "s.counts").stat().st_size, (tmp_path / "b.counts").stat().st_size
    assert b - s < 2 * len(WordCounts.load(tmp_path / "s.counts"))  # a count varint grows
    assert b < big.stat().st_size / 100


@SETTINGS
@given(data=st.data())
def test_truncated_or_damaged_files_are_a_clear_error(tmp_path, files, data):
    path = tmp_path / "good.counts"
    fastbpe.count_words(files[0], [EOT]).save(path)
    raw = path.read_bytes()
    bad = tmp_path / "bad.counts"
    if data.draw(st.booleans()):
        cut = data.draw(st.integers(0, len(raw) - 1))
        bad.write_bytes(raw[:cut])
    else:
        i = data.draw(st.integers(0, len(raw) - 1))
        flip = data.draw(st.integers(1, 255))
        bad.write_bytes(raw[:i] + bytes([raw[i] ^ flip]) + raw[i + 1 :])
    with pytest.raises(ValueError, match="bad.counts"):
        WordCounts.load(bad)
    with pytest.raises(ValueError, match="bad.counts"):
        merge_files([path, bad])


def test_not_a_counts_file_and_newer_versions(tmp_path):
    other = tmp_path / "x.counts"
    other.write_text("hello", encoding="utf-8")
    with pytest.raises(ValueError, match="not a fastbpe counts file"):
        WordCounts.load(other)
    path = tmp_path / "v.counts"
    WordCounts().save(path)
    raw = bytearray(path.read_bytes())
    raw[8] = 2  # version field
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="newer fastbpe"):
        WordCounts.load(path)
    with pytest.raises(FileNotFoundError):
        WordCounts.load(tmp_path / "missing.counts")


def test_cli_count_merge_train_equals_train_on_files(tmp_path, files, capsys):
    d = tmp_path
    assert main(["count", *files, "-o", str(d / "all.counts"), "-q"]) == 0
    for i in range(3):
        assert (
            main(["count", *files, "--shard", f"{i}/3", "-o", str(d / f"p{i}.counts"), "-q"]) == 0
        )
    parts = [str(d / f"p{i}.counts") for i in range(3)]
    assert main(["count", "--merge", *parts, "-o", str(d / "m.counts"), "-q"]) == 0
    assert (d / "m.counts").read_bytes() == (d / "all.counts").read_bytes()
    assert main(["train", *files, "--vocab-size", "400", "-o", str(d / "direct.json"), "-q"]) == 0
    assert (
        main(
            [
                "train",
                "--from-counts",
                str(d / "m.counts"),
                "--vocab-size",
                "400",
                "-o",
                str(d / "fc.json"),
                "-q",
            ]
        )
        == 0
    )
    assert (d / "fc.json").read_bytes() == (d / "direct.json").read_bytes()
    # Python API, same result.
    tok = tokenizer_from_counts(merge_files(parts), 400)
    assert tok.merges == fastbpe.train(files, 400, [EOT]).merges


def test_cli_errors_are_one_line(tmp_path, files, capsys):
    d = tmp_path
    main(["count", files[0], "-o", str(d / "a.counts"), "-q"])
    main(["count", files[0], "--no-special-tokens", "-o", str(d / "b.counts"), "-q"])
    capsys.readouterr()
    assert (
        main(
            [
                "count",
                "--merge",
                str(d / "a.counts"),
                str(d / "b.counts"),
                "-o",
                str(d / "m.counts"),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "b.counts" in err and "different special tokens" in err
    assert not (d / "m.counts").exists()
    (d / "t.counts").write_bytes((d / "a.counts").read_bytes()[:-5])
    assert (
        main(
            [
                "train",
                "--from-counts",
                str(d / "t.counts"),
                "--vocab-size",
                "300",
                "-o",
                str(d / "x.json"),
            ]
        )
        == 1
    )
    assert "t.counts" in capsys.readouterr().err and not (d / "x.json").exists()
    assert main(["count", files[0], "--shard", "3/3", "-o", str(d / "z.counts")]) == 1
    assert "0 <= I < N" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--from-counts",
                str(d / "a.counts"),
                "--special-token",
                "<x>",
                "--vocab-size",
                "300",
                "-o",
                str(d / "y.json"),
            ]
        )
        == 1
    )
    assert "special tokens" in capsys.readouterr().err
