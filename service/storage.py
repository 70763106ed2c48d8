"""Storage failures as the domain's `StoreUnavailable`: the one place that knows the
stores' own exceptions (the library's PersistenceError, and sqlite3 or psycopg errors
that reach us unwrapped).

A constraint violation (IntegrityError) is not a failure of the store but a race or a
repeat, which callers settle themselves; it passes through unchanged.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import psycopg
from eventsourcing.persistence import IntegrityError, PersistenceError

from domain.errors import StoreUnavailable

STORE_ERRORS = (PersistenceError, sqlite3.Error, psycopg.Error)
INTEGRITY_ERRORS = (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def store_errors() -> Iterator[None]:
    """Raise a store failure in the block as StoreUnavailable (its cause kept)."""
    try:
        yield
    except INTEGRITY_ERRORS:
        raise
    except STORE_ERRORS as error:
        raise StoreUnavailable(str(error)) from error


def store_errors_unavailable(fn: Callable[P, R]) -> Callable[P, R]:
    """`store_errors` around every call of `fn`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with store_errors():
            return fn(*args, **kwargs)

    return wrapper
