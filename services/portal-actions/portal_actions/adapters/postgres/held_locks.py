"""Advisory locks the transaction in progress already holds, taken together with other work in one
statement (a batch's `mirror.lock_all`, an event's `tracking.begin`), so that a later step which needs one
of them (the guard's decision) does not ask for it again: one round trip less per deactivation.

Transaction-scoped advisory locks last until the transaction ends; `holding` must not outlive it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

_held: ContextVar[frozenset[tuple[int, str]]] = ContextVar("portal_locks_held", default=frozenset())


@contextlib.contextmanager
def holding(keys: Iterable[tuple[int, str]]) -> Iterator[None]:
    token = _held.set(_held.get() | frozenset(keys))
    try:
        yield
    finally:
        _held.reset(token)


def held(key: tuple[int, str]) -> bool:
    return key in _held.get()
