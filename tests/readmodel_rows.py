"""Every row of the regulator's read model, to compare two read models row for row."""

from __future__ import annotations

from typing import Any

from service.application import Tracker
from service.readmodel import partitions
from service.readmodel.partitions import Partition
from service.readmodel.runner import ReadModelRunner
from service.readmodel.sql import TABLES
from service.readmodel.view import ReadModelRecorder

COLUMNS = {
    "wht_rm_state": "program_id provider_id status eligible valid_from valid_to "
    "recorded_from superseded_at version",
    "wht_rm_finding": "program_id provider_id code valid_from valid_to "
    "recorded_from superseded_at version",
    "wht_rm_program": "program_id provider_id known_from version recorded_at inputs timeline",
    "wht_rm_due": "program_id provider_id kind clause due_on violation_on valid_from valid_to "
    "recorded_from superseded_at version",
}


def read_model_rows(view: ReadModelRecorder) -> dict[str, list[tuple[Any, ...]]]:
    """Every column of every row of the read model, as text, sorted, by table."""
    assert set(COLUMNS) == set(TABLES)
    found: dict[str, list[tuple[Any, ...]]] = {}
    datastore: Any = view.datastore  # type: ignore[attr-defined]
    for table, columns in COLUMNS.items():
        casts = ", ".join(f"CAST({c} AS TEXT)" for c in columns.split())
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT {casts} FROM {table}")  # noqa: S608 (fixed names)
            found[table] = sorted(
                tuple(row.values()) if isinstance(row, dict) else tuple(row)
                for row in cursor.fetchall()
            )
    return found


def project_in(tracker: Tracker, view: ReadModelRecorder, count: int) -> None:
    """Reset the read model and project every stored event in `count` partitions, one
    after another (each reads the whole log and writes its own programs' rows)."""
    view.reset(tracker.name)
    partitions.record_partitions(view, count)
    for k in range(count):
        runner = ReadModelRunner(tracker, view, partition=Partition(k, count))
        try:
            runner.catch_up()
        finally:
            runner.lock.release()
