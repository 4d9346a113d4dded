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


def _refcounts(objs: list[int]) -> list[int]:
    import sys

    return [sys.getrefcount(o) for o in objs]


def test_long_lists_count_their_references_exactly():
    # Lists from 4096 ids on take their references to the shared ints in counted runs
    # (id_lists.rs, `Refs`), and past 2**20 ids in several chunks; a miscount would show up as a
    # reference count that does not come back, or as a crash once an int is freed early.
    import random

    ranks = {bytes([i]): i for i in range(256)}
    ranks.update({b"ab": 300_000, b"cd": 1_000, b" x": 1_001, b"yz": 1_002})
    tok = fastbpe.Tokenizer.from_ranks(ranks)
    rng = random.Random(7)
    text = "".join(rng.choice(["ab", "cd", " x", "yz", "\n"]) for _ in range(1_200_000))
    want = tok.encode_to_numpy(text).tolist()  # built without the shared ints
    # The shared int objects themselves (ints above 256 are not interned, so a literal 1000
    # would be another object, and CPython's small ints are referenced from everywhere);
    # 300_000 is above the cache and made per use.
    probe = tok.encode_ordinary("cd xyz")
    assert probe == [1_000, 1_001, 1_002]
    before = _refcounts(probe)
    ids = tok.encode_ordinary(text)
    assert len(ids) > 1 << 20 and ids == want
    assert gc.is_tracked(ids)
    during = _refcounts(probe)
    for obj, b, d in zip(probe, before, during):
        assert d - b == sum(1 for i in ids if i is obj)
        assert d - b == ids.count(obj)
    del obj
    del ids
    gc.collect()
    assert _refcounts(probe) == before
    # The same through a batch of long texts (lists made while other texts are encoded).
    lists = tok.encode_ordinary_batch([text, text[:50_000]], num_threads=2)
    assert lists == [want, tok.encode_to_numpy(text[:50_000]).tolist()]
    del lists
    assert _refcounts(probe) == before


def test_batches_of_short_lists_count_their_references_exactly():
    # The lists of a batch step take their references together (`IdObjects::build`): many
    # short lists, several steps, and steps past 2**20 ids (the GIL is given away inside them).
    import random

    ranks = {bytes([i]): i for i in range(256)}
    ranks.update({b"ab": 300_000, b"cd": 1_000, b" x": 1_001, b"yz": 1_002})
    tok = fastbpe.Tokenizer.from_ranks(ranks)
    rng = random.Random(11)
    lines = [
        "".join(rng.choice(["ab", "cd", " x", "yz"]) for _ in range(rng.randrange(0, 12)))
        for _ in range(250_000)
    ]
    probe = tok.encode_ordinary("cd xyz")
    before = _refcounts(probe)
    for threads in (1, 2):
        lists = tok.encode_ordinary_batch(lines, num_threads=threads)
        assert sum(map(len, lists)) > 1 << 20
        during = _refcounts(probe)
        for obj, b, d in zip(probe, before, during):
            assert d - b == sum(lst.count(obj) for lst in lists)
        del obj
        assert lists[:50] == [tok.encode_ordinary(t) for t in lines[:50]]
        del lists
        gc.collect()
        assert _refcounts(probe) == before
