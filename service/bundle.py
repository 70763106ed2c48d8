"""Dispute bundles: one program's evidence in a zip that can be checked offline.

A bundle holds the program's stored events with their hashes (`events.json`),
the policy pack that judged it, whole (`policy.json`, and `packs/ID.json` for
any other pack an earlier step was judged by), the audit replay
(`audit.json`), the figures and billing (`figures.json`) and a
`manifest.json` (tool version, instants, head hash, the COV-1 context that
only the store knew, and the SHA-256 of every other file).

`check_bundle` needs nothing but the bundle: it rebuilds the facts from the
bundled events, validates the bundled pack with `PolicyPack.model_validate`,
re-derives the replay and the figures with `projections`, recomputes the
hash chain, and lists every difference it finds.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from domain.chain import Link, chain_problems
from domain.events import EVENT_MODELS
from domain.facts import Fact
from domain.policy import PolicyCatalog, PolicyPack
from domain.program import format_instant
from projections.audit import catalog_judge, replay
from service.application import Tracker
from service.integrity import TrailDamaged, read_links
from service.replay import earlier_by_referral, integrity, judge_for, readable_view, steps_json

FORMAT = "wht-bundle/1"
FILES = ("events.json", "policy.json", "audit.json", "figures.json")
LIMIT = 12  # differences listed per file
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so one program's bundle is byte-for-byte repeatable


def _dump(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def link_json(link: Link) -> dict[str, Any]:
    """One stored event exactly as its hash covers it."""
    return {
        "version": link.version,
        "event_id": link.event_id,
        "type": link.type,
        "occurred_on": link.occurred_on,
        "recorded_at": format_instant(link.recorded_at),
        "data": link.data,
        "prev_hash": link.prev_hash,
        "hash": link.hash,
    }


def figures_json(program_id: UUID, version: int, known_at: str, assessment: Any) -> dict[str, Any]:
    return {
        "program_id": str(program_id),
        "version": version,
        "known_at": known_at,
        **assessment.figures(),
        "billing": [d.as_dict() for d in assessment.billing],
    }


def build_bundle(
    tracker: Tracker,
    program_id: UUID,
    *,
    tool_version: str,
    known_at: datetime | None = None,
    as_of: date | None = None,
) -> bytes:
    """The zip of one program as known at `known_at`, judged as of `as_of`."""
    report = integrity(tracker, program_id)
    if not report.ok:
        raise TrailDamaged(
            f"Program {program_id}'s hash chain is broken at version "
            f"{report.first_bad_version}; run `wht verify {program_id}`."
        )
    view = readable_view(tracker, program_id, known_at)
    version = view.program.version
    links, _ = read_links(tracker.recorder, tracker.mapper, program_id, up_to_version=version)
    day = as_of or view.today()
    steps = replay(view.program.trail, judge_for(tracker, view), day)
    known = format_instant(view.known_at)
    files: dict[str, bytes] = {
        "events.json": _dump([link_json(x) for x in links if isinstance(x, Link)]),
        "policy.json": _dump(view.pack.model_dump(mode="json", by_alias=True)),
        "audit.json": _dump(steps_json(steps)),
        "figures.json": _dump(figures_json(program_id, version, known, view.assess(day))),
    }
    for pack_id in sorted({s.assessment.policy for s in steps} - {view.pack.id}):
        files[f"packs/{pack_id}.json"] = _dump(
            tracker.catalog.packs[pack_id].model_dump(mode="json", by_alias=True)
        )
    manifest = {
        "format": FORMAT,
        "tool": {"name": "wht", "version": tool_version},
        "created_at": format_instant(tracker.clock()),
        "program_id": str(program_id),
        "version": version,
        "events": len(links),
        "known_at": known,
        "as_of": day.isoformat(),
        "policy": view.pack.id,
        "default_policy": tracker.catalog.default_id,
        "head_hash": view.program.last_hash,
        "context": {"earlier_programs_same_referral": earlier_by_referral(tracker, view)},
        "files": {name: _sha(data) for name, data in files.items()},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [("manifest.json", _dump(manifest)), *files.items()]:
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), data)
    return buffer.getvalue()


@dataclass
class BundleCheck:
    """What `check_bundle` found: `differences` is empty when the bundle holds."""

    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences


def diff(label: str, bundled: Any, derived: Any, out: list[str], notes: list[str]) -> None:
    """Append a line for each place two JSON values differ (at most `LIMIT`).

    A finding's `message` is wording, not a figure: a bundle written by another
    version of the tool may word a finding differently, so that goes to `notes`.
    """
    if len(out) >= LIMIT or bundled == derived:
        return
    if isinstance(bundled, dict) and isinstance(derived, dict):
        for key in sorted(set(bundled) | set(derived), key=str):
            if key == "message" and "code" in bundled:
                if bundled.get(key) != derived.get(key) and len(notes) < LIMIT:
                    notes.append(f"{label}.message is worded differently now")
                continue
            diff(f"{label}.{key}", bundled.get(key), derived.get(key), out, notes)
    elif isinstance(bundled, list) and isinstance(derived, list) and len(bundled) == len(derived):
        for i, (a, b) in enumerate(zip(bundled, derived, strict=True)):
            diff(f"{label}[{i}]", a, b, out, notes)
    else:
        out.append(
            f"{label}: the bundle says {json.dumps(bundled)[:200]}, "
            f"re-derived {json.dumps(derived)[:200]}"
        )


def _facts(events: Sequence[dict[str, Any]]) -> list[Fact]:
    return [
        Fact(
            version=e["version"],
            event_id=e["event_id"],
            type=e["type"],
            occurred_on=date.fromisoformat(e["occurred_on"]),
            recorded_at=datetime.fromisoformat(e["recorded_at"]).astimezone(UTC),
            data=EVENT_MODELS[e["type"]].model_validate(e["data"]),
            hash=e["hash"],
            prev_hash=e["prev_hash"],
        )
        for e in events
    ]


def _links(events: Sequence[dict[str, Any]]) -> list[Link]:
    return [
        Link(
            e["version"],
            e["type"],
            e["event_id"],
            e["occurred_on"],
            datetime.fromisoformat(e["recorded_at"]),
            e["data"],
            e["prev_hash"],
            e["hash"],
        )
        for e in events
    ]


def check_bundle(data: bytes) -> BundleCheck:
    """Re-derive everything in a bundle from the bundle alone; list what differs."""
    check = BundleCheck()
    out = check.differences
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
        manifest = json.loads(files["manifest.json"])
        docs = {name: json.loads(files[name]) for name in FILES}
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        out.append(f"not a readable bundle: {type(exc).__name__}: {exc}")
        return check
    for name, digest in sorted(manifest.get("files", {}).items()):
        if name not in files:
            out.append(f"{name}: listed in manifest.json but missing")
        elif _sha(files[name]) != digest:
            out.append(f"{name}: its SHA-256 differs from the one in manifest.json (altered)")
    try:
        program_id = UUID(manifest["program_id"])
        events = docs["events.json"]
        for problem in chain_problems(program_id, _links(events)):
            out.append(f"events.json: version {problem.version}: {problem.reason}")
        head = events[-1]["hash"] if events else None
        if head != manifest.get("head_hash"):
            out.append(
                f"events.json: head hash {head} is not manifest.json's {manifest.get('head_hash')}"
            )
        packs = [PolicyPack.model_validate(docs["policy.json"])] + [
            PolicyPack.model_validate(json.loads(body))
            for name, body in sorted(files.items())
            if name.startswith("packs/")
        ]
        ids = {p.id for p in packs}
        default = manifest.get("default_policy")
        catalog = PolicyCatalog(packs, default if default in ids else packs[0].id)
        context = manifest.get("context", {}).get("earlier_programs_same_referral", {})
        as_of = date.fromisoformat(manifest["as_of"])
        facts = _facts(events)
        steps = replay(facts, catalog_judge(catalog, context), as_of)
    except Exception as exc:  # a bundle altered into nonsense is rejected, never a crash
        out.append(f"cannot re-derive the figures: {type(exc).__name__}: {exc}"[:400])
        return check
    if steps:
        derived = figures_json(
            program_id, steps[-1].fact.version, manifest["known_at"], steps[-1].assessment
        )
        found: list[str] = []
        diff("figures.json", docs["figures.json"], derived, found, check.notes)
        out += found
    found = []
    diff("audit.json", docs["audit.json"], steps_json(steps), found, check.notes)
    out += found + (["audit.json: further differences not listed"] if len(found) >= LIMIT else [])
    check.summary = {
        "program_id": str(program_id),
        "events": len(events),
        "head_hash": head,
        "policy": docs["policy.json"].get("id"),
        "as_of": manifest["as_of"],
        "known_at": manifest["known_at"],
        "tool": manifest.get("tool"),
    }
    return check
