from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reports.ingest.due import (
    LATE_LIMIT,
    DayState,
    Lose,
    Take,
    backoff,
    due_at,
    plan_days,
    recovery_deadline,
    recovery_targets,
)
from reports.timezones import exists, yesterday

GROUPS = ("overall", "pages", "devices", "channels", "sources")


def z(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# (zone, local day, when its snapshot is due in UTC): the first instant of the next local day.
DUE_TABLE = [
    ("UTC", "2026-03-08", "2026-03-09T00:00Z"),
    ("America/New_York", "2026-03-07", "2026-03-08T05:00Z"),  # EST midnight
    ("America/New_York", "2026-03-08", "2026-03-09T04:00Z"),  # 23 h day, EDT midnight
    ("America/New_York", "2026-10-31", "2026-11-01T04:00Z"),
    ("America/New_York", "2026-11-01", "2026-11-02T05:00Z"),  # 25 h day
    ("Europe/London", "2026-03-28", "2026-03-29T00:00Z"),
    ("Europe/London", "2026-03-29", "2026-03-29T23:00Z"),
    ("Europe/London", "2026-10-24", "2026-10-24T23:00Z"),
    ("Europe/London", "2026-10-25", "2026-10-26T00:00Z"),
    ("Australia/Lord_Howe", "2026-04-04", "2026-04-04T13:00Z"),  # +11 ends: a 30-minute shift
    ("Australia/Lord_Howe", "2026-04-05", "2026-04-05T13:30Z"),
    ("Australia/Lord_Howe", "2026-10-03", "2026-10-03T13:30Z"),
    ("Australia/Lord_Howe", "2026-10-04", "2026-10-04T13:00Z"),
    ("America/Santiago", "2026-04-04", "2026-04-05T04:00Z"),  # 23:00 repeats: a 25 h day
    ("America/Santiago", "2026-09-05", "2026-09-06T04:00Z"),  # 00:00 does not exist: 01:00
    ("America/Santiago", "2026-09-06", "2026-09-07T03:00Z"),
    ("America/Havana", "2026-03-07", "2026-03-08T05:00Z"),  # 00:00 does not exist: 01:00 CDT
    ("America/Havana", "2026-03-08", "2026-03-09T04:00Z"),
    ("America/Havana", "2026-10-31", "2026-11-01T04:00Z"),  # 00:00 happens twice: the first
    ("America/Havana", "2026-11-01", "2026-11-02T05:00Z"),
    ("Asia/Kathmandu", "1985-12-31", "1985-12-31T18:30Z"),  # +05:30 until 1986
    ("Asia/Kathmandu", "1986-01-01", "1986-01-01T18:15Z"),  # then +05:45
    ("Asia/Kathmandu", "2026-01-01", "2026-01-01T18:15Z"),
    ("Pacific/Kiritimati", "1994-12-30", "1994-12-31T10:00Z"),  # then skipped 1994-12-31
    ("Pacific/Kiritimati", "1995-01-01", "1995-01-01T10:00Z"),  # -10 → +14
    ("Pacific/Kiritimati", "2026-06-30", "2026-06-30T10:00Z"),  # +14: due before UTC's day ends
    ("Pacific/Apia", "2011-12-29", "2011-12-30T10:00Z"),  # Apia skipped 2011-12-30 entirely
    ("Pacific/Apia", "2021-04-03", "2021-04-03T10:00Z"),  # its last DST end (+14 → +13)
    ("Pacific/Apia", "2021-04-04", "2021-04-04T11:00Z"),
]


@pytest.mark.parametrize(("zone", "day", "due"), DUE_TABLE)
def test_a_day_is_due_at_the_first_instant_of_the_next_local_day(zone, day, due):
    assert due_at(date.fromisoformat(day), ZoneInfo(zone)) == z(due)


def test_a_date_that_never_existed_is_skipped():
    apia = ZoneInfo("Pacific/Apia")
    assert not exists(date(2011, 12, 30), apia) and exists(date(2011, 12, 31), apia)
    assert yesterday(z("2011-12-30T12:00Z"), apia) == date(2011, 12, 29)  # local: Dec 31
    actions = plan_days(now=z("2011-12-31T12:00Z"), tz=apia, open_from=date(2011, 12, 29),
                        days={}, groups=GROUPS)  # fmt: skip
    assert [a.day for a in actions] == [date(2011, 12, 29), date(2011, 12, 31)]


@pytest.mark.parametrize(("zone", "day", "due"), DUE_TABLE)
def test_each_day_is_taken_once_by_ticks_around_its_midnight(zone, day, due):
    tz, day, due = ZoneInfo(zone), date.fromisoformat(day), z(due)
    states: dict[date, DayState] = {}
    taken = []
    now = due - timedelta(hours=2)
    while now < due + timedelta(hours=3):
        for action in plan_days(now=now, tz=tz, open_from=day, days=states, groups=GROUPS):
            assert isinstance(action, Take) and now >= due_at(action.day, tz)
            taken.append((action.day, now))
            states[action.day] = DayState(stored=frozenset(action.groups))
        now += timedelta(minutes=1)
    assert [d for d, _ in taken if d == day] == [day]
    assert min(t for d, t in taken if d == day) == due


def test_nothing_is_due_before_midnight_and_today_is_never_taken():
    tz = ZoneInfo("Europe/London")
    assert plan_days(now=z("2026-03-09T23:59Z"), tz=tz, open_from=date(2026, 3, 9), days={},
                     groups=GROUPS) == []  # fmt: skip
    (take,) = plan_days(now=z("2026-03-10T00:00Z"), tz=tz, open_from=date(2026, 3, 9), days={},
                        groups=GROUPS)  # fmt: skip
    assert take == Take(date(2026, 3, 9), GROUPS, late=False)


def test_late_then_waiting_for_recovery_then_lost():
    tz, day = ZoneInfo("UTC"), date(2026, 3, 9)
    due = due_at(day, tz)

    def act(now):
        return plan_days(now=now, tz=tz, open_from=day, days={}, groups=GROUPS)

    assert act(due + timedelta(hours=3)) == [Take(day, GROUPS, late=True)]
    (lose,) = [a for a in act(due + LATE_LIMIT + timedelta(minutes=1)) if a.day == day]
    # breakdowns are lost; totals wait to be rebuilt from the next days
    assert (
        isinstance(lose, Lose) and "overall" not in lose.groups and "no run happened" in lose.reason
    )
    (final,) = [a for a in act(recovery_deadline(day, tz) + timedelta(minutes=1)) if a.day == day]
    assert final.groups == GROUPS and "could not be rebuilt" in final.reason


def test_failures_back_off_before_the_next_attempt():
    tz, day = ZoneInfo("UTC"), date(2026, 3, 9)
    failed_at = due_at(day, tz) + timedelta(minutes=1)
    state = {day: DayState(failures=2, last_failure=failed_at)}
    assert backoff(2) == timedelta(minutes=15)
    early = failed_at + timedelta(minutes=14)
    assert plan_days(now=early, tz=tz, open_from=day, days=state, groups=GROUPS) == []
    assert plan_days(now=early + timedelta(minutes=1), tz=tz, open_from=day, days=state,
                     groups=GROUPS)  # fmt: skip


def test_recovery_targets_are_the_missing_days_after_the_source_existed():
    tz, taken = ZoneInfo("UTC"), date(2026, 3, 10)
    stored = DayState(stored=frozenset({"overall"}))
    assert recovery_targets(taken, tz=tz, first_day=date(2026, 3, 1), days={}) == (
        date(2026, 3, 9), date(2026, 3, 8))  # fmt: skip
    assert recovery_targets(taken, tz=tz, first_day=date(2026, 3, 9), days={}) == (
        date(2026, 3, 9),
    )
    days = {date(2026, 3, 9): stored}
    assert recovery_targets(taken, tz=tz, first_day=date(2026, 3, 1), days=days) == (
        date(2026, 3, 8),
    )
    assert recovery_targets(taken, tz=tz, first_day=date(2026, 3, 10), days={}) == ()


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        plan_days(now=datetime(2026, 3, 9), tz=ZoneInfo("UTC"), open_from=date(2026, 3, 1),
                  days={}, groups=GROUPS)  # fmt: skip


def test_start_of_utc_is_utc():
    assert due_at(date(2026, 1, 1), ZoneInfo("UTC")).tzinfo == UTC
