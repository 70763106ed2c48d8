"""Personal data at rest: with WHT_CIPHER_KEY set, nothing a worker could be known by is
readable in the database's own bytes (docs/security.md, "Encryption at rest").

The scenario stores a referral whose finding names the claim (REF-1), sessions and a
discharge report; each identifying value is unique to the test, then looked for in the
raw bytes: the SQLite file with its WAL, or PostgreSQL's relation files after a
CHECKPOINT, and every row of every table read back as bytes.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.cipher import AESCipher

from api.bootstrap import BadCipherKey, build_tracker
from service.application import Tracker
from service.integrity import TrailDamaged
from tests.helpers import (
    ADMITTED_ON,
    LATER,
    admitted,
    discharged,
    evaluated,
    plus,
    referred,
    report,
    send,
    send_all,
    session,
)


def secrets_of(marker: str) -> dict[str, str]:
    return {
        "worker name": f"Zelda Quuxley {marker}",
        "claim number": f"WC-{marker}",
        "work history": f"Nine years driving forklifts at Plant {marker}",
    }


def store_program(tracker: Tracker, marker: str) -> tuple[str, dict[str, object]]:
    values = secrets_of(marker)
    first = referred(referral_id=f"PR-{marker[:6]}")
    data = first["data"]
    data["worker"].update(name=values["worker name"], work_history=values["work history"])
    # Unreported injury: the REF-1 finding's message names the claim number.
    data["claim"].update(claim_number=values["claim number"], compensable_injury_reported=False)
    program_id = uuid4()
    receipt = send(tracker, program_id, first)
    assert any(values["claim number"] in f["message"] for f in receipt.body["findings"])
    final = report(plus(ADMITTED_ON, 30))
    final["data"].update(demographics=values["worker name"], work_history=values["work history"])
    send_all(
        tracker,
        program_id,
        [
            admitted(),
            evaluated(),
            session(ADMITTED_ON),
            session(plus(ADMITTED_ON, 1)),
            discharged(plus(ADMITTED_ON, 21)),
            final,
        ],
    )
    retry = send(tracker, program_id, first)  # the stored receipt, read back through the index
    assert (retry.status, retry.body) == (200, receipt.body)
    return str(program_id), tracker.view(program_id).assess(LATER).figures()


def sqlite_bytes(url: str) -> bytes:
    path = Path(url[len("sqlite:///") :])
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


def postgres_bytes(url: str) -> bytes:
    """Every row of every table as stored bytes, and the relation files themselves."""
    chunks: list[bytes] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        tables = [
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        for table in tables:
            columns = [
                f'"{name}"' if kind == "bytea" else f'"{name}"::text'
                for name, kind in conn.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = %s",
                    (table,),
                )
            ]
            for row in conn.execute(f'SELECT {", ".join(columns)} FROM "{table}"'):
                chunks.extend(v if isinstance(v, bytes) else str(v).encode() for v in row)
        data_dir = Path(conn.execute("SHOW data_directory").fetchone()[0])
        files = [
            r[0]
            for r in conn.execute(
                "SELECT pg_relation_filepath(oid) FROM pg_class WHERE relnamespace = "
                "'public'::regnamespace OR oid IN (SELECT reltoastrelid FROM pg_class WHERE "
                "relnamespace = 'public'::regnamespace)"
            )
            if r[0]
        ]
    for name in files:
        for segment in data_dir.glob(name + "*"):
            chunks.append(segment.read_bytes())
    assert files, "found no relation files to read"
    return b"\n".join(chunks)


def raw_bytes(url: str) -> bytes:
    return sqlite_bytes(url) if url.startswith("sqlite") else postgres_bytes(url)


@pytest.fixture
def cipher_key() -> str:
    return AESCipher.create_key(32)


@pytest.fixture
def sealed(store_url: str, cipher_key: str) -> Iterator[Tracker]:
    tracker = build_tracker(store_url, cipher_key=cipher_key)
    try:
        yield tracker
    finally:
        tracker.close()


def test_raw_database_holds_no_worker_name_claim_number_or_work_history(
    sealed: Tracker, store_url: str, cipher_key: str
) -> None:
    marker = uuid4().hex[:12]
    program_id, figures = store_program(sealed, marker)
    sealed.close()
    raw = raw_bytes(store_url)
    assert len(raw) > 10_000
    for what, value in secrets_of(marker).items():
        assert value.encode() not in raw, f"the {what} is readable in the stored bytes"
    assert marker.encode() not in raw, "part of a worker's data is readable in the stored bytes"
    reopened = build_tracker(store_url, cipher_key=cipher_key)
    try:
        view = reopened.view(UUID(program_id))
        referral = view.program.referral
        assert referral is not None
        assert referral.data.worker.name == secrets_of(marker)["worker name"]  # type: ignore[attr-defined]
        assert view.assess(LATER).figures() == figures
    finally:
        reopened.close()


def test_without_a_cipher_key_the_same_values_are_readable(store_url: str) -> None:
    """The control: the search above would find the values if they were there."""
    tracker = build_tracker(store_url, cipher_key="")
    marker = uuid4().hex[:12]
    try:
        store_program(tracker, marker)
    finally:
        tracker.close()
    raw = raw_bytes(store_url)
    for what, value in secrets_of(marker).items():
        assert value.encode() in raw, f"control: the {what} should be readable unencrypted"


def test_another_key_cannot_read_the_events(sealed: Tracker, store_url: str) -> None:
    marker = uuid4().hex[:12]
    program_id, _ = store_program(sealed, marker)
    sealed.close()
    intruder = build_tracker(store_url, cipher_key=AESCipher.create_key(32))
    try:
        # Refused as a damaged trail (409 over HTTP), naming the key as a likely cause.
        with pytest.raises(TrailDamaged, match="WHT_CIPHER_KEY is not the key"):
            intruder.view(UUID(program_id))
    finally:
        intruder.close()


# A fixed 30-byte key (not a random one): pytest-xdist needs the same test ids in every worker.
@pytest.mark.parametrize(
    "bad", ["not base64!", "c2hvcnQ=", base64.b64encode(bytes(range(30))).decode()]
)
def test_a_malformed_cipher_key_is_refused_before_anything_is_stored(
    sqlite_url: str, bad: str
) -> None:
    with pytest.raises(BadCipherKey, match="wht keys cipher-key"):
        build_tracker(sqlite_url, cipher_key=bad)


def test_through_the_running_service_nothing_readable_lands_anywhere(
    sealed: Tracker, store_url: str
) -> None:
    """The same, with events sent over HTTP to the app as `wht serve` runs it: its read
    model, access log and key tables are in the database too."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import install_auth

    marker = uuid4().hex[:12]
    values = secrets_of(marker)
    app = create_app(sealed)
    store = install_auth(app, sealed)
    _, provider = store.add_key("provider", "clinic-north", "front desk")
    _, regulator = store.add_key("regulator")
    _, payer = store.add_key("payer")
    first = referred()
    first["data"]["worker"].update(name=values["worker name"], work_history=values["work history"])
    first["data"]["claim"].update(
        claim_number=values["claim number"], compensable_injury_reported=False
    )
    program_id = str(uuid4())
    with TestClient(app) as client:
        for body in (first, admitted(), evaluated(), session(ADMITTED_ON)):
            response = client.post(
                f"/v1/programs/{program_id}/events",
                json=body,
                headers={"Authorization": f"Bearer {provider}"},
            )
            assert response.status_code == 201, response.text
        as_regulator = {"Authorization": f"Bearer {regulator}"}
        # A payer reads the worker back (a regulator's answers are de-identified).
        as_payer = {"Authorization": f"Bearer {payer}"}
        read = client.get(f"/v1/programs/{program_id}/events", headers=as_payer)
        assert read.json()[0]["data"]["worker"]["name"] == values["worker name"]
        if "/v1/programs" in app.openapi()["paths"]:  # the read model has caught up
            listed = client.get("/v1/programs", headers=as_regulator).json()["programs"]
            assert [p["program_id"] for p in listed] == [program_id]
    sealed.close()
    raw = raw_bytes(store_url)
    for what, value in values.items():
        assert value.encode() not in raw, f"the {what} is readable in the stored bytes"
    assert marker.encode() not in raw
