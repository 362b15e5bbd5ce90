"""The data-quality guard: signs that the numbers are wrong, not that the site changed.

Checked before a report or alert goes out. Each problem is said plainly at the top of the
report, and the owner is told once per occurrence (again only after it cleared and came back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import mean
from typing import Any, Final

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from reports.history.load import History
from reports.notify import LogNotifier, Notifier
from store.models import QualityNotice
from store.types import utcnow

COLLAPSE: Final = 0.5  # sessions under half the usual same weekday: the tag likely broke
PINNED_DAYS: Final = 3  # pages per session at exactly 1 this many days running: consent mode
BOT_SHARE: Final = 20.0  # % of sessions; and at least twice the usual share
MIN_SESSIONS: Final = 50  # below this, pages per session at 1 is just a small site
DAYS: Final = 29  # the last day and the four weeks before it: what a History must hold
COUNTS: Final = (
    "sessions",
    "distinct_users",
    "dead_clicks",
    "rage_clicks",
    "quick_backs",
    "script_errors",
    "excessive_scroll",
)


@dataclass(frozen=True)
class Issue:
    """One data problem: a stable kind (for telling once) and what to say."""

    kind: str
    text: str


def _share(row: Any) -> float | None:
    bots, people = row.bot_sessions, row.sessions
    if bots is None or not people:
        return None
    return float(100.0 * bots / (bots + people))


def check(history: History) -> list[Issue]:
    """The problems visible in the stored data as of its `now` (the last local day and before)."""
    day = history.end
    history.need(DAYS)
    stored = {d: row for d, row in history.totals.items() if d >= day - timedelta(days=DAYS - 1)}
    today = stored.get(day)
    if today is None:
        return []  # nothing new to judge: gaps are reported as gaps
    issues = []
    if all(not getattr(today, f) for f in COUNTS):
        issues.append(
            Issue(
                "no_data",
                f"Clarity recorded no sessions at all on {day:%a %-d %b}:"
                " its tag may not be installed on the site any more.",
            )
        )
    else:
        issues += _collapsed(stored, day) + _pinned(stored, day) + _bots(stored, day)
    return issues


def _collapsed(stored: dict[date, Any], day: date) -> list[Issue]:
    past = [
        s
        for k in (1, 2, 3, 4)
        if (row := stored.get(day - timedelta(days=7 * k))) and (s := row.sessions)
    ]
    now = stored[day].sessions or 0
    if len(past) < 2 or now >= COLLAPSE * mean(past):
        return []
    return [
        Issue(
            "collapsed",
            f"Sessions fell to {now:,} on {day:%a %-d %b}, against about "
            f"{mean(past):,.0f} on recent {day:%A}s: the Clarity tag may be broken or "
            "missing on some pages.",
        )
    ]


def _pinned(stored: dict[date, Any], day: date) -> list[Issue]:
    recent = [stored.get(day - timedelta(days=k)) for k in range(PINNED_DAYS)]
    if any(
        r is None
        or (r.sessions or 0) < MIN_SESSIONS
        or r.pages_per_session is None
        or abs(r.pages_per_session - 1.0) > 0.005
        for r in recent
    ):
        return []
    text = (
        f"Pages per session has been exactly 1.00 for {PINNED_DAYS} days: Clarity probably "
        "only sees landing pages. Consent mode (EEA, UK, Switzerland) or a consent banner "
        "blocking Clarity after the first page are the usual causes; engagement and "
        "frustration numbers are low because of it."
    )
    return [Issue("pinned", text)]


def _bots(stored: dict[date, Any], day: date) -> list[Issue]:
    share = _share(stored[day])
    usual = [s for d, row in stored.items() if d != day and (s := _share(row)) is not None]
    if share is None or len(usual) < 7 or share < BOT_SHARE or share < 2 * mean(usual):
        return []
    return [
        Issue(
            "bots",
            f"Bots made {share:.0f} % of sessions on {day:%a %-d %b}, against "
            f"about {mean(usual):.0f} % usually: Clarity leaves them out, but traffic "
            "numbers may still be skewed.",
        )
    ]


class QualityGuard:
    """Runs the checks and tells the owner of each new problem once."""

    def __init__(self, engine: Engine, notifier: Notifier | None = None) -> None:
        self.engine, self.notifier = engine, notifier or LogNotifier()

    def issues(self, history: History) -> list[Issue]:
        """Check a source's history; tell its owner about problems not told before."""
        found = check(history)
        kinds = {i.kind for i in found}
        with self.engine.begin() as conn:  # a problem that cleared may be told again
            conn.execute(
                delete(QualityNotice).where(
                    col(QualityNotice.source_id) == history.source_id,
                    col(QualityNotice.kind).not_in(kinds or {""}),
                )
            )
        for issue in found:
            if self._first_time(history.source_id, issue):
                self.notifier.data_problem(history.source_id, history.label, issue.text)
        return found

    def _first_time(self, source_id: int, issue: Issue) -> bool:
        try:
            with Session(self.engine) as session:
                session.add(
                    QualityNotice(
                        source_id=source_id, kind=issue.kind, text=issue.text, told_at=utcnow()
                    )
                )
                session.commit()
            return True
        except IntegrityError:
            return False


def note_lines(issues: Sequence[Issue]) -> tuple[str, ...]:
    """What goes at the top of a report."""
    return tuple(f"Data check: {i.text}" for i in issues)
