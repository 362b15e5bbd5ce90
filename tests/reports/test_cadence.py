"""Daily, weekly and monthly schedules at local times, across DST: a table, then a sweep."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reports.delivery.cadence import (
    Cadence,
    describe,
    latest_due,
    next_due,
    parse_send_at,
    parse_weekday,
)
from reports.errors import UsageError


def cadence(freq, at, zone, **kw):
    return Cadence(freq, parse_send_at(at), ZoneInfo(zone), **kw)


@pytest.mark.parametrize(
    ("freq", "at", "zone", "kw", "day", "due_utc"),
    [
        # Europe/Berlin springs forward on 2026-03-29: 09:00 is 08:00 UTC before, 07:00 after.
        ("daily", "09:00", "Europe/Berlin", {}, date(2026, 3, 28), "2026-03-28 08:00"),
        ("daily", "09:00", "Europe/Berlin", {}, date(2026, 3, 29), "2026-03-29 07:00"),
        # 02:30 does not exist in New York on 2026-03-08: it fires at 03:30 EDT.
        ("daily", "02:30", "America/New_York", {}, date(2026, 3, 8), "2026-03-08 07:30"),
        # 01:30 happens twice on 2026-11-01 in New York: the first (EDT) is the one.
        ("daily", "01:30", "America/New_York", {}, date(2026, 11, 1), "2026-11-01 05:30"),
        ("daily", "01:30", "America/New_York", {}, date(2026, 11, 2), "2026-11-02 06:30"),
        # Weekly on Monday, either side of London's 2026-10-25 change.
        ("weekly", "09:00", "Europe/London", {"weekday": 0}, date(2026, 10, 19),
         "2026-10-19 08:00"),
        ("weekly", "09:00", "Europe/London", {"weekday": 0}, date(2026, 10, 26),
         "2026-10-26 09:00"),
        # Sydney moves the other way (2026-04-05 ends DST).
        ("daily", "09:00", "Australia/Sydney", {}, date(2026, 4, 4), "2026-04-03 22:00"),
        ("daily", "09:00", "Australia/Sydney", {}, date(2026, 4, 5), "2026-04-04 23:00"),
        # Lord Howe shifts by 30 minutes.
        ("daily", "09:00", "Australia/Lord_Howe", {}, date(2026, 4, 5), "2026-04-04 22:30"),
        # Monthly on the 31st: the last day of shorter months.
        ("monthly", "09:00", "UTC", {"month_day": 31}, date(2026, 2, 28), "2026-02-28 09:00"),
        ("monthly", "09:00", "UTC", {"month_day": 31}, date(2026, 4, 30), "2026-04-30 09:00"),
        ("monthly", "09:00", "UTC", {"month_day": 31}, date(2028, 2, 29), "2028-02-29 09:00"),
        ("monthly", "09:00", "UTC", {"month_day": 31}, date(2026, 1, 31), "2026-01-31 09:00"),
        ("monthly", "09:00", "UTC", {"month_day": 30}, date(2026, 2, 28), "2026-02-28 09:00"),
    ],
)  # fmt: skip
def test_due_times_table(freq, at, zone, kw, day, due_utc):
    c = cadence(freq, at, zone, **kw)
    assert c.fires_on(day)
    expected = datetime.fromisoformat(due_utc).replace(tzinfo=UTC)
    assert c.due_at(day) == expected
    assert latest_due(c, expected).day == day
    assert latest_due(c, expected - timedelta(seconds=1)).day != day
    assert next_due(c, expected - timedelta(seconds=1)).day == day


@pytest.mark.parametrize(
    ("kw", "not_on"),
    [({"month_day": 31}, date(2026, 2, 27)), ({"month_day": 31}, date(2026, 3, 30)),
     ({"month_day": 15}, date(2026, 2, 28))],
)  # fmt: skip
def test_monthly_fires_once_a_month_only(kw, not_on):
    assert not cadence("monthly", "09:00", "UTC", **kw).fires_on(not_on)


def test_a_skipped_date_has_no_report_and_its_neighbours_keep_theirs():
    c = cadence("daily", "09:00", "Pacific/Apia")  # no 2011-12-30 there
    assert not c.fires_on(date(2011, 12, 30))
    assert c.due_at(date(2011, 12, 29)) < c.due_at(date(2011, 12, 31))


def test_fall_back_does_not_send_twice():
    c = cadence("daily", "01:30", "America/New_York")
    first = latest_due(c, datetime(2026, 11, 1, 5, 45, tzinfo=UTC))
    second = latest_due(c, datetime(2026, 11, 1, 6, 45, tzinfo=UTC))  # after the 2nd 01:30
    assert first == second and first.period == "2026-11-01"


@pytest.mark.parametrize(
    ("freq", "at", "zone", "kw", "expected"),
    [
        ("daily", "02:30", "America/New_York", {}, 365),
        ("daily", "00:00", "America/Santiago", {}, 365),  # midnight skipped in September
        ("weekly", "09:00", "Europe/London", {"weekday": 6}, 52),
        ("monthly", "23:30", "Pacific/Chatham", {"month_day": 31}, 12),
    ],
)  # fmt: skip
def test_a_year_of_half_hourly_ticks_sees_every_period_once(freq, at, zone, kw, expected):
    c = cadence(freq, at, zone, **kw)
    moment, seen = datetime(2026, 1, 1, 12, tzinfo=UTC), []
    while moment < datetime(2027, 1, 1, 12, tzinfo=UTC):
        occurrence = latest_due(c, moment)
        if occurrence and (not seen or seen[-1] != occurrence) and occurrence.day.year == 2026:
            seen.append(occurrence)
        moment += timedelta(minutes=30)
    assert len(seen) == expected
    assert len({o.period for o in seen}) == expected
    assert all(a.due_at < b.due_at for a, b in zip(seen, seen[1:], strict=False))


def test_parsing_and_words():
    assert parse_weekday("Tue") == 1 and parse_weekday("sunday") == 6
    with pytest.raises(UsageError):
        parse_weekday("mo")
    for bad in ("9", "24:00", "09:60", "nine"):
        with pytest.raises(UsageError):
            parse_send_at(bad)
    assert cadence("weekly", "8:05", "UTC", weekday=0).period(date(2026, 3, 10)) == "2026-W11"
    assert describe(cadence("monthly", "09:00", "UTC", month_day=31)) == (
        "monthly on the last day at 09:00 UTC"
    )
    with pytest.raises(UsageError):
        cadence("hourly", "09:00", "UTC")
