"""`allowed_special`, `disallowed_special` and `num_threads`, checked the way tiktoken checks them.

Code written for tiktoken must get the same result or the same exception type from fastbpe for
every kind of argument (tests/test_special_args.py compares the two, generatively). tiktoken's
`Encoding.encode` does, in this order:

1. `allowed_special == "all"` -> every special token;
2. `disallowed_special == "all"` -> `special_tokens_set - allowed_special` (TypeError unless
   `allowed_special` is a set: a bare str such as "<|endoftext|>" is a TypeError, not a set of
   characters);
3. if `disallowed_special` is truthy (the batch methods: always), `frozenset(disallowed_special)`
   (any iterable: a str becomes its characters), a regex of its strings (TypeError for a non-str),
   searched in the text (ValueError, tiktoken's message, on a match);
4. the Rust call, which takes `allowed_special` only as a set or frozenset of str (TypeError).

The batch methods then make a thread pool: `num_threads` None, or a number > 0 (ValueError for
<= 0, TypeError for a non-number).
"""

from __future__ import annotations

import functools
import math
import os
import re
from typing import Any, NamedTuple

# An error raised at a given step: (exception class, message). Kept as data so a cached rule
# raises a fresh exception each time.
Failure = tuple[type[Exception], str]


class SpecialRule(NamedTuple):
    """What `allowed_special`/`disallowed_special` come to, and where they fail if they do."""

    early: Failure | None  # steps 1-3 before any text is looked at
    regex_failure: Failure | None  # step 3's regex, met once there is a text
    disallowed: re.Pattern[str] | None
    # The strings `disallowed` searches for (the batch methods search them in one core pass).
    disallowed_tokens: tuple[str, ...]
    late: Failure | None  # step 4, after a text passed the search
    # The core's one spelling of the policy: None = every special token, else only these.
    allowed: list[str] | None


def special_rule(
    specials: frozenset[str], allowed: object, disallowed: object, *, batch: bool
) -> SpecialRule:
    early: Failure | None = None
    if isinstance(allowed, str) and allowed == "all":
        allowed = set(specials)
    if isinstance(disallowed, str) and disallowed == "all":
        try:
            disallowed = set(specials) - allowed  # type: ignore[operator]
        except TypeError:
            early = (
                TypeError,
                'allowed_special must be "all" or a set of str (e.g. {"<|endoftext|>"}), got '
                f"{type(allowed).__name__}",
            )
    tokens: frozenset[Any] = frozenset()
    if early is None and (batch or disallowed):
        try:
            tokens = frozenset(disallowed)  # type: ignore[arg-type]
        except TypeError:
            early = (
                TypeError,
                'disallowed_special must be "all" or a collection of str, got '
                f"{type(disallowed).__name__}",
            )
    regex = regex_failure = None
    if tokens:
        bad = [t for t in tokens if not isinstance(t, str)]
        if bad:
            regex_failure = (
                TypeError,
                f"disallowed_special must hold str, found {type(bad[0]).__name__}: {bad[0]!r}",
            )
        else:
            regex = _disallowed_regex(tokens)
    late: Failure | None = None
    allowed_list: list[str] | None = []
    if not isinstance(allowed, (set, frozenset)):
        late = (
            TypeError,
            'allowed_special must be "all" or a set of str (e.g. {"<|endoftext|>"}), got '
            f"{type(allowed).__name__}",
        )
    elif any(not isinstance(t, str) for t in allowed):
        bad_t = next(t for t in allowed if not isinstance(t, str))
        late = (
            TypeError,
            f"allowed_special must hold str, found {type(bad_t).__name__}: {bad_t!r}",
        )
    else:
        # Names in `allowed_special` that are not special tokens are ignored, as in tiktoken.
        hits = specials & allowed
        allowed_list = None if specials and hits == specials else sorted(hits)
    searched = tuple(tokens) if regex is not None else ()
    return SpecialRule(early, regex_failure, regex, searched, late, allowed_list)


@functools.lru_cache(maxsize=64)
def _disallowed_regex(tokens: frozenset[str]) -> re.Pattern[str]:
    # Longest first, so that of two tokens starting at the same place the longer one is reported.
    return re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)))


def fail(failure: Failure | None) -> None:
    if failure is not None:
        raise failure[0](failure[1])


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def num_threads(n: object) -> int | None:
    """tiktoken's `num_threads` rule (a thread pool's `max_workers`), as the thread count to use:
    None means all cores; more threads than cores are not started (they could not run at once)."""
    if n is None:
        return None
    try:
        positive = n > 0  # type: ignore[operator]
    except TypeError:
        raise TypeError(f"num_threads must be a number, got {type(n).__name__}") from None
    if not positive:
        raise ValueError(f"num_threads must be greater than 0, got {n!r}")
    if isinstance(n, float) and math.isnan(n):
        raise ValueError("num_threads must be a number greater than 0, got nan")
    cores = _cores()
    return cores if n >= cores else max(1, math.ceil(n))  # type: ignore[operator,call-overload]
