"""Encryption at rest for the event index: the recorders with `result` sealed.

With a cipher configured the library encrypts each stored event, but the
tracker's own index (`wht_event_index`) keeps the receipt an ingest answered
with, returned again on a retry; its findings are plain English that may name
the claim ("Referral of ... for claim WC-77812 ..."). These recorders seal that
column with the application's own cipher and compressor, and read back
unsealed rows written before a cipher was set. The lookup columns (event id,
program, version, times, type, digest, physician referral id) stay clear:
the index is searched by them.
"""

from __future__ import annotations

from base64 import b64decode, b64encode
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Cipher, Compressor

from service.persistence import IndexRow
from service.persistence.postgres import IndexedPostgresRecorder
from service.persistence.sqlite import IndexedSQLiteRecorder

SEALED = "sealed:"


class Sealing:
    """Set `cipher` (and `compressor`) after construction: the factory does not pass them."""

    cipher: Cipher | None = None
    compressor: Compressor | None = None

    def seal(self, text: str) -> str:
        if self.cipher is None:
            return text
        data = text.encode("utf-8")
        if self.compressor is not None:
            data = self.compressor.compress(data)
        return SEALED + b64encode(self.cipher.encrypt(data)).decode("ascii")

    def unseal(self, text: str) -> str:
        if not text.startswith(SEALED):
            return text
        if self.cipher is None:
            raise ValueError("the event index is encrypted: set WHT_CIPHER_KEY to read it")
        data = self.cipher.decrypt(b64decode(text[len(SEALED) :]))
        if self.compressor is not None:
            data = self.compressor.decompress(data)
        return data.decode("utf-8")

    def sealed_rows(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        rows: dict[tuple[UUID, int], IndexRow] = kwargs.get("index_rows") or {}
        if rows and self.cipher is not None:
            kwargs = {
                **kwargs,
                "index_rows": {k: replace(r, result=self.seal(r.result)) for k, r in rows.items()},
            }
        return kwargs


class SealedSQLiteRecorder(Sealing, IndexedSQLiteRecorder):
    def _insert_events(
        self, c: Any, stored_events: Sequence[Any], **kwargs: Any
    ) -> Sequence[int] | None:
        return super()._insert_events(c, stored_events, **self.sealed_rows(kwargs))

    def find_events(self, event_ids: Sequence[str]) -> dict[str, IndexRow]:
        rows = super().find_events(event_ids)
        return {k: replace(r, result=self.unseal(r.result)) for k, r in rows.items()}


class SealedPostgresRecorder(Sealing, IndexedPostgresRecorder):
    def _insert_events(self, curs: Any, stored_events: Sequence[Any], **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **self.sealed_rows(kwargs))

    def find_events(self, event_ids: Sequence[str]) -> dict[str, IndexRow]:
        rows = super().find_events(event_ids)
        return {k: replace(r, result=self.unseal(r.result)) for k, r in rows.items()}
