"""A receipt lists what its event added, to its own program and to others (R13).

A referral recorded late but dated first on a physician referral id makes an
already-admitted program on that id a repeat (COV-1). Its receipt lists, under
`others`, the findings it added to that program: the expected ones are the
difference of two `assess` answers (the oracle), the other program judged with
and without the new program among its earlier ones, at its own receipt date,
compared by (code, clause, severity, date).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from projections.fold import added
from projections.model import Finding
from projections.referrals import CLAIM_NUMBER, REFERRAL_ID, earlier_entry
from service.application import Tracker
from tests.helpers import REFERRED_ON, admitted, plus, referred, retraction, send, send_batch
from tests.oracles.assess import assess

CODE = "repeat_program_without_review"


def oracle(tracker: Tracker, program_id: UUID, earlier: list[UUID]) -> list[dict[str, Any]]:
    """What becoming a repeat of `earlier` adds to the program, by `assess` alone. The
    helpers' programs on one referral id are one worker's, with one claim number."""
    shared = (REFERRAL_ID, CLAIM_NUMBER)
    entries = [earlier_entry(str(pid), shared) for pid in earlier]
    program = tracker.program(program_id)
    pack = tracker.catalog.packs[tracker.catalog.default_id]
    on = max(fact.occurred_on for fact in program.trail)
    before = assess(program.trail, pack, on).findings
    after = assess(program.trail, pack, on, earlier_programs_same_referral=entries).findings
    seen = {(f.code, f.clause, f.severity, f.occurred_on) for f in before}
    return [f.as_dict() for f in after if (f.code, f.clause, f.severity, f.occurred_on) not in seen]


def admitted_program(tracker: Tracker, key: str, on: date) -> UUID:
    program_id = uuid4()
    send(tracker, program_id, referred(on, referral_id=key))
    send(tracker, program_id, admitted(plus(on, 7)))
    return program_id


def test_a_referral_dated_first_names_the_program_it_made_a_repeat(tracker: Tracker) -> None:
    first = admitted_program(tracker, "PR-OTHERS", plus(REFERRED_ON, 3))
    earlier = uuid4()
    receipt = send(tracker, earlier, referred(REFERRED_ON, referral_id="PR-OTHERS")).body
    expected = oracle(tracker, first, [earlier])
    assert any(f["code"] == CODE for f in expected)
    assert receipt["others"] == [
        {"program_id": str(first), "provider_id": "clinic-north", "findings": expected}
    ]
    assert receipt["findings"] == []  # the new program itself came first: no repeat


def test_a_referral_dated_first_on_the_workers_claim_names_the_program_it_made_a_repeat(
    tracker: Tracker,
) -> None:
    # R16: the same worker's claim number links the programs, not the referral id.
    first = uuid4()
    same = {"worker_id": "W-OTHERS", "claim_number": "WC-OTHERS"}
    send(tracker, first, referred(plus(REFERRED_ON, 3), referral_id="PR-LATER", **same))
    send(tracker, first, admitted(plus(REFERRED_ON, 10)))
    earlier = uuid4()
    receipt = send(tracker, earlier, referred(REFERRED_ON, referral_id="PR-FIRST", **same)).body
    (other,) = receipt["others"]
    assert other["program_id"] == str(first)
    (finding,) = [f for f in other["findings"] if f["code"] == CODE]
    assert finding["occurred_on"] == plus(REFERRED_ON, 10).isoformat()
    assert "claim WC-OTHERS" in finding["message"] and str(earlier) in finding["message"]


def test_a_referral_of_another_worker_on_the_same_referral_id_has_no_others(
    tracker: Tracker,
) -> None:
    first = uuid4()
    send(tracker, first, referred(plus(REFERRED_ON, 3), referral_id="PR-WHO", worker_id="W-A"))
    send(tracker, first, admitted(plus(REFERRED_ON, 10)))
    receipt = send(tracker, uuid4(), referred(REFERRED_ON, referral_id="PR-WHO", worker_id="W-B"))
    assert "others" not in receipt.body


def test_a_referral_that_changes_no_other_program_has_no_others(tracker: Tracker) -> None:
    first = admitted_program(tracker, "PR-CALM", REFERRED_ON)
    later = uuid4()
    receipt = send(tracker, later, referred(plus(REFERRED_ON, 3), referral_id="PR-CALM")).body
    assert "others" not in receipt
    assert oracle(tracker, first, []) == []
    # Retracting the first referral withdraws the later program's repeat finding:
    # nothing is added anywhere, so no receipt lists others.
    send(tracker, later, admitted(plus(REFERRED_ON, 10)))
    first_referral = tracker.program(first).trail[0]
    gone = send(tracker, first, retraction(plus(REFERRED_ON, 20), first_referral.event_id))
    assert "others" not in gone.body


def test_in_a_batch_the_other_program_is_judged_as_the_batch_left_it(tracker: Tracker) -> None:
    first = admitted_program(tracker, "PR-BATCH", plus(REFERRED_ON, 3))
    earlier = uuid4()
    receipts = send_batch(
        tracker,
        [
            (earlier, referred(REFERRED_ON, referral_id="PR-BATCH")),
            (earlier, admitted(plus(REFERRED_ON, 7))),
        ],
    )
    expected = oracle(tracker, first, [earlier])
    assert receipts[0].body["others"] == [
        {"program_id": str(first), "provider_id": "clinic-north", "findings": expected}
    ]
    assert "others" not in receipts[1].body


def test_a_warning_that_becomes_a_violation_on_the_same_date_is_added() -> None:
    # The receipt's comparison (R13): same code, clause and date, worse severity.
    on = REFERRED_ON
    was = Finding("evaluation_documentation_late", "TS-e", "warning", on, "late")
    now = Finding("evaluation_documentation_late", "TS-e", "violation", on, "later")
    assert added([was], [now]) == [now]
    assert added([now], [now]) == []
