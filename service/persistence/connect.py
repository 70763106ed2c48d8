"""Reaching PostgreSQL as a process starts: wait out what passes, name what does not.

The eventsourcing library's pool hides why it could not connect ("couldn't get a
connection after 5.00 sec" for a missing database, a full server and a wrong password
alike). Before the pool is opened, `await_postgres` connects once itself:

- a refusal that passes by itself (the server has no free connection slot, or is
  starting up or recovering) is retried, with a growing pause, for at most `wait`
  seconds, so that a fleet restarting together, or started beside a busy one, starts;
- any other failure (no such database, a wrong password, no server listening) is
  raised at once, as is a transient one still there when the time is up, as
  `StoreUnreachable` with the server's own words.

`connect_waiting` is that wait for any connection made outside the library's pool
(the schema lock's, say): a process opening a store while others hold every slot
waits for one rather than failing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg

# What the server says when a refusal passes by itself (SQLSTATE 53300
# too_many_connections, 57P03 cannot_connect_now). psycopg reports no SQLSTATE for a
# failed connection, so the words are matched.
TRANSIENT = (
    "too many clients",
    "too many connections",
    "remaining connection slots are reserved",
    "the database system is starting up",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "the database system is not accepting connections",
)
START_WAIT = 30.0  # seconds, unless told otherwise (WHT_STORE_START_WAIT)
FIRST_PAUSE = 0.1
LONGEST_PAUSE = 2.0


class StoreUnreachable(Exception):
    """PostgreSQL refused this process; the message is the server's reason."""


def transient(error: psycopg.Error) -> bool:
    text = str(error).lower()
    return any(words in text for words in TRANSIENT)


def reason(error: psycopg.Error) -> str:
    """The server's own words, without psycopg's "connection failed: connection to
    server at ... failed:" preamble."""
    text = " ".join(str(error).split())
    for marker in ("FATAL:", "failed:"):
        if marker in text:
            text = text.rsplit(marker, 1)[1].strip()
            break
    return text


def connect_waiting(
    conninfo: dict[str, Any],
    wait: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    **options: Any,
) -> tuple[psycopg.Connection[Any], int]:
    """A connection (`options` as psycopg takes them), and how many attempts it took: a
    transient refusal (no free slot, starting up) is retried, with a growing pause, for
    at most `wait` seconds; any other error, or one still there then, is raised."""
    deadline = clock() + wait
    pause = FIRST_PAUSE
    attempts = 0
    while True:
        attempts += 1
        try:
            return psycopg.connect(**conninfo, **options), attempts
        except psycopg.Error as error:
            left = deadline - clock()
            if not transient(error) or left <= 0:
                raise
            sleep(min(pause, left))
            pause = min(pause * 2, LONGEST_PAUSE)


def await_postgres(
    conninfo: dict[str, Any],
    wait: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Connect once and close; retry transient refusals for at most `wait` seconds.
    Return how many attempts it took; raise StoreUnreachable naming the cause."""
    try:
        conn, attempts = connect_waiting(conninfo, wait, sleep=sleep, clock=clock, autocommit=True)
    except psycopg.Error as error:
        if not transient(error):
            raise StoreUnreachable(reason(error)) from error
        raise StoreUnreachable(
            f"{reason(error)} (still so after waiting {wait:g} s; "
            "WHT_STORE_START_WAIT sets how long)"
        ) from error
    conn.close()
    return attempts
