"""One example per operation of the OpenAPI document (the README's program)."""

from __future__ import annotations

from typing import Any

PROGRAM = "3f1c2a9e-0d7b-4c55-9a51-6f0c7b1e2d10"
FINDING = {
    "code": "daily_hours_over_cap",
    "clause": "COV-2",
    "severity": "violation",
    "occurred_on": "2026-03-10",
    "message": "Logged 9 hours on 2026-03-10; policy reimburses up to 8 hours a day (COV-2).",
}
SESSION: dict[str, Any] = {
    "event_id": "8a7c1d2e-1111-4c1a-9f00-000000000003",
    "type": "SessionLogged",
    "occurred_on": "2026-03-10",
    "data": {
        "hours": 9,
        "provider": {
            "name": "Dana Ruiz",
            "discipline": "physical_therapist",
            "license_number": "PT-44120",
        },
        "activities": ["work_simulation"],
        "ancillary_minutes": {"97110": 20, "97530": 0, "97112": 0},
        "documented": True,
    },
}
RECEIPT = {
    "program_id": PROGRAM,
    "event_id": SESSION["event_id"],
    "version": 3,
    "recorded_at": "2026-03-10T17:02:11.402113+00:00",
    "findings": [FINDING],
}
FIGURES: dict[str, Any] = {
    "status": "admitted",
    "policy": "optum-481",
    "as_of": "2026-03-13",
    "admitted_on": "2026-03-09",
    "discharged_on": None,
    "weeks_used": 1,
    "days_attended": 1,
    "total_hours": 9,
    "reimbursable_hours": 8,
    "unexcused_absences": 0,
    "excused_absences": 0,
    "tardy_days": 0,
    "absence_equivalents": 0,
    "discharge_eligible": False,
    "discharge_reasons": [],
    "findings": [FINDING],
}
COMPLIANCE = {
    "program_id": PROGRAM,
    "version": 3,
    "known_at": "2026-03-13T12:00:00.000000+00:00",
    **FIGURES,
}
STORED = {
    "version": 3,
    "event_id": SESSION["event_id"],
    "type": "SessionLogged",
    "occurred_on": "2026-03-10",
    "recorded_at": RECEIPT["recorded_at"],
    "data": SESSION["data"],
    "hash": "e77526954948a273c56fc1d0c373d88de5dc6d73cff460586bd25335a474df84",
    "prev_hash": "359c90c78483cecbeb553ecda57e730f319ed10d6f961a72e9aec0c63b282ffb",
}
AUDIT = [
    {
        **{k: STORED[k] for k in ("version", "event_id", "type", "occurred_on", "recorded_at")},
        "event": STORED,
        "figures": FIGURES,
        "findings_added": [FINDING],
        "findings_resolved": [],
    }
]
INTEGRITY = {
    "program_id": PROGRAM,
    "ok": True,
    "events_checked": 3,
    "head_hash": STORED["hash"],
    "first_bad_version": None,
    "problems": [],
}
BILLING = [
    {
        "date": "2026-03-10",
        "hours": 8,
        "lines": [{"code": "97545", "units": 1}, {"code": "97546", "units": 6}],
    }
]
PROGRAMS = {
    "programs": [
        {
            "program_id": PROGRAM,
            "provider_id": "clinic-north",
            "status": "admitted",
            "discharge_eligible": False,
            "findings": ["daily_hours_over_cap"],
            "as_of": "2026-03-13",
        }
    ],
    "next_cursor": None,
    "as_of": "2026-03-13",
    "known_at": "2026-03-13T12:00:00.000000+00:00",
    "limit": 50,
}
PERIODS = [{"from": "2021-04-22", "to": None}]
POLICIES = [
    {
        "id": "optum-481",
        "name": "Work Hardening (Utilization Management Policy 481)",
        "payer": "Optum (OptumHealth Care Solutions, LLC)",
        "version": "2021-04-20",
        "default": True,
        "effective_periods": PERIODS,
    }
]
DIGEST = {
    "position": 96,
    "digest": STORED["hash"],
    "algorithm": "wht-log-chain-sha256-v1",
    "definition": "h_0 = '0'*64; h_n = sha256(...) over the notification log in id order",
    "events": 96,
    "token": f"{STORED['hash']}@96",
}
READY = {
    "status": "ready",
    "store_position": 96,
    "projector_position": 96,
    "projector_lag": 0,
    "max_lag": 1000,
}
