"""De-identified answers for regulators (docs/reference/http.md).

A regulator asks about programs, never about people: no answer it gets may
hold a worker's name, worker id, employer or claim number. Those four fields
of every referral in a program's trail (retracted ones too: the trail keeps
them) are replaced by `[redacted]`, and any free text that quotes one of
them (a finding's message quotes the claim number, a report's demographics
name the worker) has the quote replaced too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.events import ProgramReferred
from domain.facts import Fact

REDACTED = "[redacted]"
# Identifiers shorter than this are redacted in their own fields only: replacing
# "7" in free text would mangle dates and numbers, not protect anyone.
MIN_QUOTED = 3


@dataclass(frozen=True)
class Deidentifier:
    """What to hide for one program (see the module docstring)."""

    identifiers: tuple[str, ...]

    @classmethod
    def of(cls, trail: Iterable[Fact]) -> Deidentifier:
        """The identifiers of every referral in `trail`."""
        found: set[str] = set()
        for fact in trail:
            data = fact.data
            if isinstance(data, ProgramReferred):
                found |= {
                    data.worker.worker_id,
                    data.worker.name,
                    data.worker.employer,
                    data.claim.claim_number,
                }
        kept = {text.strip() for text in found if len(text.strip()) >= MIN_QUOTED}
        return cls(tuple(sorted(kept, key=lambda text: (-len(text), text))))

    def text(self, value: str) -> str:
        """`value` with every quoted identifier replaced (case-insensitively)."""
        if not self.identifiers:
            return value
        pattern = "|".join(re.escape(text) for text in self.identifiers)
        return re.sub(pattern, REDACTED, value, flags=re.IGNORECASE)

    def value(self, value: Any) -> Any:
        """Every string inside a JSON-like value passed through `text`."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value

    def referral(self, referral: ProgramReferred) -> ProgramReferred:
        """A referral with the worker's name, id and employer and the claim number hidden."""
        worker = referral.worker.model_copy(
            update={
                "worker_id": REDACTED,
                "name": REDACTED,
                "employer": REDACTED,
                "work_history": self.value(referral.worker.work_history),
            }
        )
        claim = referral.claim.model_copy(update={"claim_number": REDACTED})
        return referral.model_copy(update={"worker": worker, "claim": claim})

    def event(self, described: dict[str, Any]) -> dict[str, Any]:
        """One event as `Tracker.describe` shows it, de-identified (its `hash` still
        covers the stored body, so it no longer matches what is shown)."""
        data = described.get("data")
        if described.get("type") == "ProgramReferred" and isinstance(data, dict):
            data = {
                **data,
                "worker": {
                    **data.get("worker", {}),
                    "worker_id": REDACTED,
                    "name": REDACTED,
                    "employer": REDACTED,
                },
                "claim": {**data.get("claim", {}), "claim_number": REDACTED},
            }
        return {**described, "data": self.value(data)}

    def finding(self, finding: dict[str, Any]) -> dict[str, Any]:
        """A finding (`Finding.as_dict`) whose message quotes no identifier."""
        return {**finding, "message": self.text(str(finding.get("message", "")))}
