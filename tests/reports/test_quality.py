"""The data-quality guard: each check fires on data built to trip it, and only then."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from reports.history.load import load
from reports.history.quality import DAYS, QualityGuard, check
from tests.fakes.history import a_source, history

NOW = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
YESTERDAY = date(2026, 3, 19)
NORMAL = {"sessions": 1000, "pages_per_session": 2.4, "bot_sessions": 50, "distinct_users": 900}


def read(engine, sid, now):
    """The history a check reads."""
    return load(engine, sid, [], days=DAYS, now=now)


def built(engine, last=None, recent=None):
    """Four normal weeks, then `recent` for the last 3 days and `last` for yesterday."""
    sid = a_source(engine, NOW - timedelta(days=60))

    def night(day):
        if day == YESTERDAY and last is not None:
            return NORMAL | last
        if day > YESTERDAY - timedelta(days=3) and recent is not None:
            return NORMAL | recent
        return NORMAL

    history(engine, sid, end=YESTERDAY, days=35, fn=night)
    return sid


@pytest.mark.parametrize(
    ("last", "recent", "kinds"),
    [
        (None, None, []),
        ({"sessions": 300}, None, ["collapsed"]),
        ({"sessions": 700}, None, []),  # a quiet day is not a broken tag
        ({"sessions": 0, "distinct_users": 0, "rage": 0, "dead": 0, "pages_per_session": None,
          "bot_sessions": 0}, None, ["no_data"]),
        (None, {"pages_per_session": 1.0}, ["pinned"]),
        ({"pages_per_session": 1.0}, None, []),  # one day at 1.00 is not consent mode
        ({"bot_sessions": 600}, None, ["bots"]),
        ({"bot_sessions": 90}, None, []),
    ],
)  # fmt: skip
def test_each_check_fires_on_data_built_to_trip_it(engine, last, recent, kinds):
    sid = built(engine, last, recent)
    assert [i.kind for i in check(read(engine, sid, NOW))] == kinds


def test_nothing_is_judged_without_the_last_day(engine):
    sid = a_source(engine, NOW - timedelta(days=60))
    history(engine, sid, end=YESTERDAY - timedelta(days=2), days=30)
    assert check(read(engine, sid, NOW)) == []


class Notes:
    def __init__(self):
        self.told = []

    def data_problem(self, source_id, label, text):
        self.told.append(text)


def test_the_owner_is_told_once_and_again_only_after_it_cleared(engine):
    sid = built(engine, {"sessions": 300})
    notes = Notes()
    guard = QualityGuard(engine, notes)
    assert [i.kind for i in guard.issues(read(engine, sid, NOW))] == ["collapsed"]
    assert [i.kind for i in guard.issues(read(engine, sid, NOW))] == ["collapsed"]
    assert len(notes.told) == 1 and "tag may be broken" in notes.told[0]
    before = read(engine, sid, NOW - timedelta(days=1))
    assert guard.issues(before) == []  # the day before was fine
    guard.issues(read(engine, sid, NOW))
    assert len(notes.told) == 2


def test_the_report_says_so_at_the_top(engine):
    from reports.delivery.dispatch import Dispatcher
    from reports.delivery.subscriptions import NewSubscription, subscribe
    from reports.render.charts import ChartMaker

    sid = built(engine, {"sessions": 300})
    subscribe(engine, NewSubscription(source_id=sid, metrics=["sessions"], kind="email",
                                      destination="a@example.com"),
              workspace_id=None, now=NOW.replace(hour=1))  # fmt: skip
    got, notes = [], Notes()

    class Recorder:
        def deliver(self, report, sub, now, url):
            got.append(report)
            return "<id>"

        def check(self, sub, period):
            return None

    Dispatcher(engine=engine, senders={"email": Recorder()}, owner="A", charts=ChartMaker(),
               notifier=notes).tick(NOW.replace(hour=10))  # fmt: skip
    (report,) = got
    assert report.notes[0].startswith("Data check: Sessions fell to 300 on Thu 19 Mar")
    assert len(notes.told) == 1
