"""The oracle: `assess`, a whole trail judged at one business date, every rule once.

This is the definition every answer of the product is held to. The product judges
a program only through its fold (`projections.fold`), built from the same rules
(`projections.compliance.RULES`); the tests compare the two over generated
histories (tests/unit/test_one_fold.py and others). Given the same facts, pack and
dates `assess` returns the same `Assessment`, whatever order the facts come in (bar
which `ProgramReferred` is the referral: the first one remaining).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from domain.facts import Fact
from domain.policy import PolicyPack
from projections.audit import Judge
from projections.compliance import RULES, RuleInputs, assessment_of, merge_findings
from projections.filing import build_record
from projections.model import Assessment, Finding
from projections.record import ProgramRecord
from projections.rules.attendance import Attendance, attendance
from projections.rules.coverage import DayLedger, day_ledger
from projections.rules.discharge import discharge_reasons


def assess(
    facts: Sequence[Fact],
    pack: PolicyPack,
    as_of: date,
    *,
    pack_in_force: bool = True,
    earlier_programs_same_referral: Sequence[str] = (),
) -> Assessment:
    """Is this program compliant as of `as_of`, what is reimbursable, is it due for discharge?

    `facts` are the program's events recorded by some instant, in record
    order, retractions included. Retracted facts and facts that occurred
    after `as_of` are left out; everything is derived from the rest.
    `pack_in_force` False adds `policy_not_in_force`; ids in
    `earlier_programs_same_referral` (other programs on the same physician
    referral, referred earlier) call for a `RepeatProgramApproved` (COV-1).
    """
    verdict = judge(
        build_record(facts, as_of),
        pack,
        pack_in_force=pack_in_force,
        earlier_programs_same_referral=earlier_programs_same_referral,
    )
    return assessment_of(
        verdict.record,
        pack,
        verdict.ledger,
        verdict.counts,
        verdict.reasons,
        merge_findings(verdict.findings),
    )


@dataclass(frozen=True)
class Verdict:
    """The rules' answers for one record, before figures and billing are added."""

    record: ProgramRecord
    ledger: DayLedger
    counts: Attendance
    reasons: tuple[str, ...]
    findings: tuple[Finding, ...]  # unmerged: `merge_findings` keeps every code


def judge(
    record: ProgramRecord,
    pack: PolicyPack,
    *,
    pack_in_force: bool = True,
    earlier_programs_same_referral: Sequence[str] = (),
) -> Verdict:
    """Every rule applied to `record` (the parameters are those of `assess`)."""
    ledger = day_ledger(record, pack)
    counts = attendance(record, pack)
    reasons = discharge_reasons(record, pack, counts)
    given = RuleInputs(record, pack, ledger, counts, pack_in_force, earlier_programs_same_referral)
    findings = [finding for rule in RULES for finding in rule.find(given)]
    return Verdict(record, ledger, counts, reasons, tuple(findings))


def assess_trail(facts: Sequence[Fact], judge: Judge, as_of: date) -> Assessment:
    """The assessment of a whole trail as of `as_of`, judged as `judge` says."""
    judgement = judge(facts)
    return assess(
        facts,
        judgement.pack,
        as_of,
        pack_in_force=judgement.in_force,
        earlier_programs_same_referral=judgement.earlier_programs,
    )
