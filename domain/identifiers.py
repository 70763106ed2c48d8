"""Identifiers as the tracker compares and uses them (docs/domain.md R15).

A physician referral id, a worker id, a claim number, a licence number and a
discipline are sent as free text. Surrounding whitespace is not part of the
value, and an empty value is no value; disciplines also compare
case-insensitively, with spaces as underscores ("Physical Therapist" is
`physical_therapist`). Stored events keep what was sent: these functions are
applied where a value is compared or used, never to the stored body.
"""

from __future__ import annotations


def identifier(value: str | None) -> str | None:
    """`value` without surrounding whitespace; None when that leaves nothing."""
    if value is None:
        return None
    text = value.strip()
    return text or None


def discipline(value: str | None) -> str | None:
    """A discipline as the pack spells them: trimmed, lower case, each run of
    whitespace one underscore; None when blank."""
    text = identifier(value)
    return "_".join(text.lower().split()) if text is not None else None
