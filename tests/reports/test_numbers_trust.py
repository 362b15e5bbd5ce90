"""Issue 12, "Numbers people can check": one test (or small group) per numbered point.

Expected values are worked out here from the stored days (literal arithmetic) or from the
sandbox's visit log, never with the project's aggregation functions.

1. Rates match Clarity: test_point1_* here; per day and 7/30-day weighted against the
   sandbox's truth in test_dashboard_rates.py; the demo digest in test_numbers_trust_calls.py.
2. Users never summed: test_point2_*.
3. A gap in a window is said, not zero-filled: test_point3_*.
4. Summary and AI-facts averages are session-weighted (rates: rate of sums): test_point4_*.
5. Caveats come from each metric's own values: test_point5_*.
6. Manual snapshots keep the 12-hour rule, past --now refused: test_numbers_trust_calls.py
   (test_point6_*), and test_a_manual_snapshot_keeps_the_12_hour_rule in test_dashboard_rates.py.
7. Manual calls never take tonight's calls: test_numbers_trust_calls.py (test_point6_and_7_*,
   test_point7_*).
8. Before the first stored day is not missing: test_numbers_trust_changes.py (test_point8_*).
9. Changes read right (points, movers floor, ±2 % neutral, subtitles, ticks):
   test_numbers_trust_changes.py (test_point9_*).
10. Short and long (DST) days are marked and said: test_numbers_trust_changes.py (test_point10_*).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.cli import main
from reports.alerts.evaluate import AlertEvaluator
from reports.alerts.rules import add_rule, list_rules, parse_rule
from reports.delivery.cadence import Occurrence
from reports.delivery.compose import compose, report_needs
from reports.history.catalogue import get_metric
from reports.history.load import load
from reports.render.ai import facts_payload
from reports.render.charts import ChartMaker
from reports.render.facts import DAYS, compute, needs
from reports.render.summary import deterministic, deterministic_all
from store.models import Subscription
from tests.fakes.history import a_source, store_day

NOW = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)  # the night of Thu 19 March is in
END = date(2026, 3, 19)


def days_back(n: int) -> list[date]:
    """The `n` days ending END, oldest first."""
    return [END - timedelta(days=k) for k in range(n - 1, -1, -1)]


def stored(engine, per_day: dict[date, dict]) -> int:
    """A source with exactly these nights stored (a day not in `per_day` is a gap)."""
    sid = a_source(engine, NOW - timedelta(days=90))
    for day, fields in per_day.items():
        store_day(engine, sid, day, **fields)
    return sid


def facts(engine, sid, key):
    metric = get_metric(key)
    return compute(load(engine, sid, needs(metric), days=DAYS, now=NOW), metric)


def alert(engine, sid, text):
    """Add a rule, evaluate it as the worker does; return its state, reason and headline."""
    add_rule(
        engine,
        parse_rule(text.split()),
        source_id=sid,
        workspace_id=None,
        kind="slack",
        destination="C1",
        now=NOW,
        min_sessions=0,
    )
    told = []

    class Sender:
        def deliver(self, report, sub, now, url):
            told.append(report.headline)
            return "C1:1.0"

    AlertEvaluator(engine=engine, senders={"slack": Sender()}, charts=ChartMaker()).tick(NOW)
    (rule,) = list_rules(engine)
    return rule.state, rule.state_reason, told


def k(value: float) -> str:
    """A count as people read it, by hand: 2,400 → 2.4k, 28,600 → 28.6k."""
    return f"{value / 1000:.1f}k"


def test_point1_the_dashboard_share_is_a_percent_and_a_rate_is_per_100_sessions(engine):
    # One day as Clarity's dashboard shows it: 1,000 sessions, 900 dead clicks, 25.26 % of
    # sessions with a dead click. The share is "25 %"; the rate is 90 per 100, with no "%".
    sid = stored(
        engine, {d: {"dead": 900, "dead_clicks_sessions_pct": 25.26} for d in days_back(3)}
    )
    share = facts(engine, sid, "sessions_with_dead_clicks")
    rate = facts(engine, sid, "dead_click_rate")
    assert share.latest == 25.26 and rate.latest == 100 * 900 / 1000
    assert deterministic(share).startswith("Sessions with dead clicks: 25 % on Thu 19 Mar")
    assert deterministic(rate).startswith("Dead clicks per 100 sessions: 90 on Thu 19 Mar")
    assert "90 %" not in deterministic(rate)


USERS = [2300, 2350, 2400, 2450, 2500, 2380, 2420]  # the last 7 days: 16,800 added up


def test_point2_users_are_never_summed_in_alerts_summaries_or_ai_facts(engine):
    before = {d: {"distinct_users": 2000} for d in days_back(28)[:21]}
    last = {d: {"distinct_users": n} for d, n in zip(days_back(7), USERS, strict=True)}
    sid = stored(engine, before | last)
    mean, total = sum(USERS) / 7, sum(USERS)
    assert (k(mean), k(total)) == ("2.4k", "16.8k")
    state, reason, told = alert(engine, sid, "distinct_users below 3000 over 7d")
    assert state == "fired" and f"about {k(mean)} a day over the last 7 days" in told[0]
    f = facts(engine, sid, "distinct_users")
    text = deterministic(f)
    assert f"Over the last 7 days: about {k(mean)} users a day" in text
    assert f"daily average of {k((total + 21 * 2000) / 28)} over the 28 days" in text
    (payload,) = facts_payload([f])
    assert payload["last_7_days"] == mean and payload["last_7_days_is"] == "daily average"
    assert all(k(total) not in t for t in (text, told[0], json.dumps(payload)))
    # The CLI's window figure calls a sum what it is.
    out = io.StringIO()
    argv = ["metric", "--source", str(sid), "--metric", "distinct_users", "--days", "7"]
    main(
        [*argv, "--now", NOW.isoformat()],
        environ={"DATABASE_URL": str(engine.url)},
        out=out,
        err=io.StringIO(),
    )
    assert f"sum of daily users: {total:,} over 7 of 7 days" in out.getvalue()


GAP = date(2026, 3, 15)  # inside both the last 7 and the last 14 days


def test_point3_a_sum_over_a_window_with_a_gap_is_unknown_and_says_so(engine):
    sid = stored(engine, {d: {"sessions": 2200} for d in days_back(28) if d != GAP})
    total = 13 * 2200  # 28.6k: "below 30000" if the gap were a zero, 30.8k with the day there
    state, reason, told = alert(engine, sid, "sessions below 30000 over 14d")
    assert state == "unknown" and told == []
    assert f"{k(total)} over 13 of 14 days (1 without data)" in reason
    text = deterministic(facts(engine, sid, "sessions"))
    assert f"Over the last 7 days: {k(6 * 2200)} over 6 of 7 days" in text


def test_point3_averages_use_the_days_that_exist_and_say_how_many(engine):
    seconds = {d: 60 + 3 * i for i, d in enumerate(days_back(28))}
    sessions = {d: 500 + 40 * i for i, d in enumerate(days_back(28))}
    per_day = {
        d: {
            "sessions": sessions[d],
            "engagement_time_ms": 1000 * seconds[d],
            "distinct_users": 2200,
        }
        for d in days_back(28)
        if d != GAP
    }
    sid = stored(engine, per_day)
    week = [d for d in days_back(7) if d != GAP]
    weighted = sum(seconds[d] * sessions[d] for d in week) / sum(sessions[d] for d in week)
    f = facts(engine, sid, "engagement_time")
    assert (f.period.days_with_data, f.period.days) == (6, 7)
    assert f.period.value == pytest.approx(weighted)
    assert (
        f"{int(weighted // 60)} min {int(weighted % 60):02d} s over 6 of 7 days" in deterministic(f)
    )
    # Users are judged per day: a gap does not stop the rule, and the mean is of six days.
    state, _, told = alert(engine, sid, "distinct_users below 3000 over 7d")
    assert state == "fired" and "about 2.2k a day" in told[0]


def test_point4_averages_in_summaries_and_ai_facts_are_weighted_by_sessions(engine):
    # Busy days are long visits, quiet days short ones: a plain mean would say 2 min 00 s.
    busy = {d: i % 2 == 0 for i, d in enumerate(days_back(28))}
    per_day = {
        d: {
            "sessions": 2000 if b else 500,
            "engagement_time_ms": 150_000 if b else 90_000,
            "quick_backs": 300 if b else 150,
            "rage_clicks_sessions_pct": 3.0 if b else 6.0,
        }
        for d, b in busy.items()
    }
    sid = stored(engine, per_day)

    def weighted(field, days, scale=1.0):
        rows = [per_day[d] for d in days]
        return (
            sum(r[field] * r["sessions"] for r in rows) / sum(r["sessions"] for r in rows) / scale
        )

    active_28 = weighted("engagement_time_ms", days_back(28), 1000)
    assert active_28 == 138.0  # (2000 × 150 + 500 × 90) / 2500; the plain mean is 120
    active = facts(engine, sid, "engagement_time")
    assert "Against the average of 2 min 18 s over the 28 days with data" in deterministic(active)
    (payload,) = facts_payload([active])
    assert payload["average_28_days"] == active_28
    assert payload["average_7_days"] == round(weighted("engagement_time_ms", days_back(7), 1000), 2)

    week = [per_day[d] for d in days_back(7)]
    rate = 100 * sum(r["quick_backs"] for r in week) / sum(r["sessions"] for r in week)
    (payload,) = facts_payload([facts(engine, sid, "quick_back_rate")])
    assert payload["last_7_days"] == round(rate, 2)  # the rate of the sums, not a mean of rates

    share = weighted("rage_clicks_sessions_pct", days_back(7))
    rage = facts(engine, sid, "sessions_with_rage_clicks")
    (payload,) = facts_payload([rage])
    assert payload["average_7_days"] == round(share, 2)
    history = load(engine, sid, [rage.metric], days=14, now=NOW)
    chart = ChartMaker().metric_chart(history, metric=rage.metric, days=7)
    assert f"7-day average {share:.1f} %" in chart.alt_text  # the chart and the AI agree


def test_point5_caveats_come_from_each_metrics_own_values(engine):
    rebuilt = date(2026, 3, 12)  # a day rebuilt from totals: counts, but no scroll depth
    per_day = {d: {"scroll_depth": 40.0} for d in days_back(14)}
    per_day[rebuilt] = {"estimated": True}
    sid = stored(engine, per_day)
    sessions, scroll = facts(engine, sid, "sessions"), facts(engine, sid, "scroll_depth")
    about_sessions, about_scroll = deterministic(sessions), deterministic(scroll)
    assert "1 day(s) of sessions are estimated" in about_sessions
    assert "have no" not in about_sessions
    assert "1 of the last 14 days have no scroll depth data" in about_scroll
    assert "estimated" not in about_scroll
    both = deterministic_all([sessions, scroll])
    assert "sessions are estimated" in both and "no scroll depth data" in both
    # A report's notes: a line per metric, over the days since the first stored day.
    sub = Subscription(
        id=1,
        source_id=sid,
        metrics=["scroll_depth", "sessions"],
        destination_kind="outbox",
        destination="x",
        frequency="daily",
    )
    metrics, days = report_needs(sub)
    history = load(engine, sid, metrics, days=days, now=NOW)
    report = compose(history, ChartMaker(), sub, Occurrence("d", NOW.date(), NOW))
    assert "Scroll depth: 1 of 14 days without data." in report.notes
    assert "Sessions: 1 estimated." in report.notes
