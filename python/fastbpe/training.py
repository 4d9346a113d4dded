"""Byte-level BPE training (Stanford CS336's rule), in Rust, on all cores.

    >>> vocab, merges = fastbpe.train_bpe("corpus.txt", 10_000, ["<|endoftext|>"])   # CS336
    >>> tok = fastbpe.train(["a.txt", "b.txt"], 32_000, ["<|endoftext|>"], progress=True)
    >>> tok = fastbpe.train(iter(dataset_texts), 32_000)                          # any iterable

Rules
-----
* Special tokens are cut out of the text first and act as document separators; no pair crosses
  them, nor a pre-token boundary (GPT-2's pattern by default), nor a file or text boundary.
* Each step merges the most frequent adjacent pair (64-bit counts); ties go to the
  lexicographically greater ``(left_bytes, right_bytes)``.
* Ids: special tokens ``0..k-1`` in the given order, then the 256 bytes ``k..k+255`` in byte order,
  then new tokens in the order merges created them. ``vocab_size`` counts all of them.
* A merge whose bytes already are a token (``(a, bc)`` after ``(ab, c)``) is listed in ``merges``
  but gets no second id; training goes on until there are ``vocab_size`` distinct tokens.
* If the corpus runs out of pairs first, training stops with a smaller vocabulary and warns
  (`ShortVocabularyWarning`, always). An empty corpus gives just the special tokens and the 256
  bytes.
* A text file object (``open(path)``) is one stream of text, as in ``encode_iterable``: special
  tokens separate its documents, not its lines. Any other iterable yields one document per str.
* The result is the same for any number of threads, chunking or hash seed.
"""

from __future__ import annotations

import io
import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Union

from . import _fastbpe
from ._text import last_safe_cut

if TYPE_CHECKING:
    from .tokenizer import Tokenizer

StrPath = Union[str, "os.PathLike[str]"]

WordCounts = _fastbpe.WordCounts

__all__ = [
    "ShortVocabularyWarning",
    "WordCounts",
    "count_words",
    "train",
    "train_bpe",
    "train_from_counts",
]


class ShortVocabularyWarning(UserWarning):
    """Training ran out of pairs to merge before reaching `vocab_size`."""


# ----------------------------------------------------------------------------- argument checks


def _check_vocab_size(vocab_size: object) -> int:
    if not isinstance(vocab_size, int) or isinstance(vocab_size, bool):
        raise TypeError(f"vocab_size must be an int, got {type(vocab_size).__name__}")
    if vocab_size < 0:
        raise ValueError(f"vocab_size must be positive, got {vocab_size}")
    # Its bounds (256 + specials .. 2**32) are checked in Rust (MergeOptions::check), once.
    return vocab_size


def _check_specials(special_tokens: object) -> list[str]:
    if special_tokens is None:
        return []
    if isinstance(special_tokens, (str, bytes)) or not isinstance(special_tokens, Iterable):
        raise TypeError(
            'special_tokens must be a list of str (e.g. ["<|endoftext|>"]), '
            f"got {type(special_tokens).__name__}"
        )
    out = list(special_tokens)
    for t in out:
        if not isinstance(t, str):
            raise TypeError(f"special tokens must be str, got {type(t).__name__}: {t!r}")
        if not t:
            raise ValueError("special tokens must not be empty strings")
    seen: set[str] = set()
    for t in out:
        if t in seen:
            raise ValueError(f"duplicate special token {t!r}")
        seen.add(t)
    return out


def _check_vocab_fits(vocab_size: int, specials: list[str]) -> None:
    # The rule lives in Rust (MergeOptions::check); asked here so a bad vocab_size fails before
    # any counting.
    _fastbpe.check_merge_args(vocab_size, specials)


def _check_threads(threads: object) -> int | None:
    if threads is None:
        return None
    if not isinstance(threads, int) or isinstance(threads, bool):
        raise TypeError(f"threads must be an int or None, got {type(threads).__name__}")
    # The range (1..=1024; None = all cores) is checked in Rust (parallel::threads), once.
    return threads


def _check_min_frequency(min_frequency: object) -> int:
    if not isinstance(min_frequency, int) or isinstance(min_frequency, bool):
        raise TypeError(f"min_frequency must be an int, got {type(min_frequency).__name__}")
    if min_frequency < 0:
        raise ValueError(f"min_frequency must be >= 0, got {min_frequency}")
    return min_frequency


def _show_progress(progress: object) -> bool:
    """`progress=None` (the default) means: when stderr is a terminal, as in `encode_file`."""
    return sys.stderr.isatty() if progress is None else bool(progress)


def _check_pattern(pattern: object) -> str | None:
    if pattern is not None and not isinstance(pattern, str):
        raise TypeError(f"pattern must be a str (a regex) or None, got {type(pattern).__name__}")
    return pattern


def _check_errors(errors: object) -> str:
    if errors not in ("strict", "replace"):
        raise ValueError(f'errors must be "strict" or "replace", got {errors!r}')
    return errors  # type: ignore[return-value]


def _is_path(x: object) -> bool:
    return isinstance(x, (str, os.PathLike))


def _fspath(p: StrPath) -> str:
    path = os.fspath(p)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    return path


def _missing_path_error(p: str) -> FileNotFoundError:
    msg = f"No such file: {p[:80]!r}"
    if "\n" in p or len(p) > 1000 or " " in p.strip():
        msg += (
            " (a str or a list/tuple of str is read as file paths; to train on in-memory texts, "
            "pass an iterator, e.g. iter(texts))"
        )
    return FileNotFoundError(2, msg, p)


def _is_file_object(source: object) -> bool:
    return isinstance(source, io.IOBase) or (
        callable(getattr(source, "read", None)) and not isinstance(source, (str, bytes))
    )


def _stream_documents(
    f: Any, special_tokens: list[str], pattern: str | None, block_chars: int = 1 << 20
) -> Iterator[str]:
    """A text file object's text as pieces cut only where the counts cannot change: the core's
    safe cuts (rust/src/cut/README.md), the rule training, `encode_file` and `encode_iterable`
    share. Counting the pieces one by one counts the whole stream. A stretch without a cut
    stays in one piece."""
    buf = ""
    # Look for a cut only once the buffer has doubled since the last look found none: linear time.
    threshold = block_chars
    while True:
        block = f.read(block_chars)
        if isinstance(block, (bytes, bytearray)):
            raise TypeError(
                "train() got a binary file object; open the file in text mode "
                "(open(path, encoding='utf-8')) or pass its path"
            )
        if not block:
            break
        if not isinstance(block, str):
            raise TypeError(f"the file object's read() returned {type(block).__name__}, not str")
        buf += block
        if len(buf) < threshold:
            continue
        cut = last_safe_cut(buf, special_tokens, pattern)
        if cut > 0:
            yield buf[:cut]
            buf = buf[cut:]
        threshold = max(block_chars, 2 * len(buf))
    if buf:
        yield buf


def _as_paths(source: object) -> list[str] | None:
    """File paths when `source` names files, None when it is an iterable of texts."""
    if isinstance(source, bytes):
        raise TypeError(
            "expected a path (str or os.PathLike), a list of paths, or an iterable of str; "
            "got bytes"
        )
    if _is_path(source):
        paths = [_fspath(source)]  # type: ignore[arg-type]
    elif isinstance(source, (list, tuple)):
        for i, p in enumerate(source):
            if not _is_path(p):
                raise TypeError(
                    "a list or tuple must hold file paths (str or os.PathLike); item "
                    f"{i} is {type(p).__name__}. To train on in-memory texts, pass an iterator, "
                    "e.g. iter(texts)"
                )
        paths = [_fspath(p) for p in source]
    else:
        if not isinstance(source, Iterable):
            raise TypeError(
                "expected a path (str or os.PathLike), a list of paths, or an iterable of str; "
                f"got {type(source).__name__}"
            )
        return None
    for p in paths:
        if p != "-" and not os.path.lexists(p):  # "-": standard input, read as a stream
            raise _missing_path_error(p)
    return paths


# ----------------------------------------------------------------------------- the steps


def count_words(
    files_or_iterable: StrPath | Iterable[StrPath] | Iterable[str],
    special_tokens: list[str] | None = None,
    *,
    pattern: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
    errors: str = "strict",
    _chunk_size: int | None = None,
) -> WordCounts:
    """The counting step alone: pre-token counts of files or texts, as a `WordCounts`.

    Counts from several calls (or processes: `WordCounts` pickles) combine with
    ``counts.update(other)``; then `train_from_counts` learns the merges. A text file object is
    one stream (see the module docstring).
    """
    specials = _check_specials(special_tokens)
    pattern = _check_pattern(pattern)
    threads = _check_threads(threads)
    errors = _check_errors(errors)
    show = _show_progress(progress)
    if _is_file_object(files_or_iterable):
        texts: Any = _stream_documents(files_or_iterable, specials, pattern)
        return _fastbpe.count_iter(texts, specials, pattern, threads, _chunk_size, errors, show)
    paths = _as_paths(files_or_iterable)
    if paths is not None:
        return _fastbpe.count_files(paths, specials, pattern, threads, _chunk_size, errors, show)
    return _fastbpe.count_iter(
        files_or_iterable, specials, pattern, threads, _chunk_size, errors, show
    )


def train_from_counts(
    counts: WordCounts,
    vocab_size: int,
    special_tokens: list[str] | None = None,
    *,
    min_frequency: int = 0,
    threads: int | None = None,
    progress: bool | None = None,
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    """The merge step alone: (vocab, merges) from a `WordCounts`. Warns
    (`ShortVocabularyWarning`) when the pairs run out before `vocab_size`."""
    vocab, merges, short = _merge(
        counts, vocab_size, special_tokens, min_frequency, threads, progress
    )
    if short:
        _warn_short(short, progress)
    return vocab, merges


def _warn_short(short: str, progress: bool | None) -> None:
    """The short-vocabulary warning: always a `ShortVocabularyWarning` (pointing at the caller of
    the public function); with progress shown, also a line on stderr after the progress lines."""
    warnings.warn(short, ShortVocabularyWarning, stacklevel=3)
    if _show_progress(progress):
        print(f"fastbpe: warning: {short}", file=sys.stderr)


def _merge(
    counts: WordCounts,
    vocab_size: int,
    special_tokens: list[str] | None,
    min_frequency: int,
    threads: int | None,
    progress: bool | None,
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]], str | None]:
    """(vocab, merges, the warning to give when the vocabulary came out short, else None)."""
    if not isinstance(counts, WordCounts):
        raise TypeError(f"counts must be a fastbpe WordCounts, got {type(counts).__name__}")
    vocab_size = _check_vocab_size(vocab_size)
    specials = _check_specials(special_tokens)
    _check_vocab_fits(vocab_size, specials)
    vocab, merges, ran_out = _fastbpe.train_from_counts(
        counts,
        vocab_size,
        specials,
        _check_min_frequency(min_frequency),
        _check_threads(threads),
        _show_progress(progress),
    )
    short = None
    if ran_out and len(vocab) < vocab_size:
        short = (
            f"no pair left to merge after {len(merges)} merges: the vocabulary has {len(vocab)} "
            f"tokens instead of {vocab_size} (the corpus is too small for this vocab_size"
            + (", or min_frequency too high" if min_frequency > 1 else "")
            + ")"
        )
    return vocab, merges, short


def _train(
    source: Any,
    vocab_size: int,
    special_tokens: list[str] | None,
    pattern: str | None,
    threads: int | None,
    min_frequency: int,
    progress: bool | None,
    errors: str,
    chunk_size: int | None,
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]], list[str], str | None]:
    # Cheap checks first, so a bad argument does not cost a pass over the corpus.
    vocab_size = _check_vocab_size(vocab_size)
    specials = _check_specials(special_tokens)
    _check_vocab_fits(vocab_size, specials)
    min_frequency = _check_min_frequency(min_frequency)
    threads = _check_threads(threads)
    counts = count_words(
        source,
        specials,
        pattern=pattern,
        threads=threads,
        progress=progress,
        errors=errors,
        _chunk_size=chunk_size,
    )
    vocab, merges, short = _merge(counts, vocab_size, specials, min_frequency, threads, progress)
    return vocab, merges, specials, short


# ----------------------------------------------------------------------------- public entry points


def train_bpe(
    input_path: StrPath,
    vocab_size: int,
    special_tokens: list[str],
    *,
    pattern: str | None = None,
    threads: int | None = None,
    min_frequency: int = 0,
    progress: bool | None = None,
    errors: str = "strict",
    _chunk_size: int | None = None,
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    """Stanford CS336's ``train_bpe``: trains on one UTF-8 text file.

    Returns ``(vocab, merges)``: ``vocab`` maps id -> token bytes (special tokens first, then the
    256 bytes, then merged tokens); ``merges`` lists ``(left, right)`` byte pairs in the order
    learned. See the module docstring for the exact rules.

    Raises FileNotFoundError / IsADirectoryError for a bad path, ValueError for a vocab_size below
    256 + len(special_tokens), empty or duplicate special tokens, or bytes that are not UTF-8
    (naming the file and byte offset; ``errors="replace"`` substitutes U+FFFD instead).
    """
    if not _is_path(input_path) or isinstance(input_path, bytes):
        raise TypeError(f"input_path must be a str or os.PathLike, got {type(input_path).__name__}")
    vocab, merges, _, short = _train(
        input_path,
        vocab_size,
        special_tokens,
        pattern,
        threads,
        min_frequency,
        progress,
        errors,
        _chunk_size,
    )
    if short:
        _warn_short(short, progress)
    return vocab, merges


def train(
    files_or_iterable: StrPath | Iterable[StrPath] | Iterable[str],
    vocab_size: int,
    special_tokens: list[str] | None = None,
    *,
    pattern: str | None = None,
    threads: int | None = None,
    min_frequency: int = 0,
    progress: bool | None = None,
    errors: str = "strict",
    _chunk_size: int | None = None,
) -> Tokenizer:
    """Trains a byte-level BPE tokenizer and returns it ready to encode.

    ``files_or_iterable``:
      * a path (str or os.PathLike), or a list/tuple of paths: files are read in parallel
        chunks; each file is a separate input;
      * a text file object (``open(path)``): one stream of text, as ``encode_iterable`` reads
        it; special tokens separate documents (a binary file object is refused);
      * any other iterable of str (a generator, a dataset column, ``iter(list_of_texts)``): read
        in batches while earlier batches are counted; each str is a separate document.

    ``pattern``: the pre-tokenization regex (default GPT-2's). ``threads``: worker threads (default:
    all cores). ``min_frequency``: pairs seen fewer times are never merged (default 0, which like 1
    allows every pair that occurs). ``progress``: counting (MB, MB/s) and merging (merges done) on
    stderr, redrawn in place on a terminal, plain lines every few seconds otherwise (default: when
    stderr is a terminal, as for `encode_file`). ``errors``: ``"strict"`` (non-UTF-8 bytes raise ValueError naming the file and offset;
    lone surrogates in str items raise) or ``"replace"`` (U+FFFD). Ctrl-C raises KeyboardInterrupt.
    """
    from .tokenizer import Tokenizer

    vocab, merges, specials, short = _train(
        files_or_iterable,
        vocab_size,
        special_tokens,
        pattern,
        threads,
        min_frequency,
        progress,
        errors,
        _chunk_size,
    )
    if short:
        _warn_short(short, progress)
    return Tokenizer(vocab, merges, specials or None, pattern=pattern)
