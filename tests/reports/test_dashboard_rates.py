"""Issue 12: numbers people can check against Clarity's dashboard, from the sandbox's own truth.

Expected values are computed here from the sandbox's visit log (`window_visits`), not with the
project's aggregation functions.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.cli import main
from bot.cli.demo import run_demo
from reports.clarity.sandbox import DEMO_PROFILE
from reports.clarity.sandbox.data import window_visits
from reports.errors import UsageError
from reports.ingest.snapshot import refuse_when_too_late
from reports.render.charts.style import tick_formatter
from store.db import make_engine
from store.models import Snapshot

NOW = datetime(2026, 3, 20, 10, tzinfo=UTC)
SEED = 7  # the sandbox's default seed
# Clarity's frustration blocks, in the order a page view's events are counted.
SIGNALS = (
    "dead_clicks",
    "excessive_scroll",
    "rage_clicks",
    "quick_backs",
    "script_errors",
    "error_clicks",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("rates")
    run = run_demo(out_dir=out, days=9, now=NOW, timezone="Europe/London")
    engine = make_engine(f"sqlite:///{run.db_path}")
    with Session(engine) as session:
        windows = {
            s.local_date: s.window_end.replace(tzinfo=UTC)
            for s in session.exec(select(Snapshot).where(Snapshot.fetch_group == "overall"))
            if not s.estimated
        }
    engine.dispose()
    yield run, windows


def truth(end: datetime, signal: int) -> tuple[float, int]:
    """(sessions with the signal in %, rounded as Clarity does; sessions) of a 24 h window."""
    humans, _bots = window_visits(DEMO_PROFILE, "demo", SEED, end, 1)
    hit = sum(1 for v in humans if any(p.events[signal] for p in v.pages))
    return round(100 * hit / len(humans), 2), len(humans)


def metric_json(run, key: str, days: int) -> dict:
    out, err = io.StringIO(), io.StringIO()
    env = {"DATABASE_URL": f"sqlite:///{run.db_path}"}
    argv = ["metric", "--source", str(run.source_id), "--metric", key, "--days", str(days)]
    code = main([*argv, "--now", NOW.isoformat(), "--json"], environ=env, out=out, err=err)
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


@pytest.mark.parametrize("signal", range(6))
@pytest.mark.parametrize("days", [7, 30])
def test_sessions_with_a_signal_equal_clarity_per_day_and_weighted_over_days(demo, signal, days):
    run, windows = demo
    found = metric_json(run, f"sessions_with_{SIGNALS[signal]}", days)
    assert found["unit"] == "percent"
    weighted, sessions = 0.0, 0
    for day in found["days"]:
        end = windows.get(date.fromisoformat(day["date"]))
        if end is None:  # never stored, or rebuilt (a rebuilt day has no share): a gap
            assert day["value"] is None
            continue
        pct, n = truth(end, signal)
        assert day["value"] == pytest.approx(pct, abs=1e-9)
        weighted, sessions = weighted + pct * n, sessions + n
    assert found["window"]["value"] == pytest.approx(weighted / sessions, rel=1e-12)


def test_rates_per_100_sessions_have_no_percent_sign(demo):
    run, _ = demo
    found = metric_json(run, "rage_click_rate", 7)
    assert found["unit"] == "per100"
    out = io.StringIO()
    env = {"DATABASE_URL": f"sqlite:///{run.db_path}"}
    main(["metrics"], environ=env, out=out, err=io.StringIO())
    line = next(x for x in out.getvalue().splitlines() if "rage_click_rate" in x)
    assert "Rage clicks per 100 sessions" in line and "%" not in line


def test_the_demo_digest_says_nothing_about_days_before_connecting(demo):
    run, windows = demo
    text = run.summary
    first = min(windows)
    assert (NOW.date() - first).days < 28  # the demo connected less than 28 days ago
    assert "of the last 28 days" not in text and "Sessions with rage clicks" in text


@pytest.mark.parametrize(
    ("zone", "hour", "allowed"),
    [
        ("America/Los_Angeles", 11, True),  # 11:00 local: the window still mostly covers 1 Dec
        ("America/Los_Angeles", 20, False),  # 20:00 local: 4 h of 1 Dec, 20 h of 2 Dec
        ("Europe/London", 12, True),
        ("Europe/London", 13, False),
    ],
)
def test_a_manual_snapshot_keeps_the_12_hour_rule(zone, hour, allowed):
    tz = ZoneInfo(zone)
    now = datetime(2026, 12, 2, hour, tzinfo=tz).astimezone(UTC)
    day = date(2026, 12, 1)
    covered = datetime(2026, 12, 2, tzinfo=tz).astimezone(UTC) - (now - timedelta(hours=24))
    assert (covered >= timedelta(hours=12)) == allowed  # the rule, stated independently
    if allowed:
        refuse_when_too_late(day, tz, now)
    else:
        with pytest.raises(UsageError, match="Tonight's run will rebuild it"):
            refuse_when_too_late(day, tz, now)


@pytest.mark.parametrize(
    ("ticks", "unit", "top", "labels"),
    [
        ([0.0, 2.5, 5.0, 7.5], "percent", 8.0, ["0.0 %", "2.5 %", "5.0 %", "7.5 %"]),
        (
            [0, 250, 500, 750, 1000, 1250],
            "count",
            1300.0,
            ["0", "0.25k", "0.50k", "0.75k", "1.00k", "1.25k"],
        ),
        ([0, 20, 40], "percent", 45.0, ["0 %", "20 %", "40 %"]),
    ],
)
def test_tick_labels_round_trip(ticks, unit, top, labels):
    label = tick_formatter(ticks, unit, top)
    assert [label(t) for t in ticks] == labels
    for tick, text in zip(ticks, labels, strict=True):
        number = float(text.split()[0].removesuffix("k")) * (1000 if "k" in text else 1)
        assert number == pytest.approx(tick)
