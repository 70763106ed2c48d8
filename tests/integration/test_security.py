"""API keys, revocations and the access log in the tracker's own database, on both stores;
`wht keys` as a command; the rule that keeps an open service on loopback."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from typer.testing import CliRunner

from api.auth import check_serve_host
from api.cli import cli
from domain.errors import TrackerError
from service.application import Tracker
from service.security import (
    Access,
    ApiKeyAlreadyRevoked,
    ApiKeyNotFound,
    InvalidApiKey,
    Role,
    SecurityStore,
    hash_token,
)


@pytest.fixture
def store(tracker: Tracker) -> SecurityStore:
    return SecurityStore.of(tracker)


def raw_rows(store: SecurityStore, table: str) -> list[tuple[Any, ...]]:
    with store.datastore.transaction(commit=False) as curs:
        curs.execute(f"SELECT * FROM {table}")
        return [
            tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in curs.fetchall()
        ]


def execute(store: SecurityStore, sql: str) -> None:
    with store.datastore.transaction(commit=True) as curs:
        curs.execute(sql)


def read(key_id: str, program: str | None = "p-1", status: int = 200) -> Access:
    return Access(
        key_id=key_id,
        role="payer",
        method="GET",
        endpoint="/v1/programs/{program_id}/compliance",
        path=f"/v1/programs/{program}/compliance",
        status=status,
        program_id=program,
        as_of="2026-04-01",
        known_at=None,
        query="as_of=2026-04-01",
    )


def test_a_new_key_is_stored_only_as_its_hash(store: SecurityStore) -> None:
    key, token = store.add_key("provider", "clinic-north", "North clinic front desk")
    assert token.startswith("wht_") and len(token) > 40
    rows = raw_rows(store, "wht_api_keys")
    assert len(rows) == 1
    assert token not in repr(rows) and hash_token(token) in repr(rows)
    assert store.authenticate(token) == key
    assert store.authenticate(token + "x") is None
    assert (key.role, key.provider_id, key.label) == (
        Role.PROVIDER,
        "clinic-north",
        "North clinic front desk",
    )


def test_two_keys_for_one_role_are_different_random_tokens(store: SecurityStore) -> None:
    tokens = {store.add_key("payer")[1] for _ in range(5)}
    assert len(tokens) == 5
    assert len({k.key_id for k in store.list_keys()}) == 5


@pytest.mark.parametrize(
    ("role", "provider"),
    [("provider", None), ("provider", " "), ("payer", "clinic-north"), ("root", None)],
)
def test_a_key_request_that_does_not_fit_its_role_is_refused(
    store: SecurityStore, role: str, provider: str | None
) -> None:
    with pytest.raises(InvalidApiKey):
        store.add_key(role, provider)
    assert store.list_keys() == [] and not store.has_keys()


def test_a_revoked_key_no_longer_authenticates_and_its_row_is_unchanged(
    store: SecurityStore,
) -> None:
    key, token = store.add_key("auditor", label="dispute team")
    before = raw_rows(store, "wht_api_keys")
    revoked = store.revoke(key.key_id, "left the team")
    assert revoked.revoked_at is not None
    assert store.authenticate(token) is None
    assert raw_rows(store, "wht_api_keys") == before  # a revocation is a new row
    assert len(raw_rows(store, "wht_api_key_revocations")) == 1
    assert [k.as_dict()["active"] for k in store.list_keys()] == [False]
    with pytest.raises(ApiKeyAlreadyRevoked):
        store.revoke(key.key_id)
    with pytest.raises(ApiKeyNotFound):
        store.revoke("k-nope")


def test_revoking_every_key_does_not_reopen_the_service(store: SecurityStore) -> None:
    assert not store.has_keys()
    key, _ = store.add_key("admin")
    store.revoke(key.key_id)
    assert SecurityStore(store.datastore).has_keys()  # a fresh process sees it too


@pytest.mark.parametrize("table", ["wht_api_keys", "wht_api_key_revocations", "wht_access_log"])
def test_the_security_tables_refuse_update_and_delete(store: SecurityStore, table: str) -> None:
    key, _ = store.add_key("payer")
    store.revoke(key.key_id)
    store.record_access(read(key.key_id))
    column = {
        "wht_api_keys": "label",
        "wht_api_key_revocations": "reason",
        "wht_access_log": "query",
    }[table]
    with pytest.raises(Exception, match="append-only"):
        execute(store, f"UPDATE {table} SET {column} = 'changed'")
    with pytest.raises(Exception, match="append-only"):
        execute(store, f"DELETE FROM {table}")
    assert len(raw_rows(store, table)) == 1


def test_the_access_log_is_a_hash_chain_that_shows_any_change(store: SecurityStore) -> None:
    key, _ = store.add_key("payer")
    for i in range(5):
        store.record_access(read(key.key_id, f"p-{i}"))
    log = store.access_log()
    assert [e["seq"] for e in log] == [1, 2, 3, 4, 5]
    assert log[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(log, log[1:], strict=False))
    report = store.verify_access_log()
    assert (report.ok, report.entries_checked, report.head_hash) == (True, 5, log[-1]["hash"])
    # Someone with the database's own powers lifts the guard and edits one row.
    if store.sqlite:
        execute(store, "DROP TRIGGER wht_access_log_no_update")
    else:
        execute(store, "ALTER TABLE wht_access_log DISABLE TRIGGER wht_access_log_append_only")
    execute(store, "UPDATE wht_access_log SET program_id = 'p-other' WHERE seq = 3")
    report = store.verify_access_log()
    assert (report.ok, report.first_bad_seq) == (False, 3)


def test_the_access_log_filters_by_key_program_and_pages_by_seq(store: SecurityStore) -> None:
    one, _ = store.add_key("payer")
    two, _ = store.add_key("regulator")
    for i in range(6):
        store.record_access(read((one, two)[i % 2].key_id, f"p-{i % 3}"))
    assert [e["seq"] for e in store.access_log(key_id=two.key_id)] == [2, 4, 6]
    assert [e["seq"] for e in store.access_log(program_id="p-1")] == [2, 5]
    assert [e["seq"] for e in store.access_log(after=2, limit=3)] == [3, 4, 5]
    first = store.access_log()[0]["at"]
    assert len(store.access_log(since=first)) == 6
    assert store.access_log(until=first)[0]["seq"] == 1


def test_concurrent_reads_are_logged_in_one_unbroken_chain(store: SecurityStore) -> None:
    key, _ = store.add_key("auditor")
    barrier = threading.Barrier(6)

    def reader(n: int) -> None:
        barrier.wait()
        for i in range(10):
            store.record_access(read(key.key_id, f"p-{n}-{i}"))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(reader, range(6)))
    log = store.access_log(limit=1000)
    assert [e["seq"] for e in log] == list(range(1, 61))
    assert len({e["program_id"] for e in log}) == 60
    assert store.verify_access_log().ok


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_an_open_service_may_serve_on_loopback(tracker: Tracker, host: str) -> None:
    assert check_serve_host(host, tracker) is None


def test_an_open_service_refuses_every_other_interface(tracker: Tracker) -> None:
    for host in ("0.0.0.0", "::", "192.168.1.10", "wht.example"):
        message = check_serve_host(host, tracker)
        assert message is not None and "no API key" in message and "wht keys add" in message
    SecurityStore.of(tracker).add_key("admin")
    assert check_serve_host("0.0.0.0", tracker) is None


def invoke(store_url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env={"WHT_DATABASE_URL": store_url})


def test_wht_keys_add_prints_the_key_once_on_its_last_line_and_keys_list_never(
    tracker: Tracker, store_url: str
) -> None:
    added = invoke(
        store_url,
        "keys",
        "add",
        "--role",
        "provider",
        "--provider",
        "clinic-north",
        "--label",
        "North",
    )
    assert added.exit_code == 0, added.output
    token = added.stdout.strip().splitlines()[-1]
    key = SecurityStore.of(tracker).authenticate(token)
    assert key is not None and key.provider_id == "clinic-north" and key.label == "North"
    listed = invoke(store_url, "keys", "list")
    assert listed.exit_code == 0 and key.key_id in listed.stdout and token not in listed.stdout
    revoked = invoke(store_url, "keys", "revoke", key.key_id, "--reason", "rotated")
    assert revoked.exit_code == 0, revoked.output
    assert SecurityStore.of(tracker).authenticate(token) is None
    again = invoke(store_url, "keys", "revoke", key.key_id)
    assert again.exit_code == 1 and "already revoked" in again.stderr


def test_wht_keys_refuses_a_provider_key_without_its_provider(store_url: str) -> None:
    result = invoke(store_url, "keys", "add", "--role", "provider")
    assert result.exit_code != 0 and "--provider" in result.stderr


def test_wht_keys_cipher_key_prints_a_new_aes_key(sqlite_url: str) -> None:
    from base64 import b64decode

    first = invoke(sqlite_url, "keys", "cipher-key").stdout.strip().splitlines()[-1]
    second = invoke(sqlite_url, "keys", "cipher-key").stdout.strip().splitlines()[-1]
    assert first != second and len(b64decode(first)) == 32
    assert "WHT_CIPHER_KEY" in invoke(sqlite_url, "keys", "--help").stdout


def test_domain_errors_of_keys_are_tracker_errors() -> None:
    assert issubclass(ApiKeyNotFound, TrackerError) and issubclass(InvalidApiKey, TrackerError)
