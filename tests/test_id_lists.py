"""Ids come back as plain Python ints, whatever their size, and batch encoding leaves the
garbage collector as it found it (it is paused while a large batch's lists are built)."""

import gc

import fastbpe


def _tokenizer_with_large_ids() -> fastbpe.Tokenizer:
    # Ids above the shared-int cache (2**18) are made per use; ids below it are shared objects.
    ranks = {bytes([i]): i for i in range(256)}
    ranks[b"ab"] = 300_000
    ranks[b"cd"] = 1_000
    return fastbpe.Tokenizer.from_ranks(ranks)


def test_ids_above_and_below_the_int_cache():
    tok = _tokenizer_with_large_ids()
    ids = tok.encode("abcd xy")
    assert ids == [300_000, 1_000, ord(" "), ord("x"), ord("y")]
    assert all(type(i) is int for i in ids)
    assert tok.encode_ordinary_batch(["ab", "cd", ""] * 2000) == [[300_000], [1_000], []] * 2000


def test_batch_restores_gc_state():
    tok = _tokenizer_with_large_ids()
    batch = ["abcd"] * 5000
    assert gc.isenabled()
    assert tok.encode_batch(batch) == [[300_000, 1_000]] * 5000
    assert gc.isenabled()
    gc.disable()
    try:
        tok.encode_batch(batch)
        assert not gc.isenabled()  # a caller's choice to keep it off is kept
    finally:
        gc.enable()


def test_returned_lists_are_independent():
    tok = _tokenizer_with_large_ids()
    a, b = tok.encode_ordinary_batch(["ab", "ab"])
    a.append(7)
    assert b == [300_000]
    assert tok.encode("ab") == [300_000]
