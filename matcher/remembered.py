"""Pure functions of a short text, remembered: the matcher's hot per-line and
per-address readings.

Mail repeats itself: the same correspondents in every batch, the same
signature lines at the end of every message a sender writes. A reading of
one is a pure function of its text, so it is kept in a bounded LRU. Only
texts up to ``chars`` are kept: a long one rarely recurs, and one
attacker-sized string must not pin memory in the cache.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def remembered(
    maxsize: int, chars: int
) -> Callable[[Callable[Concatenate[str, P], R]], Callable[Concatenate[str, P], R]]:
    """Decorate a pure function whose first argument is text (further ones hashable)."""

    def decorate(read: Callable[Concatenate[str, P], R]) -> Callable[Concatenate[str, P], R]:
        cached = functools.lru_cache(maxsize=maxsize)(read)

        @functools.wraps(read)
        def reading(text: str, /, *args: P.args, **kwargs: P.kwargs) -> R:
            if len(text) <= chars:
                return cached(text, *args, **kwargs)  # type: ignore[arg-type]
            return read(text, *args, **kwargs)

        return reading

    return decorate
