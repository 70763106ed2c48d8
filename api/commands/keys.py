"""`wht keys add|list|revoke|cipher-key|session-secret`: API keys with roles, the key
that encrypts the stored events, and the secret that signs web sessions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from domain.errors import TrackerError
from service.security import Role, SecurityStore

HELP = (
    "API keys (who may call the HTTP API) and the cipher key (what encrypts the store).\n\n"
    "Roles: provider (writes and reads its own --provider programs); payer (reads every "
    "program); auditor (reads, plus audit, integrity, bundles and the digest); regulator "
    "(reads, plus the cross-program list and the digest); admin (the access log). Clients send "
    "a key as `Authorization: Bearer KEY`. Once any key exists every /v1 call needs one; with "
    "none the service is open and `wht serve` stays on loopback.\n\n"
    "Encryption at rest: `wht keys cipher-key` prints a new random AES-256 key. Set it as "
    "WHT_CIPHER_KEY for every `wht` process before the first event is stored, and keep a copy "
    "apart from the database: stored events are then compressed and encrypted (AES-GCM), and "
    "without the key nobody can read them, you included."
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def security_store(ctx: typer.Context) -> Iterator[SecurityStore]:
    """The key store in WHT_DATABASE_URL's database; refusals become stderr and exit 1."""
    from api.terminal import open_tracker, settings_of

    tracker = open_tracker(settings_of(ctx))
    try:
        yield SecurityStore.of(tracker)
    except TrackerError as error:
        raise _fail(error.detail) from None
    finally:
        tracker.close()


def add(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(r.value for r in Role)}.")],
    provider: Annotated[
        str | None,
        typer.Option(help="The provider_id a provider key acts for (provider keys only)."),
    ] = None,
    label: Annotated[str, typer.Option(help="Who or what holds the key.")] = "",
) -> None:
    """Create a key and print it once (the last line); only its SHA-256 is stored."""
    with security_store(ctx) as store:
        key, token = store.add_key(role, provider, label)
    who = f", provider {key.provider_id}" if key.provider_id else ""
    typer.echo(
        f"created {key.key_id} (role {key.role.value}{who}"
        f"{', ' + repr(key.label) if key.label else ''})."
    )
    typer.echo("Copy the key now: it is not stored and cannot be shown again.")
    typer.echo(token)


def list_keys(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per key.")] = False,
) -> None:
    """Every key ever created, revoked ones included (never the keys themselves)."""
    with security_store(ctx) as store:
        found = store.list_keys()
    if as_json:
        for key in found:
            typer.echo(json.dumps(key.as_dict()))
        return
    if not found:
        typer.echo("no API keys: the service runs open, on loopback only")
        return
    for key in found:
        state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
        typer.echo(
            f"{key.key_id:<16} {key.role.value:<10} {key.provider_id or '-':<20} "
            f"created {key.created_at}  {state}  {key.label}"
        )


def revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key's id, as `wht keys list` shows.")],
    reason: Annotated[str, typer.Option(help="Why, for the record.")] = "",
) -> None:
    """Revoke a key from now on (recorded as a new row; nothing is deleted)."""
    with security_store(ctx) as store:
        key = store.revoke(key_id, reason)
    typer.echo(f"revoked {key.key_id} at {key.revoked_at}")


def cipher_key(
    size: Annotated[int, typer.Option("--bytes", help="Key size: 16, 24 or 32.")] = 32,
) -> None:
    """Print a new random AES key (base64) for WHT_CIPHER_KEY (see `wht keys --help`)."""
    from eventsourcing.cipher import AESCipher

    try:
        key = AESCipher.create_key(size)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    typer.echo(
        "Set this as WHT_CIPHER_KEY before the first event is stored, and keep a "
        "copy apart from the database: without it the events cannot be read.",
        err=True,
    )
    typer.echo(key)


def session_secret() -> None:
    """Print a new random secret (32 bytes, URL-safe) for WHT_SESSION_SECRET."""
    import secrets

    typer.echo(
        "Set this as WHT_SESSION_SECRET on every server that shares one sign-in; "
        "changing it signs everyone out.",
        err=True,
    )
    typer.echo(secrets.token_urlsafe(32))
