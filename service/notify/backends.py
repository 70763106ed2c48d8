"""The alert store on each backend: the library's tracking recorder of that store plus
the alert tables, opened in the tracker's own file or database."""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteTrackingRecorder
from psycopg.sql import SQL

from service.application import Tracker
from service.notify.store import AlertStore, table_statements
from service.persistence.schema import SerialisedSchema
from service.persistence.sealed import Sealing


class SQLiteAlertStore(SQLiteTrackingRecorder, AlertStore):
    sqlite = True

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *table_statements(sqlite=True)]


class PostgresAlertStore(SerialisedSchema, PostgresTrackingRecorder, AlertStore):
    sqlite = False

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(SQL(s).format() for s in table_statements(sqlite=False))


def open_alert_store(tracker: Tracker) -> AlertStore:
    """The alert tables in the tracker's own store, created if missing, sealed with the
    tracker's cipher (WHT_CIPHER_KEY) when it has one."""
    store: AlertStore
    if isinstance(tracker.recorder, SQLiteApplicationRecorder):
        store = tracker.factory.tracking_recorder(SQLiteAlertStore)  # type: ignore[assignment]
    else:
        store = tracker.factory.tracking_recorder(PostgresAlertStore)  # type: ignore[assignment]
    sealing = Sealing()
    sealing.cipher = tracker.mapper.cipher
    sealing.compressor = tracker.mapper.compressor
    store.sealing = sealing
    return store
