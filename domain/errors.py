"""Domain errors: one class per thing the tracker refuses to record.

The API maps the three families to HTTP (404, 409, 422); nothing here knows HTTP.
"""

from __future__ import annotations

from typing import Any


class TrackerError(Exception):
    """Base of every refusal. `title` is short; `detail` says what to do."""

    title = "Refused"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(TrackerError):
    title = "Not found"


class ProgramNotFound(NotFound):
    title = "Program not found"


class Conflict(TrackerError):
    title = "Conflict"


class ProgramAlreadyReferred(Conflict):
    title = "Program already referred"


class ProgramAlreadyAdmitted(Conflict):
    title = "Program already admitted"


class ProgramAlreadyDischarged(Conflict):
    title = "Program already discharged"


class RetractionTargetNotFound(Conflict):
    title = "Nothing to retract"


class AlreadyRetracted(Conflict):
    title = "Entry already retracted"


class VersionConflict(Conflict):
    title = "Program has moved on"


class EventIdConflict(Conflict):
    title = "event_id already used for a different event"


class TrailGap(Conflict):
    """An append that would leave a gap in a trail: the store holds fewer versions than
    the writer read (rows lost from it, a cut WAL); nothing is stored."""

    title = "Stored trail damaged"


class InvalidEvent(TrackerError):
    """The input cannot be a fact: malformed, from the future, unknown pack."""

    title = "Invalid event"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or [{"loc": [], "msg": detail}]


class DayOverTwentyFourHours(InvalidEvent):
    """A session that would make one date's standing sessions exceed 24 hours.

    A day has 24 hours, so such a session cannot be a fact (docs/domain.md R3);
    a day over the policy's 8 hours is recorded and becomes a finding.
    """

    title = "More than 24 hours in one day"


class MilestonesOutOfOrder(InvalidEvent):
    """A discharge dated before the standing admission, or an admission dated after
    the standing discharge: a program is discharged after it starts, so such an event
    cannot be a fact (docs/domain.md R17). Correct the other one with EntryRetracted
    first."""

    title = "Milestones out of order"


class BatchRejected(TrackerError):
    """Some items of a batch were refused; nothing of the batch was stored."""

    title = "Batch rejected"

    def __init__(self, detail: str, items: list[dict[str, Any]], status_family: str) -> None:
        super().__init__(detail)
        self.items = items
        self.status_family = status_family  # "invalid" or "conflict"


class InvalidRequest(TrackerError):
    """A request that cannot be read: a query parameter, a cursor, an API key request.
    Nothing is refused as a fact (that is InvalidEvent); the API answers 422 for both."""

    # Not "Invalid event", which these answers were titled while they were InvalidEvents:
    # a bad query parameter or cursor is no event (issue 23, item 8).
    title = "Invalid request"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or [{"loc": [], "msg": detail}]


class InvalidQuery(InvalidRequest):
    """A query parameter that is not what it must be (a date, an instant, a limit...)."""


class InvalidCursor(InvalidQuery):
    """A page cursor this service did not hand out."""


class StoreUnavailable(TrackerError):
    """The store cannot be reached, read or written just now: nothing was done; retry."""

    title = "Store unavailable"
