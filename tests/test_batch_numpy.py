"""`encode_batch_to_numpy`: one id array plus offsets, equal to `encode_batch` (and so to
tiktoken), with the same special-token rules and dtype choices as `encode_to_numpy`."""

import fastbpe
import numpy as np
import pytest


def _split(ids: np.ndarray, offsets: np.ndarray) -> list[list[int]]:
    return [ids[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]


def test_equals_tiktoken_batch(gpt2_fastbpe, gpt2_tiktoken, varied_text):
    docs = varied_text[:1_000_000].split("\n\n") + ["", "x", ""]
    ids, offsets = gpt2_fastbpe.encode_batch_to_numpy(docs, disallowed_special=())
    assert ids.dtype == np.uint16 and offsets.dtype == np.int64
    assert len(offsets) == len(docs) + 1 and offsets[0] == 0 and offsets[-1] == len(ids)
    assert _split(ids, offsets) == gpt2_tiktoken.encode_ordinary_batch(docs)
    for threads in (1, 2):
        again, again_offsets = gpt2_fastbpe.encode_batch_to_numpy(
            docs, disallowed_special=(), num_threads=threads
        )
        assert np.array_equal(again, ids) and np.array_equal(again_offsets, offsets)


def test_special_tokens_follow_encode_batch(gpt2_fastbpe):
    docs = ["a<|endoftext|>b", "plain"]
    with pytest.raises(ValueError, match="disallowed special token"):
        gpt2_fastbpe.encode_batch_to_numpy(docs)
    ids, offsets = gpt2_fastbpe.encode_batch_to_numpy(docs, allowed_special="all")
    assert _split(ids, offsets) == gpt2_fastbpe.encode_batch(docs, allowed_special="all")
    assert 50256 in ids.tolist()


def test_empty_batch_surrogates_and_dtypes(gpt2_fastbpe):
    ids, offsets = gpt2_fastbpe.encode_batch_to_numpy([])
    assert ids.tolist() == [] and offsets.tolist() == [0]
    docs = ["lone \ud800 surrogate", "ok"]
    ids, offsets = gpt2_fastbpe.encode_batch_to_numpy(docs, dtype=np.uint32)
    assert ids.dtype == np.uint32
    assert _split(ids, offsets) == gpt2_fastbpe.encode_batch(docs)
    with pytest.raises(ValueError, match="uint16 or uint32"):
        gpt2_fastbpe.encode_batch_to_numpy(docs, dtype=np.int8)
    with pytest.raises(TypeError):
        gpt2_fastbpe.encode_batch_to_numpy("not a list")
    with pytest.raises(TypeError):
        gpt2_fastbpe.encode_batch_to_numpy(["ok", 3])


def test_large_ids_need_uint32():
    ranks = {bytes([i]): i for i in range(256)}
    ranks[b"ab"] = 70_000
    tok = fastbpe.Tokenizer.from_ranks(ranks)
    ids, offsets = tok.encode_batch_to_numpy(["ab", "bab"])
    assert ids.dtype == np.uint32
    assert _split(ids, offsets) == [[70_000], [ord("b"), 70_000]]
    with pytest.raises(ValueError, match="do not fit in uint16"):
        tok.encode_batch_to_numpy(["ab"], dtype=np.uint16)
