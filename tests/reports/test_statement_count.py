"""A report reads its history once: a digest costs a handful of SQL statements, not a hundred.

Before history was loaded once, checking and composing this digest ran 122 statements (118 to
compose it; 84 re-read the same source and workspace rows). Now: six — the source, the daily
rows, the page and device slices (for the summary's movers), the stored days, and the quality
guard's own bookkeeping.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event

from reports.delivery.cadence import Occurrence
from reports.delivery.dispatch import Dispatcher
from reports.render.charts import ChartMaker
from store.models import Subscription
from tests.fakes.history import a_source, history

DUE = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
YESTERDAY = date(2026, 3, 19)
PAGES = {
    "https://x.com/": (600, 20),
    "https://x.com/checkout": (300, 25),
    "https://x.com/faq": (100, 5),
}
MAX_STATEMENTS = 10


def night(day: date) -> dict[str, object]:
    """A plausible night: traffic that moves with the weekday, and three pages."""
    swing = 100 * (day.weekday() % 3)
    return {
        "sessions": 1000 + swing,
        "rage": 10 + day.day % 7,
        "pages": PAGES,
        "pages_per_session": 2.3,
        "scroll_depth": 55.0,
        "engagement_time_ms": 40_000,
        "quick_backs": 30,
        "bot_sessions": 40,
    }


def test_a_digest_report_costs_at_most_ten_statements(engine):
    sid = a_source(engine, DUE - timedelta(days=90))
    history(engine, sid, end=YESTERDAY, days=60, fn=night)
    sub = Subscription(
        id=1,
        workspace_id=1,
        source_id=sid,
        metrics=["digest", "sessions", "rage_click_rate"],
        destination_kind="outbox",
        destination="out",
        frequency="daily",
        summary=True,
    )
    dispatcher = Dispatcher(engine=engine, senders={}, owner="A", charts=ChartMaker())
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        report = dispatcher.build(sub, Occurrence("2026-03-20", DUE.date(), DUE), None)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert report.has_data and report.summary and len(report.charts) == 3
    assert len(statements) <= MAX_STATEMENTS, "\n\n".join(statements)
    assert sum("FROM source" in s for s in statements) == 1  # the source is read once
