"""The `Tokenizer` class: Stanford CS336's interface and tiktoken's `Encoding` surface in one.

`Tokenizer.encode` follows CS336: the tokenizer's own special tokens are always recognized.
`Encoding` (encoding.py; what `get_encoding` returns) is the same class with tiktoken's defaults
and constructor. Both accept tiktoken's `allowed_special`/`disallowed_special`.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, Union

from . import _fastbpe
from ._text import fix_surrogates, last_safe_cut

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

GPT2_PATTERN: str = _fastbpe.GPT2_PATTERN

StrPath = Union[str, "os.PathLike[str]"]
AllowedSpecial = Union[Literal["all"], Collection[str]]
_T = TypeVar("_T")


def _disallowed_error(token: str) -> ValueError:
    # tiktoken's exact wording: users' code and tests match on it.
    return ValueError(
        f"Encountered text corresponding to disallowed special token {token!r}.\n"
        "If you want this text to be encoded as a special token, "
        f"pass it to `allowed_special`, e.g. `allowed_special={{{token!r}, ...}}`.\n"
        f"If you want this text to be encoded as normal text, disable the check for this token "
        f"by passing `disallowed_special=(enc.special_tokens_set - {{{token!r}}})`.\n"
        "To disable this check for all special tokens, pass `disallowed_special=()`.\n"
    )


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"expected text as str, got {type(text).__name__}")
    return text


def _check_ids(ids: object) -> list[int]:
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise TypeError(f"expected a sequence of int token ids, got {type(ids).__name__}")
    out = list(ids)
    for i in out:
        if not isinstance(i, int) or isinstance(i, bool):
            # numpy integers are accepted through __index__
            if hasattr(i, "__index__") and not isinstance(i, bool):
                continue
            raise TypeError(f"token ids must be int, got {type(i).__name__}: {i!r}")
    return [int(i) for i in out]


class Tokenizer:
    """A byte-level BPE tokenizer.

    Build one from a CS336 vocabulary and merges::

        >>> tok = Tokenizer(vocab, merges, special_tokens=["<|endoftext|>"])
        >>> tok.decode(tok.encode("hello<|endoftext|>"))
        'hello<|endoftext|>'

    or load one: `Tokenizer.from_files(vocab.json, merges.txt)`, `Tokenizer.from_tiktoken_file`,
    `Tokenizer.from_tiktoken(enc)`, `fastbpe.get_encoding("gpt2")`, `fastbpe.load(path)`.
    """

    # CS336: the tokenizer's own special tokens are always recognized.
    _default_allowed: AllowedSpecial = "all"
    _default_disallowed: AllowedSpecial = ()

    def __init__(
        self,
        vocab: dict[int, bytes],
        merges: list[tuple[bytes, bytes]],
        special_tokens: list[str] | None = None,
        *,
        pattern: str | None = None,
        name: str | None = None,
    ) -> None:
        if not isinstance(vocab, dict):
            raise TypeError(f"vocab must be a dict[int, bytes], got {type(vocab).__name__}")
        if not isinstance(merges, (list, tuple)):
            raise TypeError(f"merges must be a list of (bytes, bytes), got {type(merges).__name__}")
        items: list[tuple[int, bytes]] = []
        for k, v in vocab.items():
            if not isinstance(k, int) or not isinstance(v, (bytes, bytearray)):
                raise TypeError(f"vocab must map int -> bytes, found {k!r}: {v!r}")
            if k < 0:
                raise ValueError(f"vocab ids must be non-negative, found {k}")
            items.append((k, bytes(v)))
        pairs: list[tuple[bytes, bytes]] = []
        for m in merges:
            if (
                not isinstance(m, (tuple, list))
                or len(m) != 2
                or not all(isinstance(x, (bytes, bytearray)) for x in m)
            ):
                raise TypeError(f"each merge must be a (bytes, bytes) pair, found {m!r}")
            pairs.append((bytes(m[0]), bytes(m[1])))
        specials = _check_special_tokens(special_tokens)
        core = _fastbpe.CoreTokenizer.from_vocab_merges(
            items, pairs, specials, pattern or GPT2_PATTERN
        )
        self._init_core(core, name)

    def _init_core(self, core: Any, name: str | None) -> None:
        self._core = core
        self._name = name
        self._special_tokens: dict[str, int] = dict(core.special_tokens())

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles whole (fastbpe's own format), so the receiving process needs no files or cache:
        # multiprocessing, `datasets.map(num_proc=...)` and friends just work.
        return (_unpickle, (type(self), _fastbpe.native_to_string(self._core, self._name)))

    @classmethod
    def _from_core(cls, core: Any, name: str | None = None) -> Tokenizer:
        self = cls.__new__(cls)
        self._init_core(core, name)
        return self

    # ---------------------------------------------------------------- constructors

    @classmethod
    def from_files(
        cls,
        vocab_filepath: StrPath,
        merges_filepath: StrPath,
        special_tokens: list[str] | None = None,
        *,
        pattern: str | None = None,
    ) -> Tokenizer:
        """Loads GPT-2/HF `vocab.json` + `merges.txt` (GPT-2's `encoder.json` + `vocab.bpe` too)."""
        core = _fastbpe.CoreTokenizer.from_hf_files(
            _path(vocab_filepath),
            _path(merges_filepath),
            _check_special_tokens(special_tokens),
            pattern or GPT2_PATTERN,
        )
        return cls._from_core(core)

    @classmethod
    def from_tiktoken_file(
        cls,
        path: StrPath,
        special_tokens: dict[str, int] | None = None,
        *,
        pattern: str | None = None,
        name: str | None = None,
    ) -> Tokenizer:
        """Loads a `.tiktoken` file (base64 token, rank per line); ranks are the ids."""
        specials = list((special_tokens or {}).items())
        core = _fastbpe.CoreTokenizer.from_tiktoken_file(
            _path(path), specials, pattern or GPT2_PATTERN
        )
        return cls._from_core(core, name)

    @classmethod
    def from_ranks(
        cls,
        mergeable_ranks: dict[bytes, int],
        special_tokens: dict[str, int] | None = None,
        *,
        pattern: str | None = None,
        name: str | None = None,
    ) -> Tokenizer:
        """From tiktoken-style `mergeable_ranks` (bytes -> rank, also the id)."""
        core = _fastbpe.CoreTokenizer.from_ranks(
            list(mergeable_ranks.items()),
            list((special_tokens or {}).items()),
            pattern or GPT2_PATTERN,
        )
        return cls._from_core(core, name)

    @classmethod
    def from_tiktoken(cls, encoding: Any) -> Tokenizer:
        """From a `tiktoken.Encoding` (its ranks, special tokens and pattern)."""
        try:
            ranks = encoding._mergeable_ranks
            specials = encoding._special_tokens
            pattern = encoding._pat_str
        except AttributeError as e:
            raise TypeError(f"expected a tiktoken.Encoding, got {type(encoding).__name__}") from e
        return cls.from_ranks(ranks, specials, pattern=pattern, name=encoding.name)

    # ---------------------------------------------------------------- properties

    @property
    def name(self) -> str:
        """The encoding's name ("gpt2", a file's stem, or "fastbpe")."""
        return self._name or "fastbpe"

    @property
    def n_vocab(self) -> int:
        """One more than the largest token id (tiktoken's definition)."""
        return int(self._core.n_vocab)

    @property
    def max_token_value(self) -> int:
        """The largest id (`n_vocab - 1`), as in tiktoken."""
        return self.n_vocab - 1

    @property
    def pattern(self) -> str:
        """The pre-tokenization regex."""
        return str(self._core.pattern)

    @property
    def _pat_str(self) -> str:
        """tiktoken's name for `pattern` (code that rebuilds an `Encoding` reads it)."""
        return self.pattern

    @functools.cached_property
    def _mergeable_ranks(self) -> dict[bytes, int]:
        """tiktoken's `mergeable_ranks` (bytes -> rank = id); see `convert.tiktoken_ranks`."""
        from .convert import tiktoken_ranks

        return tiktoken_ranks(self)

    @property
    def special_tokens(self) -> dict[str, int]:
        """Special token -> id."""
        return dict(self._special_tokens)

    @property
    def special_tokens_set(self) -> set[str]:
        """The special tokens' strings, e.g. `{"<|endoftext|>"}`."""
        return set(self._special_tokens)

    @property
    def eot_token(self) -> int:
        """The id of `<|endoftext|>` (50256 for GPT-2); ValueError when there is none."""
        try:
            return self._special_tokens["<|endoftext|>"]
        except KeyError:
            raise AttributeError("this tokenizer has no <|endoftext|> token") from None

    @property
    def vocab(self) -> dict[int, bytes]:
        """id -> bytes for every id (a new dict each call)."""
        return dict(self._core.vocab())

    @property
    def merges(self) -> list[tuple[bytes, bytes]]:
        """The merges in order. Derived from the ranks when the tokenizer was loaded from ranks."""
        merges = self._core.merges()
        if merges is None:
            from .convert import merges_from_ranks

            merges = merges_from_ranks(self)
        return list(merges)

    def token_byte_values(self) -> list[bytes]:
        """Bytes of every mergeable (non-special) token, sorted (as tiktoken)."""
        return sorted(b for b, _ in self._core.ranked())

    def is_special_token(self, token: int) -> bool:
        """Whether `token` is the id of a special token: `enc.is_special_token(enc.eot_token)`."""
        return token in self._special_tokens.values()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} n_vocab={self.n_vocab}>"

    # ---------------------------------------------------------------- encoding

    def _resolve_special(
        self,
        texts: Iterable[str],
        allowed_special: AllowedSpecial | None,
        disallowed_special: AllowedSpecial | None,
    ) -> tuple[bool, list[str]]:
        """tiktoken's rules (None: this class's default): returns (all allowed?, allowed list);
        raises when one of `texts` holds disallowed text."""
        disallowed, all_allowed, allowed = self._special_rule(allowed_special, disallowed_special)
        if disallowed is not None:
            for text in texts:
                found = disallowed.search(text)
                if found is not None:
                    raise _disallowed_error(found.group())
        return all_allowed, allowed

    def _special_rule(
        self, allowed_special: AllowedSpecial | None, disallowed_special: AllowedSpecial | None
    ) -> tuple[re.Pattern[str] | None, bool, list[str]]:
        """(regex of disallowed strings or None, all allowed?, allowed list) for these arguments.

        Cached per tokenizer: working it out costs several times more than encoding a sentence,
        and most calls pass the same (default) arguments.
        """
        if allowed_special is None:
            allowed_special = self._default_allowed
        if disallowed_special is None:
            disallowed_special = self._default_disallowed
        key = (_as_key(allowed_special), _as_key(disallowed_special))
        rules: dict[Any, Any] = self.__dict__.setdefault("_special_rules", {})
        rule = rules.get(key)
        if rule is not None:
            return rule  # type: ignore[no-any-return]
        specials = set(self._special_tokens)
        allowed = specials if key[0] == "all" else set(key[0])
        disallowed = specials - allowed if key[1] == "all" else set(key[1])
        # As tiktoken: every string in `disallowed_special` is searched for, special or not...
        regex = _disallowed_regex(frozenset(disallowed)) if disallowed else None
        # ...and names in `allowed_special` that are not special tokens are ignored.
        allowed &= specials
        rule = (regex, allowed == specials and bool(allowed), sorted(allowed))
        if len(rules) >= 64:  # callers inventing new sets on every call: keep the cache small
            rules.clear()
        rules[key] = rule
        return rule

    def _encode_with_specials(
        self,
        core_method: Callable[..., _T],
        text: str,
        allowed_special: AllowedSpecial | None,
        disallowed_special: AllowedSpecial | None,
        *extra: Any,
    ) -> _T:
        """`core_method(text, all_allowed, allowed, *extra)` under tiktoken's special-token rules
        (None: this class's default), with lone surrogates made U+FFFD as tiktoken does."""
        text = _check_text(text)
        all_allowed, allowed = self._resolve_special((text,), allowed_special, disallowed_special)
        try:
            return core_method(text, all_allowed, allowed, *extra)
        except UnicodeEncodeError:
            return core_method(fix_surrogates(text), all_allowed, allowed, *extra)

    def encode(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial | None = None,
        disallowed_special: AllowedSpecial | None = None,
    ) -> list[int]:
        """Encodes `text` to ids.

        >>> enc = fastbpe.get_encoding("gpt2")
        >>> enc.encode("hello world")
        [31373, 995]
        """
        return self._encode_with_specials(
            self._core.encode, text, allowed_special, disallowed_special
        )

    def encode_ordinary(self, text: str) -> list[int]:
        """Encodes `text` treating special-token text as ordinary text."""
        text = _check_text(text)
        try:
            return self._core.encode_ordinary(text)
        except UnicodeEncodeError:
            return self._core.encode_ordinary(fix_surrogates(text))

    def encode_single_token(self, text_or_bytes: str | bytes) -> int:
        """The id of a text that is exactly one token (special tokens included)."""
        if isinstance(text_or_bytes, str):
            if text_or_bytes in self._special_tokens:
                return self._special_tokens[text_or_bytes]
            text_or_bytes = text_or_bytes.encode("utf-8")
        found = self._core.token_id(bytes(text_or_bytes))
        if found is None:
            # Special tokens count as single tokens whether given as str or bytes (tiktoken).
            for name, id_ in self._special_tokens.items():
                if name.encode("utf-8") == bytes(text_or_bytes):
                    return id_
            raise KeyError(text_or_bytes)
        return int(found)

    def encode_with_unstable(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial | None = None,
        disallowed_special: AllowedSpecial | None = None,
    ) -> tuple[list[int], list[list[int]]]:
        """tiktoken's: the ids of the part of `text` that more text cannot change, and every id
        sequence the rest may become (sorted; tiktoken's order is arbitrary).

        >>> stable, completions = enc.encode_with_unstable("hello fanta")
        >>> stable
        [31373]
        """
        return self._encode_with_specials(
            self._core.encode_with_unstable, text, allowed_special, disallowed_special
        )

    def encode_batch(
        self,
        text: list[str],
        *,
        num_threads: int | None = None,
        allowed_special: AllowedSpecial | None = None,
        disallowed_special: AllowedSpecial | None = None,
    ) -> list[list[int]]:
        """Encodes many texts in parallel on all cores (Rust threads, GIL released)."""
        texts = _check_texts(text)
        all_allowed, allowed = self._resolve_special(texts, allowed_special, disallowed_special)
        if not texts:
            return []
        return self._batch(self._core.encode_batch, texts, all_allowed, allowed, num_threads)

    def encode_ordinary_batch(
        self, text: list[str], *, num_threads: int | None = None
    ) -> list[list[int]]:
        """Encodes many texts in parallel, special-token text as ordinary text."""
        return self._batch(self._core.encode_batch, _check_texts(text), False, [], num_threads)

    def _batch(
        self,
        core_method: Callable[..., _T],
        texts: list[str],
        all_allowed: bool,
        allowed: list[str],
        num_threads: int | None,
        *extra: Any,
    ) -> _T:
        """`core_method(texts, all_allowed, allowed, num_threads, *extra)`, with lone surrogates
        made U+FFFD as tiktoken does."""
        try:
            return core_method(texts, all_allowed, allowed, num_threads, *extra)
        except UnicodeEncodeError:
            fixed = [fix_surrogates(t) for t in texts]
            return core_method(fixed, all_allowed, allowed, num_threads, *extra)

    @property
    def numpy_dtype(self) -> Any:
        """`numpy.uint16` when every id fits, else `numpy.uint32`."""
        import numpy as np

        return np.uint16 if self.n_vocab <= 1 << 16 else np.uint32

    def encode_to_numpy(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial | None = None,
        disallowed_special: AllowedSpecial | None = None,
        dtype: Any = None,
    ) -> npt.NDArray[np.unsignedinteger[Any]]:
        """Encodes to a numpy array: uint16 when the vocabulary fits, else uint32."""
        import numpy as np

        text = _check_text(text)
        dt = self._checked_dtype(dtype)
        buf = self._encode_with_specials(
            self._core.encode_to_buffer, text, allowed_special, disallowed_special, dt.itemsize
        )
        return np.frombuffer(buf, dtype=dt.newbyteorder("<")).astype(dt, copy=False)

    def encode_batch_to_numpy(
        self,
        text: list[str],
        *,
        num_threads: int | None = None,
        allowed_special: AllowedSpecial | None = None,
        disallowed_special: AllowedSpecial | None = None,
        dtype: Any = None,
    ) -> tuple[npt.NDArray[np.unsignedinteger[Any]], npt.NDArray[np.int64]]:
        """`encode_batch` as numpy: every text's ids in one array (uint16 when the vocabulary
        fits, else uint32) and int64 offsets, one more than the texts: text i's ids are
        `ids[offsets[i]:offsets[i + 1]]`. No Python int is made, so this is the fast way to turn
        many documents into training data.

        >>> ids, offsets = enc.encode_batch_to_numpy(["hello world", "hi"])
        >>> ids.tolist(), offsets.tolist()
        ([31373, 995, 5303], [0, 2, 3])
        """
        import numpy as np

        texts = _check_texts(text)
        dt = self._checked_dtype(dtype)
        all_allowed, allowed = self._resolve_special(texts, allowed_special, disallowed_special)
        ids, offsets = self._batch(
            self._core.encode_batch_to_buffers,
            texts,
            all_allowed,
            allowed,
            num_threads,
            dt.itemsize,
        )
        return (
            np.frombuffer(ids, dtype=dt.newbyteorder("<")).astype(dt, copy=False),
            np.frombuffer(offsets, dtype="<i8").astype(np.int64, copy=False),
        )

    def _checked_dtype(self, dtype: Any) -> Any:
        """numpy dtype for ids: `dtype` (uint16 or uint32) or, when None, `numpy_dtype`."""
        import numpy as np

        dt = np.dtype(dtype or self.numpy_dtype)
        if dt not in (np.dtype(np.uint16), np.dtype(np.uint32)):
            raise ValueError(f"dtype must be uint16 or uint32, got {dt}")
        if dt == np.dtype(np.uint16) and self.n_vocab > 1 << 16:
            raise ValueError(f"ids up to {self.max_token_value} do not fit in uint16")
        return dt

    def encode_iterable(self, iterable: Iterable[str]) -> Iterator[int]:
        """Lazily encodes a stream of strings (e.g. a file's lines) in constant memory.

        Yields the same ids as `encode("".join(iterable))`: text is buffered and cut only at
        points where pre-tokenization is certain to split (just before whitespace that follows
        a non-whitespace character, outside special tokens).
        """
        if isinstance(iterable, str):
            raise TypeError("encode_iterable expects an iterable of str (e.g. a file), not a str")
        parts: list[str] = []
        size = 0
        # Scan for a cut only once the buffer has doubled since the last scan that found none,
        # so a stream without cut points costs linear, not quadratic, time.
        threshold = 1 << 16
        for chunk in iterable:
            if isinstance(chunk, bytes):
                raise TypeError("encode_iterable expects text; open the file in text mode")
            parts.append(_check_text(chunk))
            size += len(chunk)
            if size < threshold:
                continue
            buf = "".join(parts)
            cut = self._safe_cut(buf)
            if cut > 0:
                yield from self.encode(buf[:cut])
                buf = buf[cut:]
            parts, size = [buf], len(buf)
            threshold = max(1 << 16, 2 * size)
        buf = "".join(parts)
        if buf:
            yield from self.encode(buf)

    def _safe_cut(self, buf: str) -> int:
        """The last index where cutting `buf` cannot change the ids (0 when there is none)."""
        return last_safe_cut(buf, self._special_tokens, gpt2_rules=self.pattern == GPT2_PATTERN)

    # ---------------------------------------------------------------- decoding

    def decode_bytes(self, tokens: Sequence[int]) -> bytes:
        """Concatenated bytes of the tokens."""
        return bytes(self._core.decode_bytes(_check_ids(tokens)))

    def decode(self, tokens: Sequence[int], errors: str = "replace") -> str:
        """Decodes to str; invalid UTF-8 becomes U+FFFD (pass errors="strict" to raise)."""
        return self.decode_bytes(tokens).decode("utf-8", errors=errors)

    def decode_single_token_bytes(self, token: int) -> bytes:
        """The bytes of one token: `enc.decode_single_token_bytes(31373) == b"hello"`."""
        if not isinstance(token, int) and not hasattr(token, "__index__"):
            raise TypeError(f"token id must be int, got {type(token).__name__}")
        return bytes(self._core.token_bytes(int(token)))

    def decode_tokens_bytes(self, tokens: Sequence[int]) -> list[bytes]:
        """Each token's bytes: `enc.decode_tokens_bytes([31373, 995]) == [b"hello", b" world"]`."""
        return list(self._core.decode_tokens_bytes(_check_ids(tokens)))

    def decode_with_offsets(self, tokens: Sequence[int]) -> tuple[str, list[int]]:
        """Text and, per token, the index of the first character holding its bytes (tiktoken)."""
        parts = self.decode_tokens_bytes(tokens)
        offsets: list[int] = []
        chars = 0
        for part in parts:
            # A token that starts with a UTF-8 continuation byte belongs to the previous char.
            starts_inside = 1 if 0x80 <= part[0] < 0xC0 else 0
            offsets.append(max(0, chars - starts_inside))
            chars += sum(1 for b in part if not 0x80 <= b < 0xC0)
        return b"".join(parts).decode("utf-8", errors="strict"), offsets

    def decode_bytes_batch(
        self, batch: Sequence[Sequence[int]], *, num_threads: int = 8
    ) -> list[bytes]:
        """`decode_bytes` of each id list (`num_threads` is accepted for tiktoken's signature;
        decoding is a copy per token, faster than handing it to threads)."""
        return [self.decode_bytes(t) for t in batch]

    def decode_batch(self, batch: Sequence[Sequence[int]], *, errors: str = "replace") -> list[str]:
        """`decode` of each id list."""
        return [self.decode(t, errors=errors) for t in batch]

    # ---------------------------------------------------------------- files and conversions
    # Thin delegates to fastbpe.io / fastbpe.convert (see those modules for the details).

    def save(self, path: StrPath, *, format: str | None = None) -> None:
        """Saves the tokenizer (fastbpe's own JSON by default; "hf", "tiktoken", "vocab-merges")."""
        from .io import save

        save(self, path, format=format)  # type: ignore[arg-type]

    def save_tiktoken(self, path: StrPath) -> None:
        """Writes a `.tiktoken` file (ranks only)."""
        from .convert import save_tiktoken

        save_tiktoken(self, path)

    def save_vocab_merges(self, directory: StrPath) -> None:
        """Writes GPT-2/HF `vocab.json` + `merges.txt` into `directory`."""
        from .convert import save_vocab_merges

        save_vocab_merges(self, directory)

    def save_hf(self, path: StrPath) -> None:
        """Writes a Hugging Face `tokenizer.json` that gives the same ids."""
        from .convert import save_hf

        save_hf(self, path)

    def to_tiktoken(self) -> Any:
        """A `tiktoken.Encoding` that gives the same ids."""
        from .convert import to_tiktoken

        return to_tiktoken(self)

    def encode_file(
        self,
        path: StrPath | Sequence[StrPath],
        out_path: StrPath,
        dtype: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Encodes text file(s) into a `.npy`/`.bin` token file, streaming, on all cores; same
        ids as `encode` on the whole text. See `fastbpe.io.encode_file` for the options."""
        from .io import encode_file

        return encode_file(self, path, out_path, dtype=dtype, **kwargs)

    # ---------------------------------------------------------------- seeing tokens (show.py)

    def show(self, text: str, *, ids: bool = False, color: str = "auto") -> str:
        """`text` as tokens for a terminal: alternating background colours (or `|` between
        tokens when stdout is not a terminal), `·` space, `→` tab, `⏎` newline, partial UTF-8
        as hex; a count line first, the ids last when asked. See `fastbpe.show`."""
        from .show import show

        return show(self, text, ids=ids, color=color, name=self.name)  # type: ignore[arg-type]

    def visualize(self, text: str) -> Any:
        """A `fastbpe.show.TokenView`: rendered as HTML in Jupyter (hover a token for its id,
        bytes and merge history); `.save("tokens.html")` writes a standalone page."""
        from .show import TokenView

        return TokenView(self, text)


@functools.lru_cache(maxsize=64)
def _disallowed_regex(tokens: frozenset[str]) -> re.Pattern[str]:
    # Longest first, so that of two tokens starting at the same place the longer one is reported.
    return re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)))


def _as_key(special: AllowedSpecial) -> str | frozenset[str]:
    """`allowed_special`/`disallowed_special` as a hashable value ("all" or a frozenset)."""
    if special == "all":
        return "all"
    return special if isinstance(special, frozenset) else frozenset(special)


def _unpickle(cls: type[Tokenizer], text: str) -> Tokenizer:
    core, name = _fastbpe.native_from_string(text)
    return cls._from_core(core, name)


def _check_texts(texts: object) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, Iterable):
        raise TypeError(f"expected a list of str, got {type(texts).__name__}")
    out = list(texts)
    for t in out:
        _check_text(t)
    return out


def _check_special_tokens(special_tokens: object) -> list[str]:
    if special_tokens is None:
        return []
    if isinstance(special_tokens, str) or not isinstance(special_tokens, Iterable):
        raise TypeError("special_tokens must be a list of str")
    out = list(special_tokens)
    for s in out:
        if not isinstance(s, str):
            raise TypeError(f"special tokens must be str, got {type(s).__name__}: {s!r}")
    return out


def _path(p: object) -> str:
    if not isinstance(p, (str, os.PathLike)):
        raise TypeError(f"expected a path (str or os.PathLike), got {type(p).__name__}")
    return os.fspath(p)  # type: ignore[arg-type]
