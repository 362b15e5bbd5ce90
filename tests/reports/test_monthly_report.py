"""A monthly report compares its month with the month before, not a day with a week-ago day.

Sent on the 1st it covers the calendar month just ended. Expected numbers are literal
arithmetic on the nights stored here, not the project's functions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from reports.delivery.cadence import Occurrence
from reports.delivery.compose import Report
from reports.delivery.dispatch import Dispatcher
from reports.render.charts import ChartMaker
from reports.render.compare import month_before
from store.models import Subscription
from tests.fakes.history import a_source, store_day

DUE = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)  # the report on the 1st: March, against February
HEAVY = date(2026, 3, 20)
GAP = date(2026, 3, 18)


def night(day: date) -> dict[str, object]:
    """March: 1,000 sessions a night (3,000 on HEAVY); February 800; January 900."""
    if day.month == 3:
        heavy = day == HEAVY
        return {
            "sessions": 3000 if heavy else 1000,
            "distinct_users": 1200 if heavy else 500,
            "rage_clicks_sessions_pct": 9.0 if heavy else 2.0,
        }
    if day.month == 2:
        return {"sessions": 800, "distinct_users": 400, "rage_clicks_sessions_pct": 1.5}
    return {"sessions": 900, "distinct_users": 450, "rage_clicks_sessions_pct": 1.0}


def composed(engine, *, skip: date | None = None) -> Report:
    sid = a_source(engine, datetime(2025, 12, 1, tzinfo=UTC))
    day = date(2026, 1, 1)
    while day <= date(2026, 3, 31):
        if day != skip:
            store_day(engine, sid, day, **night(day))
        day += timedelta(days=1)
    sub = Subscription(
        id=1,
        workspace_id=1,
        source_id=sid,
        frequency="monthly",
        month_day=1,
        metrics=["digest", "sessions", "distinct_users"],
        destination_kind="email",
        destination="ann@example.com",
    )
    dispatcher = Dispatcher(engine=engine, senders={}, owner="A", charts=ChartMaker())
    return dispatcher.build(sub, Occurrence("p", DUE.date(), DUE), None)


def tile(report: Report, key: str):
    return next(t for t in report.tiles if t.key == key)


def test_a_monthly_report_compares_march_with_february(engine):
    report = composed(engine)
    march, february = 30 * 1000 + 3000, 28 * 800  # 31 and 28 days: as Clarity's months are
    assert report.period_label == "31 days to Tue 31 Mar 2026"
    growth = round(100 * (march - february) / february)  # 47
    assert report.headline == f"Sessions: 33.0k (▲ {growth} % vs the month before)"
    weighted = (30 * 1000 * 2.0 + 3000 * 9.0) / march  # a share weighted by sessions
    rage = tile(report, "sessions_with_rage_clicks")
    assert rage.value == f"{weighted:.1f} %"
    assert rage.change == f"▲ {weighted - 1.5:.1f} pp vs the month before"
    users = next(c for c in report.charts if c.key == "distinct_users")
    per_day, before = (30 * 500 + 1200) / 31, 400
    change = round(100 * (per_day - before) / before)
    assert users.line == f"Distinct users: {per_day:.0f} a day (▲ {change} % vs the month before)"
    chart = next(c for c in report.charts if c.key == "sessions")
    assert f"Shown: 33.0k in the month to 31 Mar · ▲ {growth} % vs the month before." in (
        chart.alt_text
    )
    digest = next(c for c in report.charts if c.key == "digest")
    assert f"Sessions (month to 31 Mar) 33.0k (▲ {growth} % vs the month before)" in (
        digest.alt_text
    )


def test_a_month_with_a_day_missing_says_so_and_is_not_compared_as_a_zero(engine):
    report = composed(engine, skip=GAP)
    sessions = tile(report, "sessions")
    assert sessions.value == "32.0k over 30 of 31 days"
    assert sessions.change == "no two full months to compare"  # a sum over fewer days


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 4, 1), date(2026, 3, 1)),
        (date(2026, 3, 31), date(2026, 2, 28)),  # February is shorter: its last day
        (date(2024, 3, 30), date(2024, 2, 29)),
        (date(2026, 1, 15), date(2025, 12, 15)),
    ],
)
def test_the_month_before(day, expected):
    assert month_before(day) == expected
