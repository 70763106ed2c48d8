"""A provider key sees and writes only its own provider's programs: another provider's
program answers exactly as an unknown one (404), and a provider refers programs only
to itself (403)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from starlette.responses import Response
from starlette.types import Message, Receive

from api.limits import MAX_BODY_BYTES
from api.problems import problem
from api.roles import Call, Refused


def not_known(program_id: Any, write: bool) -> Response:
    # Word for word what the tracker says of a program that does not exist, so that a
    # provider cannot tell another provider's program from no program.
    detail = (
        f"Program {program_id} does not exist: its first event must be ProgramReferred."
        if write
        else f"Program {program_id} is not known."
    )
    return problem(404, "Program not found", detail)


async def own_programs_only(
    call: Call, receive: Receive, owner: Callable[[UUID], Awaitable[str | None]]
) -> Receive:
    """Refuse a provider's call on another provider's program as if it did not exist (404),
    and a referral to another provider (403); `owner` finds a program's provider. For a
    write, the body is read here and handed on through the returned `receive`."""
    provider = call.key.provider_id
    raw = call.params.get("program_id")
    write = call.method == "POST"
    pid = _uuid(raw)
    if pid is not None and await owner(pid) not in (None, provider):
        raise Refused(not_known(raw, write))
    if not write:
        return receive
    body, receive = await _read_body(receive)
    items = _event_items(call.template, raw, body)
    unknown: list[int] = []
    owners: dict[UUID, str | None] = {}  # a batch may name one program a thousand times
    for index, (item_pid, item) in enumerate(items):
        claimed = (
            item.get("data", {}).get("provider_id") if isinstance(item.get("data"), dict) else None
        )
        if (
            item.get("type") == "ProgramReferred"
            and isinstance(claimed, str)
            and (claimed != provider)
        ):
            raise Refused(
                problem(
                    403,
                    "Forbidden",
                    f"This key refers programs only to "
                    f"provider {provider!r}, not {claimed[:100]!r}.",
                )
            )
        if call.template != "/v1/events" or item_pid is None:
            continue
        if item_pid not in owners:
            owners[item_pid] = await owner(item_pid)
        if owners[item_pid] not in (None, provider):
            unknown.append(index)
    if unknown:
        # Worded as the tracker words a batch naming programs that do not exist.
        said = {i: str(not_known(items[i][0], True).body, "utf-8") for i in unknown}
        details = {i: json.loads(text)["detail"] for i, text in said.items()}
        raise Refused(
            problem(
                422,
                "Batch rejected",
                f"{len(unknown)} of {len(items)} events were refused; nothing was stored.",
                items=[
                    {
                        "index": i,
                        "status": 404,
                        "title": "Program not found",
                        "detail": details[i],
                    }
                    for i in unknown
                ],
                errors=[{"loc": ["body", "events", i], "msg": details[i]} for i in unknown],
            )
        )
    return receive


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


Item = tuple[UUID | None, dict[str, Any]]


def _event_items(template: str, program_id: Any, body: Any) -> list[Item]:
    """The events a write carries, each with its program (None where it is not a UUID).
    A body that is not even shaped like events is left to the app to refuse (4xx)."""
    if template == "/v1/events":
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            return []
        return [(_uuid(e.get("program_id")), e) for e in events if isinstance(e, dict)]
    return [(_uuid(program_id), body)] if isinstance(body, dict) else []


async def _read_body(receive: Receive) -> tuple[Any, Receive]:
    """Read the whole body (refusing over 1 MiB as the size limit would), parse it if it is
    JSON, and give the app a `receive` that replays it."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(
                problem(
                    413,
                    "Request too large",
                    f"The body is over {MAX_BODY_BYTES} "
                    "bytes; send at most 1,000 events per batch and keep each "
                    "request under 1 MiB.",
                )
            )
        chunks.append(chunk)
        more = bool(message.get("more_body", False))
    data = b"".join(chunks)
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        body = None
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": data, "more_body": False}
        return await receive()

    return body, replay
