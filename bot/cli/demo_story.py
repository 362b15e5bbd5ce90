"""The short story `claritybot demo` prints: what was fetched, what the history looks like, where
the files are and what to open first.

Its key numbers and summary are the emailed digest's own (the Report the dispatcher composed),
so the terminal and the .eml say the same thing about the same day.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Final

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.cli.demo import DEMO_LABEL, DIGEST_SEND_AT, DemoRun
from reports.ingest.fetch_plan import CLARITY_DAILY_LIMIT
from reports.ingest.outcomes import DONE
from reports.templates import template_env
from reports.timezones import parse_timezone
from store.db import make_engine
from store.models import MetricRow, QuotaCall, RunLog, Snapshot
from store.vocab import AlertState, Outcome

WIDTH: Final = 94
GROUP_WORDS: Final = {"overall": "totals"}
DAY: Final = "%a %-d %b"


def _and(words: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def para(text: str, indent: int = 2, hang: int = 0) -> str:
    """`text` wrapped to the terminal story's width; its later lines indented `hang` more."""
    first = " " * indent
    return textwrap.fill(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=first + " " * hang,
        break_long_words=False,  # a path or a command stays whole, to copy
        break_on_hyphens=False,
    )


def stored_words(session: Session, source_id: int) -> str:
    """`14 days of totals and 13 of pages, devices, channels and sources`."""
    query = (
        select(Snapshot.fetch_group, func.count(func.distinct(Snapshot.local_date)))
        .where(Snapshot.source_id == source_id)
        .group_by(col(Snapshot.fetch_group))
        .order_by(func.min(Snapshot.id))
    )
    by_count: dict[int, list[str]] = {}
    for group, days in session.exec(query).all():
        by_count.setdefault(days, []).append(GROUP_WORDS.get(group, group))
    parts = [
        f"{days}{' days' if n == 0 else ''} of {_and(groups)}"
        for n, (days, groups) in enumerate(sorted(by_count.items(), reverse=True))
    ]
    return _and(parts) if parts else "nothing yet"


def span(session: Session, run: DemoRun) -> str:
    """`Tue 24 Feb – Mon 9 Mar 2026`: the first stored day to the digest's (or the last) day."""
    first, last = session.exec(
        select(func.min(Snapshot.local_date), func.max(Snapshot.local_date)).where(
            Snapshot.source_id == run.source_id
        )
    ).one()
    last = run.report.last_day if run.report else last
    if first is None or last is None:
        return "nothing stored yet"
    return f"{first:{DAY}} – {last:{DAY} %Y}"


def marked_days(session: Session, source_id: int, zone: str) -> list[str]:
    """The late (*) and rebuilt (~) days and the gaps, in words, from the run log."""
    tz = parse_timezone(zone)
    query = select(RunLog).where(RunLog.source_id == source_id).order_by(col(RunLog.id))
    late: dict[date, datetime] = {}
    rebuilt: set[date] = set()
    gaps: dict[date, list[str]] = {}
    for e in session.exec(query).all():
        if e.late and e.outcome == Outcome.STORED:
            late.setdefault(e.local_date, e.started_at)
        elif e.outcome == Outcome.RECOVERED:
            rebuilt.add(e.local_date)
        elif e.outcome == Outcome.GAP:
            gaps.setdefault(e.local_date, []).append(e.fetch_group)
    lines = []
    for day, at in sorted(late.items()):
        taken = at.replace(tzinfo=at.tzinfo or UTC).astimezone(tz)
        lines.append(
            f"* late: {day:{DAY}} was taken at {taken:%H:%M} on {taken:{DAY}}, so its 24 h window "
            "is shifted."
        )
    for day in sorted(rebuilt | set(gaps)):
        lines.append(_missed(day, day in rebuilt, gaps.get(day, [])))
    return lines


def _missed(day: date, rebuilt: bool, gaps: list[str]) -> str:
    lost = _and([GROUP_WORDS.get(g, g) for g in gaps])
    if not rebuilt:
        return f"- gap: {day:{DAY}}: its {lost} could not be taken (a gap, never a zero)."
    text = (
        f"~ rebuilt: {day:{DAY}} was missed; the next run rebuilt its totals by subtraction "
        "(counts only, estimated)"
    )
    return text + (f", and its {lost} are a gap." if gaps else ".")


def busiest_day(session: Session) -> int:
    """The most Clarity calls in one UTC day, from the quota ledger."""
    query = select(func.count()).select_from(QuotaCall).group_by(col(QuotaCall.utc_day))
    return max(session.exec(query).all(), default=0)


def key_lines(run: DemoRun) -> list[str]:
    """The digest's six key numbers, one line each: label, value and change (the email's)."""
    tiles = run.report.tiles if run.report else ()
    label = max((len(t.label) for t in tiles), default=0)
    value = max((len(t.value) for t in tiles), default=0)
    return [f"    {t.label:<{label}}  {t.value:<{value}}  {t.change}" for t in tiles]


def summary_lines(run: DemoRun) -> list[str]:
    """The digest's written summary, as the email's bullets (a metric's details under it)."""
    lines = []
    for point in run.report.summary_points if run.report else ():
        lines.append(para(f"- {point.text}", 2, 2))
        lines.extend(para(detail, 6, 0) for detail in point.details)
    return lines


def render_story(run: DemoRun, *, again: str) -> str:
    """The story of one demo run; `again` is the command that prints every table."""
    outcomes = [o for r in run.results for o in r.outcomes]
    engine = make_engine(f"sqlite:///{run.db_path}")
    with Session(engine) as session:
        context = {
            "stored": stored_words(session, run.source_id),
            "span": span(session, run),
            "marks": [para(m, 2, 2) for m in marked_days(session, run.source_id, run.timezone)],
            "busiest": busiest_day(session),
            "rows": session.exec(select(func.count()).select_from(MetricRow)).one(),
        }
    engine.dispose()
    context |= {
        "run": run,
        "label": DEMO_LABEL,
        "calls": sum(report.calls for report in run.reports),
        "ticks": len(run.reports),
        "cap": CLARITY_DAILY_LIMIT,
        "charts": run.out_dir / "charts" / "digest.png",
        "problems": [o for o in outcomes if o.status not in DONE],
        "keys": key_lines(run),
        "summary": summary_lines(run),
        "fired": [para(why, 4, 2) for _, state, why in run.alerts if state == AlertState.FIRED],
        "rules": len(run.alerts),
        "send_at": DIGEST_SEND_AT,
        "again": again,
    }
    env = template_env()
    env.filters["para"] = para
    return env.get_template("demo_story.txt").render(**context)
