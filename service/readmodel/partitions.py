"""The read model in P partitions: who projects which programs, and where the whole stands.

Programs are split by a stable hash of their id: program `p` is in partition
`p.int % P` (a UUID's integer is the same in every process; Python's `hash()`
is not). Each partition has its own tracking name (`tracker.name` itself when
P == 1, so stores from before partitions read on; `f"{name}#{k}/{P}"`
otherwise) and its own lock (`locks.partition_lock`). Every partition reads the
whole notification log: it applies its own programs' events, and every
referral or retraction (COV-1 across programs: `ComplianceReadModel`), and
records its tracking at the last notification of each batch, its own or not.

P is recorded in the read model (`wht_rm_layout`, one row), by `wht rebuild`
and by the first projector on an empty read model; readers take it from there,
and the read model is where the slowest partition is (`position`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder

from service.readmodel.view import ReadModelRecorder

LAYOUT_TABLE = "wht_rm_layout"


def layout_statement(dialect: str) -> str:
    """The one-row table of the partition count (created with the read model's tables)."""
    del dialect  # the same text for SQLite and PostgreSQL
    return (
        f"CREATE TABLE IF NOT EXISTS {LAYOUT_TABLE} (one INTEGER PRIMARY KEY CHECK (one = 1), "
        "partitions INTEGER NOT NULL CHECK (partitions >= 1))"
    )


class LayoutMismatch(Exception):
    """A projector was started with another partition count than the read model's."""

    def __init__(self, recorded: int, wanted: int) -> None:
        super().__init__(
            f"the read model is projected in {recorded} partition(s), not {wanted}; to change "
            f"it, run `wht rebuild --partitions {wanted}` (with every projector stopped)"
        )
        self.recorded = recorded
        self.wanted = wanted


@dataclass(frozen=True)
class Partition:
    """Partition `index` of `count`: the programs whose id's integer is `index` mod `count`."""

    index: int
    count: int

    def owns(self, program_id: UUID) -> bool:
        return self.count == 1 or program_id.int % self.count == self.index

    def tracking_name(self, base: str) -> str:
        return tracking_name(base, self.index, self.count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def tracking_name(base: str, index: int, count: int) -> str:
    """Partition `index` of `count`'s tracking name (`base` itself when there is one)."""
    return base if count == 1 else f"{base}#{index}/{count}"


def tracking_names(base: str, count: int) -> list[str]:
    return [tracking_name(base, k, count) for k in range(count)]


def _mark(view: ReadModelRecorder) -> str:
    return "?" if isinstance(view, SQLiteTrackingRecorder) else "%s"


def _rows(view: ReadModelRecorder, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    datastore: Any = view.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(sql, params)
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in cursor.fetchall()]


def recorded_partitions(view: ReadModelRecorder) -> int | None:
    """The partition count the read model records (None: never recorded)."""
    rows = _rows(view, f"SELECT partitions FROM {LAYOUT_TABLE}")  # noqa: S608 (fixed name)
    return int(rows[0][0]) if rows else None


def partitions_of(view: ReadModelRecorder) -> int:
    """The partition count readers and projectors go by: the recorded one, else 1."""
    return recorded_partitions(view) or 1


def record_partitions(view: ReadModelRecorder, count: int) -> None:
    """Record the partition count (`wht rebuild`, after resetting the read model)."""
    mark = _mark(view)
    datastore: Any = view.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(
            f"INSERT INTO {LAYOUT_TABLE} (one, partitions) VALUES (1, {mark}) "  # noqa: S608
            "ON CONFLICT (one) DO UPDATE SET partitions = excluded.partitions",
            (count,),
        )


def claim_layout(view: ReadModelRecorder, base: str, wanted: int | None) -> int:
    """The partition count a projector runs with: `wanted` (None: the recorded one, else 1).

    On a read model with no count recorded and nothing projected yet, the first
    projector records its own; one started with another count than recorded
    raises `LayoutMismatch`. A store from before partitions (positions, no
    count) is one partition.
    """
    recorded = recorded_partitions(view)
    if recorded is None and wanted is not None and wanted != 1 and _empty(view, base):
        mark = _mark(view)
        datastore: Any = view.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {LAYOUT_TABLE} (one, partitions) VALUES (1, {mark}) "  # noqa: S608
                "ON CONFLICT (one) DO NOTHING",
                (wanted,),
            )
        recorded = recorded_partitions(view)
    count = recorded or 1
    if wanted is not None and wanted != count:
        raise LayoutMismatch(count, wanted)
    return count


def _has_programs(view: ReadModelRecorder) -> bool:
    return bool(_rows(view, "SELECT 1 FROM wht_rm_program LIMIT 1"))


def _empty(view: ReadModelRecorder, base: str) -> bool:
    return not view.max_tracking_id(base) and not _has_programs(view)


def lost(view: ReadModelRecorder, base: str) -> bool:
    """Whether the read model's rows are gone while a position is still tracked (its
    tables dropped or emptied outside the service): every projected event leaves its
    program's row, so a tracked position with no row at all cannot be the truth."""
    return any(positions(view, base)) and not _has_programs(view)


def settle(view: ReadModelRecorder, base: str, count: int, latest: int) -> None:
    """After a rebuild to `latest` (its workers tracked under names of their own): every
    partition of `count` is at `latest`, and no other name of `base` remains."""
    if isinstance(view, SQLiteTrackingRecorder):
        table, mark = "tracking", "?"
    else:
        schema = view.datastore.schema  # type: ignore[attr-defined]
        table, mark = f'"{schema}"."{view.tracking_table_name}"', "%s"  # type: ignore[attr-defined]
    datastore: Any = view.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE application_name = {mark} "  # noqa: S608
            f"OR application_name LIKE {mark}",
            (base, f"{base}#%"),
        )
    for name in tracking_names(base, count) if latest else []:
        view.insert_tracking(Tracking(name, latest))


def positions(view: ReadModelRecorder, base: str, count: int | None = None) -> list[int]:
    """Each partition's tracked position (0: none), by partition index."""
    count = partitions_of(view) if count is None else count
    return [view.max_tracking_id(name) or 0 for name in tracking_names(base, count)]


def position(view: ReadModelRecorder, base: str) -> int:
    """Where the read model is: the least position over its partitions (0: none)."""
    return min(positions(view, base))


def wait(view: ReadModelRecorder, base: str, notification_id: int | None, timeout: float) -> None:
    """Block until every partition has applied `notification_id` (TimeoutError if not),
    polling with backoff as the library's `TrackingRecorder.wait` does."""
    if notification_id is None:
        return
    deadline = time.monotonic() + timeout
    interval = 0.1
    while position(view, base) < notification_id:
        remaining = deadline - time.monotonic()
        if remaining < 0:
            raise TimeoutError(
                f"Timed out waiting for notification {notification_id} to be projected"
            )
        time.sleep(min(interval, max(remaining, 0.0)))
        interval = min(interval * 2, 0.8)
