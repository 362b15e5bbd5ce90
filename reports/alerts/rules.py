"""Alert rules: written as people say them, stored, listed and removed (CLI and Slack).

`rage_click_rate above 2% over 7d` · `dead_clicks up 50% vs previous week for /checkout` ·
`sessions down 30% vs same weekday`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reports.delivery.subscriptions import check_destination
from reports.errors import UsageError
from reports.history.catalogue import get_metric
from reports.urls import url_path
from store.db import session_scope
from store.models import AlertRule, Source
from store.vocab import Condition, Direction, values

CONDITIONS: Final = values(Condition)
DIRECTIONS: Final = values(Direction)
USAGE: Final = (
    "Examples: `rage_click_rate above 2% over 7d`, `dead_clicks up 50% vs previous "
    "week for /checkout`, `sessions down 30% vs same weekday`."
)
_VERBS: Final[dict[str, str]] = {
    Direction.UP: "up",
    Direction.DOWN: "down",
    Direction.BOTH: "changes",
}
_NUMBER: Final = re.compile(r"^([<>]?)(-?\d+(?:\.\d+)?)%?$")
_DAYS: Final = re.compile(r"^(\d+)(?:d|days?)?$")
MAX_THRESHOLD: Final = 1e12  # a metric value or a change in %: finite, like the CLI's bound
MAX_WINDOW_DAYS: Final = 90


@dataclass(frozen=True)
class RuleSpec:
    """A rule before it is stored."""

    metric: str
    condition: str
    threshold: float
    direction: str = Direction.UP
    window_days: int = 7
    weeks: int = 4
    page: str | None = None


def parse_rule(words: list[str]) -> RuleSpec:
    """Read `<metric> <condition> [over Nd] [for <url>]`; UsageError with examples if not."""
    if len(words) < 3:
        raise UsageError(f"Say which metric and when. {USAGE}")
    metric = get_metric(words[0]).key
    if get_metric(metric).is_breakdown:
        raise UsageError(f"{metric} is a breakdown; alert on a daily metric. {USAGE}")
    rest = [w.lower() for w in words[1:]]
    window, page = 7, None
    if "for" in rest:
        at = rest.index("for")
        page = " ".join(words[1 + at + 1 :]).strip() or None
        rest = rest[:at]
    if "over" in rest:
        at = rest.index("over")
        span = 3 if rest[at + 2 : at + 3] in (["d"], ["day"], ["days"]) else 2
        window = _window("".join(rest[at + 1 : at + span]))
        rest = rest[:at] + rest[at + span :]
    return _condition(metric, rest, window, normalise_page(page))


def _window(text: str) -> int:
    match = _DAYS.match(text.replace(" ", ""))
    if match is None or not 1 <= int(match.group(1)) <= MAX_WINDOW_DAYS:
        raise UsageError(
            f"`over` takes a number of days from 1 to {MAX_WINDOW_DAYS}, e.g. `over 7d`. {USAGE}"
        )
    return int(match.group(1))


def normalise_page(text: str | None) -> str | None:
    if text is None:
        return None
    path = url_path(text.strip("<>").split("|")[0]) or text
    return path if path.startswith("/") else f"/{path}"


def _number(word: str) -> float:
    match = _NUMBER.match(word)
    if match is None:
        raise UsageError(f"{word!r} is not a number. {USAGE}")
    return float(match.group(2))


def _condition(metric: str, words: list[str], window: int, page: str | None) -> RuleSpec:
    if not words:
        raise UsageError(USAGE)
    head, tail = words[0], words[1:]
    if head in ("above", "below", ">", "<") and tail:
        kind = Condition.ABOVE if head in ("above", ">") else Condition.BELOW
        return RuleSpec(metric, kind, _number(tail[0]), window_days=window, page=page)
    if head in ("up", "down", "changes") and tail:
        direction = {"up": Direction.UP, "down": Direction.DOWN, "changes": Direction.BOTH}[head]
        pct = abs(_number(tail[0]))
        if "weekday" in tail:  # `vs same weekday`: against the same weekday of past weeks
            if page is not None:
                raise UsageError("Same-weekday alerts work on the whole site, not one page.")
            return RuleSpec(metric, Condition.ANOMALY, pct, direction, window_days=1, page=None)
        return RuleSpec(metric, Condition.CHANGE, pct, direction, window_days=window, page=page)
    raise UsageError(f"I don't understand {' '.join(words)!r}. {USAGE}")


def describe(rule: AlertRule, *, labels: bool = False) -> str:
    """Say a rule back, e.g. `dead_clicks up 50 % vs the previous 7 days on /checkout`.

    With `labels`, in the catalogue's words for people (`Dead clicks up 50 %…`, `over 7 days`)
    instead of the keys a command takes.
    """
    metric = get_metric(rule.metric)
    name = metric.label if labels else rule.metric
    window = f"{rule.window_days} days" if labels else f"{rule.window_days}d"
    where = f" on {rule.page}" if rule.page else ""
    if rule.condition in (Condition.ABOVE, Condition.BELOW):
        unit = " %" if metric.unit == "percent" else ""
        text = f"{name} {rule.condition} {rule.threshold:g}{unit} over {window}"
    elif rule.condition == Condition.CHANGE:
        verb = _VERBS[rule.direction]
        text = f"{name} {verb} {rule.threshold:g} % vs the previous {rule.window_days} days"
    else:
        verb = _VERBS[rule.direction]
        text = f"{name} {verb} {rule.threshold:g} % vs the same weekday ({rule.weeks} weeks)"
    return text + where


def add_rule(
    engine: Engine,
    spec: RuleSpec,
    *,
    source_id: int,
    workspace_id: int | None,
    kind: str,
    destination: str,
    now: datetime,
    min_sessions: int = 200,
    cooldown_hours: int | None = 24,
    only_first: bool = False,
    created_by: str | None = None,
) -> AlertRule:
    """Check and store a rule (only on the workspace's own sources)."""
    destination = check_destination(kind, destination)
    check_threshold(spec.condition, spec.threshold)  # "up 0 %" would fire on any change
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        if source is None or (workspace_id is not None and source.workspace_id != workspace_id):
            raise UsageError(f"There is no source {source_id} here.")
        rule = AlertRule(
            workspace_id=source.workspace_id,
            source_id=source_id,
            metric=spec.metric,
            page=spec.page,
            condition=spec.condition,
            threshold=spec.threshold,
            direction=spec.direction,
            window_days=spec.window_days,
            weeks=spec.weeks,
            min_sessions=min_sessions,
            destination_kind=kind,
            destination=destination,
            cooldown_hours=cooldown_hours,
            only_first=only_first,
            created_by=created_by,
            created_at=now,
        )
        session.add(rule)
        session.flush()
        session.refresh(rule)
        session.expunge(rule)
        return rule


def list_rules(engine: Engine, *, workspace_id: int | None = None) -> list[AlertRule]:
    """Active rules, oldest first (one workspace's, when given)."""
    with Session(engine) as session:
        query = select(AlertRule).where(col(AlertRule.active).is_(True)).order_by(col(AlertRule.id))
        if workspace_id is not None:
            query = query.where(AlertRule.workspace_id == workspace_id)
        return list(session.exec(query).all())


def _own(session: Session, rule_id: int, workspace_id: int | None) -> AlertRule:
    """A rule of this workspace (any, with None: the command line), or a UsageError."""
    rule = session.get(AlertRule, rule_id)
    if rule is None or (workspace_id is not None and rule.workspace_id != workspace_id):
        raise UsageError(f"There is no alert {rule_id} here.")
    return rule


def _change(
    engine: Engine, rule_id: int, workspace_id: int | None, apply: Callable[[AlertRule], None]
) -> AlertRule:
    """Apply a change to a rule of this workspace and return it as stored."""
    with session_scope(engine) as session:
        rule = _own(session, rule_id, workspace_id)
        apply(rule)
        session.add(rule)
        session.flush()
        session.expunge(rule)
        return rule


def remove_rule(engine: Engine, rule_id: int, *, workspace_id: int | None) -> AlertRule:
    """Stop a rule (its history stays)."""
    return _change(engine, rule_id, workspace_id, lambda rule: setattr(rule, "active", False))


def get_rule(engine: Engine, rule_id: int, *, workspace_id: int | None) -> AlertRule:
    """An active rule of this workspace, or a UsageError."""
    with Session(engine) as session:
        rule = _own(session, rule_id, workspace_id)
        _active(rule)
        return rule


def _active(rule: AlertRule) -> None:
    if not rule.active:
        raise UsageError(f"Alert {rule.id} was removed: add it again with `alert add`.")


def mute_rule(
    engine: Engine, rule_id: int, *, workspace_id: int | None, until: datetime | None
) -> AlertRule:
    """Stop telling a rule until `until` (None: tell again); it is still judged every day."""

    def mute(rule: AlertRule) -> None:
        _active(rule)
        rule.muted_until = until

    return _change(engine, rule_id, workspace_id, mute)


def check_threshold(condition: str, threshold: float) -> float:
    """A rule's threshold as given, or a UsageError: finite, and above 0 for a change (in %)."""
    if not math.isfinite(threshold) or abs(threshold) > MAX_THRESHOLD:
        raise UsageError(f"The threshold must be a number (at most {MAX_THRESHOLD:g}).")
    if condition in (Condition.CHANGE, Condition.ANOMALY) and threshold <= 0:
        raise UsageError("A change is a percentage above 0, e.g. 50 for 50 %.")
    return threshold


def check_window(days: int) -> int:
    """A rule's window as given, or a UsageError."""
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise UsageError(f"The window is a number of days from 1 to {MAX_WINDOW_DAYS}.")
    return days


def edit_rule(
    engine: Engine,
    rule_id: int,
    *,
    workspace_id: int | None,
    threshold: float,
    window_days: int | None,
) -> AlertRule:
    """Change a rule's threshold and window (None: keep it; a same-weekday rule keeps its
    one day)."""
    if window_days is not None:
        check_window(window_days)

    def edit(rule: AlertRule) -> None:
        _active(rule)
        rule.threshold = check_threshold(rule.condition, threshold)
        if window_days is not None and rule.condition != Condition.ANOMALY:
            rule.window_days = window_days

    return _change(engine, rule_id, workspace_id, edit)
