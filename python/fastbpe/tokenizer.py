"""The `Tokenizer` class: Stanford CS336's interface and tiktoken's `Encoding` surface in one.

`Tokenizer.encode` follows CS336: the tokenizer's own special tokens are always recognized.
`Encoding` (encoding.py; what `get_encoding` returns) is the same class with tiktoken's defaults
and constructor. Both accept tiktoken's `allowed_special`/`disallowed_special`.
"""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence, Set
from typing import TYPE_CHECKING, Any, Literal, TypeVar, Union

from . import _fastbpe
from . import _special_args as args
from ._text import fix_surrogates, last_safe_cut

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

GPT2_PATTERN: str = _fastbpe.GPT2_PATTERN

StrPath = Union[str, "os.PathLike[str]"]
SaveFormat = Literal["fastbpe", "hf", "tiktoken", "vocab-merges"]
AllowedSpecial = Literal["all"] | Set[str]  # tiktoken's types for allowed_special...
DisallowedSpecial = Literal["all"] | Collection[str]  # ...and for disallowed_special
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
    `Tokenizer.from_hf_file`,
    `Tokenizer.from_tiktoken(enc)`, `fastbpe.get_encoding("gpt2")`, `fastbpe.load(path)`.
    """

    # CS336: the tokenizer's own special tokens are always recognized. A subclass that sets other
    # defaults gets them in its methods' signatures (`_give_defaults`, below the class).
    _default_allowed: AllowedSpecial = "all"
    _default_disallowed: DisallowedSpecial = ()
    # Batch threads: all cores. A subclass with tiktoken's special-token defaults (Encoding) takes
    # tiktoken's num_threads=8 too, unless it sets this itself.
    _default_num_threads: int | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_default_num_threads" not in cls.__dict__ and cls._default_disallowed == "all":
            cls._default_num_threads = 8
        _give_defaults(cls)

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
            items, pairs, specials, _pattern(pattern)
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
        core = _fastbpe.load_vocab_merges(
            _path(vocab_filepath),
            _path(merges_filepath),
            _check_special_tokens(special_tokens),
            _pattern(pattern),
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
        core = _fastbpe.load_tiktoken(_path(path), specials, _pattern(pattern))
        return cls._from_core(core, name)

    @classmethod
    def from_hf_file(cls, path: StrPath) -> Tokenizer:
        """Loads a Hugging Face byte-level BPE `tokenizer.json`; a setting fastbpe does not
        implement (one that would change the ids) is a ValueError naming it (docs/format.md)."""
        return cls._from_core(_fastbpe.load_hf(_path(path)))

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
            _pattern(pattern),
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
        """tiktoken's `mergeable_ranks` (bytes -> rank = id); ValueError when tiktoken's format
        cannot express this tokenizer (ids must increase with merge order)."""
        return dict(_fastbpe.tiktoken_ranks(self._core))

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
        """The merges in order. Derived from the ranks when the tokenizer was loaded from ranks
        (`fastbpe.convert.merges_from_ranks`; computed once per tokenizer)."""
        merges = self._core.merges()
        if merges is None:
            merges = self.__dict__.get("_derived_merges")
            if merges is None:
                merges = self.__dict__["_derived_merges"] = _fastbpe.merges_from_ranks(self._core)
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

    def _special_rule(
        self, allowed_special: object, disallowed_special: object, batch: bool
    ) -> args.SpecialRule:
        """What the arguments come to (`_special_args.special_rule`, tiktoken's checks).

        Cached per tokenizer: working it out costs several times more than encoding a sentence,
        and most calls pass the same (default) arguments.
        """
        a, d = allowed_special, disallowed_special
        # A set behaves as the frozenset of its items; other unhashable arguments are worked
        # out afresh each time. Equal hashable arguments behave alike, so they can share a rule.
        if type(a) is set:
            a = frozenset(a)
        if type(d) is set:
            d = frozenset(d)
        key: Any = (a, d, batch)
        rules: dict[Any, args.SpecialRule] = self.__dict__.setdefault("_special_rules", {})
        try:
            rule = rules.get(key)
        except TypeError:
            rule = key = None
        if rule is None:
            specials = frozenset(self._special_tokens)
            rule = args.special_rule(specials, allowed_special, disallowed_special, batch=batch)
            if key is not None:
                if len(rules) >= 64:  # callers inventing new sets on every call: stay small
                    rules.clear()
                rules[key] = rule
        return rule

    @staticmethod
    def _checked_text(rule: args.SpecialRule, text: object) -> str:
        """tiktoken's steps for one text: its type, the disallowed search, the allowed set."""
        if rule.regex_failure is not None:
            args.fail(rule.regex_failure)
        if type(text) is not str:
            text = _check_text(text)
        if rule.disallowed is not None:
            found = _find_disallowed(rule, text)  # type: ignore[arg-type]
            if found is not None:
                raise _disallowed_error(found)
        if rule.late is not None:
            args.fail(rule.late)
        return text  # type: ignore[return-value]

    def _checked_batch(
        self, text: object, allowed_special: object, disallowed_special: object, num_threads: object
    ) -> tuple[list[str], args.SpecialRule, int | None]:
        """A batch's texts, rule and thread count, checked in tiktoken's order."""
        rule = self._special_rule(allowed_special, disallowed_special, True)
        args.fail(rule.early)
        threads = args.num_threads(num_threads)
        texts = _check_texts(text)
        if rule.regex_failure is not None or rule.late is not None or "" in rule.disallowed_tokens:
            # Errors met at the first text, or a token the core's matcher refuses: Python's way.
            return [self._checked_text(rule, t) for t in texts], rule, threads
        if not rule.disallowed_tokens:
            return texts, rule, threads  # the core checks the types as it takes the texts
        # The same search in one pass of the core (`first_disallowed`): a regex search per
        # text cost 17 ms on 142K lines, before any thread could start.
        hit = _fastbpe.first_disallowed(texts, list(rule.disallowed_tokens))
        if hit is None:
            return texts, rule, threads
        i, found = hit
        if found is not None:
            raise _disallowed_error(found)
        # Text i has a lone surrogate (not UTF-8): from there on, the regex on the str.
        return texts[:i] + [self._checked_text(rule, t) for t in texts[i:]], rule, threads

    def _encode_with_specials(
        self,
        core_method: Callable[..., _T],
        text: str,
        allowed_special: object,
        disallowed_special: object,
        *extra: Any,
    ) -> _T:
        """`core_method(text, allowed, *extra)` under tiktoken's special-token rules,
        with lone surrogates made U+FFFD as tiktoken does."""
        rule = self._special_rule(allowed_special, disallowed_special, False)
        if rule.early is not None:
            args.fail(rule.early)
        text = self._checked_text(rule, text)
        try:
            return core_method(text, rule.allowed, *extra)
        except UnicodeEncodeError:
            return core_method(fix_surrogates(text), rule.allowed, *extra)

    def encode(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial = "all",
        disallowed_special: DisallowedSpecial = (),
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
        if type(text) is not str:  # inline for exact str: a call costs ~10% of a short call
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
        elif not isinstance(text_or_bytes, bytes):
            # tiktoken's types: a list of ints or a bytearray is a TypeError, not bytes.
            raise TypeError(f"expected str or bytes, got {type(text_or_bytes).__name__}")
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
        allowed_special: AllowedSpecial = "all",
        disallowed_special: DisallowedSpecial = (),
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
        allowed_special: AllowedSpecial = "all",
        disallowed_special: DisallowedSpecial = (),
    ) -> list[list[int]]:
        """Encodes many texts in parallel on all cores (Rust threads, GIL released);
        `num_threads` beyond the number of cores uses all cores."""
        texts, rule, threads = self._checked_batch(
            text, allowed_special, disallowed_special, num_threads
        )
        if not texts:
            return []
        return self._batch(self._core.encode_batch, texts, rule.allowed, threads)

    def encode_ordinary_batch(
        self, text: list[str], *, num_threads: int | None = None
    ) -> list[list[int]]:
        """Encodes many texts in parallel, special-token text as ordinary text."""
        threads = args.num_threads(num_threads)
        return self._batch(self._core.encode_batch, _check_texts(text), [], threads)

    def _batch(
        self,
        core_method: Callable[..., _T],
        texts: list[str],
        allowed: list[str] | None,
        num_threads: int | None,
        *extra: Any,
    ) -> _T:
        """`core_method(texts, allowed, num_threads, *extra)` (`allowed`: None = every special token), with lone surrogates
        made U+FFFD as tiktoken does."""
        try:
            return core_method(texts, allowed, num_threads, *extra)
        except UnicodeEncodeError:
            # Types checked here too: the core stopped at the first text it could not encode.
            fixed = [fix_surrogates(_check_text(t)) for t in texts]
            return core_method(fixed, allowed, num_threads, *extra)

    @property
    def numpy_dtype(self) -> Any:
        """`numpy.uint16` when every id fits, else `numpy.uint32`."""
        import numpy as np

        return np.uint16 if self.n_vocab <= 1 << 16 else np.uint32

    def encode_to_numpy(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial = "all",
        disallowed_special: DisallowedSpecial = (),
        dtype: Any = None,
    ) -> npt.NDArray[np.unsignedinteger[Any]]:
        """Encodes to a numpy array: uint16 when the vocabulary fits, else uint32."""
        import numpy as np

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
        allowed_special: AllowedSpecial = "all",
        disallowed_special: DisallowedSpecial = (),
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

        texts, rule, threads = self._checked_batch(
            text, allowed_special, disallowed_special, num_threads
        )
        dt = self._checked_dtype(dtype)
        ids, offsets = self._batch(
            self._core.encode_batch_to_buffers,
            texts,
            rule.allowed,
            threads,
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

        Yields the same ids as `encode("".join(iterable))`: text is buffered and cut only at the
        core's safe cuts (rust/src/cut/README.md: before whitespace that follows a
        non-whitespace character where the pattern allows it, or before a special token the
        matcher takes; never inside one), the same rule as training and `encode_file`.
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
        """The last index where cutting `buf` cannot change the ids (0 when there is none), for a
        stream that continues after `buf` (`encode` recognizes every special token, so all cut)."""
        return last_safe_cut(buf, self._special_tokens, self.pattern)

    # ---------------------------------------------------------------- decoding

    def decode_bytes(self, tokens: Sequence[int]) -> bytes:
        """Concatenated bytes of the tokens."""
        # The core reads lists and numpy arrays in place and checks the ids as `_check_ids`
        # does (rust/src/py/ids_in.rs): no Python list in between (issue 9.21).
        return bytes(self._core.decode_bytes(tokens))

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
        """`decode_bytes` of each id list. `num_threads` is checked as tiktoken checks it, but
        decoding runs in the calling thread: it is a copy per token, cheaper than a hand-off."""
        args.num_threads(num_threads)
        return [self.decode_bytes(t) for t in batch]

    def decode_batch(
        self, batch: Sequence[Sequence[int]], *, errors: str = "replace", num_threads: int = 8
    ) -> list[str]:
        """`decode` of each id list (`num_threads` as in `decode_bytes_batch`)."""
        args.num_threads(num_threads)
        return [self.decode(t, errors=errors) for t in batch]

    # ---------------------------------------------------------------- files and conversions
    # Each format's reader and writer is one Rust module (rust/src/formats/); these call it.

    def save(self, path: StrPath, *, format: SaveFormat | None = None) -> None:
        """Saves the tokenizer; `format` (default: from the name, `fastbpe.save_format_for`):

        * `"fastbpe"`: one JSON file, exact round trip (docs/format.md);
        * `"hf"`: a Hugging Face `tokenizer.json` (chosen for that name; beside it, or in a
          directory given with `format="hf"`, also `tokenizer_config.json` and
          `special_tokens_map.json` for `transformers.AutoTokenizer`);
        * `"tiktoken"`: a `.tiktoken` file (ranks only; chosen for names ending in `.tiktoken`);
        * `"vocab-merges"`: a directory with `vocab.json` + `merges.txt` (chosen for a directory).

        Files are written in full under temporary names, then renamed: never half-written, and a
        save of several files writes all or none. A symbolic link is written through.
        """
        if format is not None and not isinstance(format, str):
            raise TypeError(f"format must be a str, got {type(format).__name__}")
        _fastbpe.save_tokenizer(self._core, _path(path), self._name, format)

    def save_tiktoken(self, path: StrPath) -> None:
        """Writes a `.tiktoken` file (ranks only)."""
        self.save(path, format="tiktoken")

    def save_vocab_merges(self, directory: StrPath) -> None:
        """Writes GPT-2/HF `vocab.json` + `merges.txt` into `directory`."""
        self.save(directory, format="vocab-merges")

    def save_hf(self, path: StrPath) -> None:
        """Writes a Hugging Face `tokenizer.json` that gives the same ids."""
        self.save(path, format="hf")

    def to_tiktoken(self, name: str | None = None) -> Any:
        """A `tiktoken.Encoding` that gives the same ids (needs `pip install tiktoken`)."""
        try:
            import tiktoken
        except ImportError as e:
            raise ImportError("to_tiktoken needs the tiktoken package: pip install tiktoken") from e
        return tiktoken.Encoding(
            name=name or self.name,
            pat_str=self.pattern,
            mergeable_ranks=self._mergeable_ranks,
            special_tokens=self.special_tokens,
        )

    def encode_file(
        self,
        path: StrPath | Sequence[StrPath],
        out_path: StrPath,
        dtype: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Encodes text file(s) into a `.npy`/`.bin` token file, streaming, on all cores; same
        ids as `encode` on the whole text. See `fastbpe.encode_file` for the options."""
        from .token_files import encode_file

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


_DEFAULTED_METHODS = (
    "encode",
    "encode_with_unstable",
    "encode_to_numpy",
    "encode_batch",
    "encode_ordinary_batch",
    "encode_batch_to_numpy",
)


def _give_defaults(cls: type[Tokenizer]) -> None:
    """Puts `cls`'s defaults (`_default_allowed`, `_default_disallowed`, `_default_num_threads`)
    into its encode methods' keyword defaults, so `inspect.signature`, `help()` and the calls
    agree with tiktoken's for Encoding. A method whose defaults differ is copied (same code) onto
    `cls`; no wrapper, so no cost per call."""
    wanted = {
        "allowed_special": cls._default_allowed,
        "disallowed_special": cls._default_disallowed,
        "num_threads": cls._default_num_threads,
    }
    for name in _DEFAULTED_METHODS:
        f = getattr(cls, name)
        old = dict(f.__kwdefaults__ or {})
        new = {k: v for k, v in wanted.items() if k in old}
        if all(type(old[k]) is type(v) and old[k] == v for k, v in new.items()):
            continue
        g = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, f.__closure__)
        functools.update_wrapper(g, f)
        g.__kwdefaults__ = {**old, **new}
        g.__qualname__ = f"{cls.__qualname__}.{name}"
        del g.__wrapped__  # inspect.signature must read g's own defaults, not f's
        setattr(cls, name, g)


_give_defaults(Tokenizer)


def _unpickle(cls: type[Tokenizer], text: str) -> Tokenizer:
    core, name = _fastbpe.native_from_string(text)
    return cls._from_core(core, name)


def _as_list(texts: object) -> list[Any]:
    # A str is an iterable of str, but surely a mistake here (tiktoken would encode each
    # character as a text of its own): refused.
    if isinstance(texts, str) or not isinstance(texts, Iterable):
        raise TypeError(f"expected a list of str, got {type(texts).__name__}")
    return list(texts)


def _check_texts(texts: object) -> list[str]:
    """A batch's texts as a list, not copied when it is one. Each text's type is checked by the
    core as it takes the texts (`py/args.rs`, `texts`: a Python pass over 142K lines cost 6-8
    ms, serial work before any thread could start)."""
    return texts if type(texts) is list else _as_list(texts)  # type: ignore[return-value]


# From this many characters on, a text is searched for disallowed special tokens by the core
# (Aho-Corasick, ~0.2 ms for 5 MB) instead of the regex (1.3-2.4 ms for 5 MB); below it the
# regex's call is cheaper.
_CORE_SEARCH_FROM = 1 << 16


def _find_disallowed(rule: args.SpecialRule, text: str) -> str | None:
    """The first disallowed special token in `text` (leftmost, then longest), or None."""
    if len(text) >= _CORE_SEARCH_FROM and "" not in rule.disallowed_tokens:
        hit = _fastbpe.first_disallowed([text], list(rule.disallowed_tokens))
        if hit is None:
            return None
        if hit[1] is not None:
            return hit[1]
        # A lone surrogate (not UTF-8): the regex searches the str itself.
    assert rule.disallowed is not None
    found = rule.disallowed.search(text)
    return None if found is None else found.group()


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


def _pattern(pattern: str | None) -> str:
    """The pattern argument: None means GPT-2's; anything else (even "") goes to the core, which
    refuses patterns that can match the empty string."""
    return GPT2_PATTERN if pattern is None else pattern


def _path(p: object) -> str:
    if not isinstance(p, (str, os.PathLike)):
        raise TypeError(f"expected a path (str or os.PathLike), got {type(p).__name__}")
    return os.fspath(p)  # type: ignore[arg-type]
