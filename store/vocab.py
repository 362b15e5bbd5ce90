"""The words stored in status columns, each defined once.

They live here, beside the tables, because `store/` may not import `reports/`. Each is a
`StrEnum`: a member equals its string, so rows read back as plain `str` compare equal to the
members, and what is stored, printed and written as JSON is the value itself.
"""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class Outcome(StrEnum):
    """What one attempt at a fetch group of a day did (`run_log.outcome`, snapshot results)."""

    STORED = "stored"
    ALREADY_STORED = "already_stored"  # someone stored it first: nothing new, nothing lost
    FAILED = "failed"
    REFUSED = "refused"  # our quota ledger said no: no call was sent
    NOT_ATTEMPTED = "not_attempted"  # an earlier group failed; never written to the run log
    RECOVERED = "recovered"  # totals rebuilt by subtraction (estimated)
    QUOTA_EXHAUSTED = "quota_exhausted"  # Clarity answered 429
    GAP = "gap"  # given up on: recorded as lost


@unique
class CallOutcome(StrEnum):
    """How a reserved Clarity call ended (`quota_call.outcome`), besides an error's kind."""

    OK = "ok"
    QUOTA_EXCEEDED = "quota_exceeded"  # Clarity answered 429: no more calls today
    ABANDONED = "abandoned"  # its process died mid-call: counted as spent


@unique
class Purpose(StrEnum):
    """Why a Clarity call was made (`quota_call.purpose`); manual ones may use the reserve."""

    SCHEDULED = "scheduled"
    RECOVERY = "recovery"
    CONNECT = "connect"
    MANUAL = "manual"


@unique
class SourceStatus(StrEnum):
    """A source's health (`source.status`)."""

    CONNECTED = "connected"
    TOKEN_REJECTED = "token_rejected"
    QUOTA_EXHAUSTED = "quota_exhausted"
    FAILING = "failing"
    REMOVED = "removed"


@unique
class DeliveryStatus(StrEnum):
    """Where a (subscription, period) stands in the delivery ledger (`delivery.status`)."""

    CLAIMED = "claimed"  # nothing sent yet
    SENDING = "sending"  # a send may have left
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    SKIPPED = "skipped"  # deliberately not sent (no data, or missed while no worker ran)
    UNKNOWN = "unknown"  # a crash mid-send that cannot be checked: never sent again


@unique
class DestinationKind(StrEnum):
    """Where a report or an alert goes (`*.destination_kind`)."""

    SLACK = "slack"
    EMAIL = "email"
    OUTBOX = "outbox"


@unique
class Frequency(StrEnum):
    """How often a subscription sends (`subscription.frequency`)."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


@unique
class Condition(StrEnum):
    """What an alert rule checks (`alert_rule.condition`)."""

    ABOVE = "above"
    BELOW = "below"
    CHANGE = "change"
    ANOMALY = "anomaly"


@unique
class Direction(StrEnum):
    """Which way a change or anomaly must go to count (`alert_rule.direction`)."""

    UP = "up"
    DOWN = "down"
    BOTH = "both"


@unique
class AlertState(StrEnum):
    """An alert rule's verdict for a day (`alert_rule.state`, `alert_event.state`)."""

    FIRED = "fired"
    CLEAR = "clear"
    UNKNOWN = "unknown"  # no data or too little traffic: not judged


def values(vocabulary: type[StrEnum]) -> tuple[str, ...]:
    """The plain strings of a vocabulary, in order (argparse choices, help texts)."""
    return tuple(member.value for member in vocabulary)
