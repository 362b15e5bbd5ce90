"""Issue 12, points 8-10 (the map of all ten is in test_numbers_trust.py): the first month is
not "missing", changes read right, and short and long local days are marked and said.

Expected values are literal arithmetic on the stored days, and zoneinfo for the clock changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from bot.slack.chartmsg import summary_line
from reports.delivery.cadence import Occurrence
from reports.delivery.compose import compose, report_needs
from reports.delivery.tiles import digest_tiles
from reports.history.catalogue import get_metric
from reports.history.load import load
from reports.render.ai import facts_payload
from reports.render.charts import DIGEST_METRICS, ChartMaker
from reports.render.charts.bar import BarRenderer
from reports.render.charts.line import LineRenderer
from reports.render.charts.style import MUTED, UP_GOOD
from reports.render.compare import day_change
from reports.render.facts import DAYS, compute, mover_words, needs
from reports.render.summary import deterministic
from store import repository
from store.models import Subscription
from tests.fakes.history import a_source, store_day

NOW = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)  # the night of Thu 19 March is in
END = date(2026, 3, 19)


def stored(engine, per_day: dict[date, dict], zone: str = "UTC") -> int:
    """A source (in a workspace of `zone`) with exactly these nights stored."""
    sid = a_source(engine, NOW - timedelta(days=400))
    with Session(engine) as session:
        workspace = repository.default_workspace(session=session)
        workspace.timezone = zone
        session.add(workspace)
        session.commit()
    for day, fields in per_day.items():
        store_day(engine, sid, day, **fields)
    return sid


def days_to(end: date, n: int) -> list[date]:
    return [end - timedelta(days=k) for k in range(n - 1, -1, -1)]


def facts(engine, sid, key, now=NOW):
    metric = get_metric(key)
    return compute(load(engine, sid, needs(metric), days=DAYS, now=now), metric)


def report_notes(engine, sid, keys, now=NOW) -> tuple[str, ...]:
    sub = Subscription(
        id=1,
        source_id=sid,
        metrics=keys,
        destination_kind="outbox",
        destination="x",
        frequency="daily",
    )
    metrics, days = report_needs(sub)
    history = load(engine, sid, metrics, days=days, now=now)
    return compose(history, ChartMaker(), sub, Occurrence("d", now.date(), now)).notes


def test_point8_days_before_the_first_stored_day_are_not_missing(engine):
    first, gap = date(2026, 3, 10), date(2026, 3, 14)  # connected ten days ago; one gap since
    sid = stored(engine, {d: {} for d in days_to(END, 10) if d != gap})
    since = (END - first).days + 1
    assert since == 10
    f = facts(engine, sid, "sessions")
    assert (f.days, f.days_missing) == (since, 1)
    assert "1 of the last 10 days have no sessions data" in deterministic(f)
    (payload,) = facts_payload([f])
    assert (payload["caveats"]["days_looked_at"], payload["caveats"]["days_without_data"]) == (
        10,
        1,
    )
    assert report_notes(engine, sid, ["sessions"]) == ("Sessions: 1 of 10 days without data.",)
    # A 90-day chart starts at the first stored day and says so.
    metric = get_metric("sessions")
    history = load(engine, sid, [metric], days=97, now=NOW)
    line = LineRenderer()
    chart = line.render(history.series(metric, 97), visible=90, first_day=history.first_day)
    assert chart.alt_text.startswith("Sessions, daily, 10 Mar to 19 Mar 2026:")
    assert "1 day without data" in chart.alt_text
    assert "stored since 10 Mar 2026" in line.subtitle.get_text()
    assert "1 day without data" in line.legend.get_text()


def daily_tiles(history):
    """A daily report's tiles: each digest metric's last day against its weekday before."""
    changes = {k: day_change(history.series(get_metric(k), 14)) for k in DIGEST_METRICS}
    return digest_tiles(history, changes)


def test_point9_a_rate_changes_in_points_everywhere(engine):
    share = dict.fromkeys(days_to(END, 21), 3.0) | {END - timedelta(days=7): 2.9, END: 5.5}
    sid = stored(engine, {d: {"rage_clicks_sessions_pct": v} for d, v in share.items()})
    points, relative = 5.5 - 2.9, 100 * (5.5 - 2.9) / 2.9
    said, not_said = f"▲ {points:.1f} pp vs Thu 12 Mar", f"{relative:.0f} %"
    assert (said, not_said) == ("▲ 2.6 pp vs Thu 12 Mar", "90 %")
    metric = get_metric("sessions_with_rage_clicks")
    history = load(engine, sid, [metric], days=21, now=NOW)
    series = history.series(metric, 14)
    tile = next(
        t for t, key in zip(daily_tiles(history), DIGEST_METRICS, strict=True) if key == metric.key
    )
    line = LineRenderer()
    line.render(series, visible=7)
    texts = {
        "report line": day_change(series).line,
        "Slack caption": summary_line(series),
        "email tile": tile.change,
        "line chart": line.change.get_text(),
    }
    for where, text in texts.items():
        assert said in text and not_said not in text, where
    assert "up 2.6 points on the Thursday before" in deterministic(facts(engine, sid, metric.key))


def page(sessions: int, **fields) -> dict:
    return {"sessions": sessions, **fields}


def test_point9_movers_need_volume_in_both_weeks_and_more_than_rounding(engine):
    def night(day):
        this_week = day > END - timedelta(days=7)
        return {
            "pages": {
                "https://shop.example/tiny": page(10, dead_clicks=4 if this_week else 1),  # +300 %
                "https://shop.example/big": page(500, dead_clicks=70 if this_week else 50),
                "https://shop.example/steady": page(500, scroll_depth=40.3 if this_week else 40.0),
                "https://shop.example/moving": page(500, scroll_depth=45.0 if this_week else 40.0),
            }
        }

    sid = stored(engine, {d: night(d) for d in days_to(END, 28)})
    dead = facts(engine, sid, "dead_clicks").movers
    assert [m.label for m in dead] == ["/big"]  # /tiny: 7 × 10 sessions a week, under 100
    assert dead[0].change_pct == pytest.approx(100 * (70 - 50) / 50)
    scroll = facts(engine, sid, "scroll_depth").movers
    assert [mover_words(m) for m in scroll] == [f"page /moving (up {45.0 - 40.0:.1f} points)"]


@pytest.mark.parametrize(
    ("latest", "colour", "words"),
    [
        (1015, MUTED, "level with the Thursday before"),
        (1050, UP_GOOD, "up 5 % on the Thursday before"),
    ],
)
def test_point9_changes_within_2_percent_are_neutral(engine, latest, colour, words):
    sid = stored(engine, {d: {"sessions": latest if d == END else 1000} for d in days_to(END, 21)})
    metric = get_metric("sessions")
    history = load(engine, sid, [metric], days=21, now=NOW)
    tile = daily_tiles(history)[DIGEST_METRICS.index("sessions")]
    line = LineRenderer()
    line.render(history.series(metric, 14), visible=7)
    assert tile.colour == line.change.get_color() == colour
    assert words in deterministic(facts(engine, sid, "sessions"))


@pytest.mark.parametrize("weeks", [1, 2])
def test_point9_bar_subtitle_says_changes_only_when_drawn(engine, weeks):
    pages = {"pages": {"https://shop.example/a": page(300), "https://shop.example/b": page(200)}}
    sid = stored(engine, dict.fromkeys(days_to(END, 7 * weeks), pages))
    metric = get_metric("top_pages_by_sessions")
    history = load(engine, sid, [metric], days=7, now=NOW)
    bars = BarRenderer()
    bars.render(history.breakdown(metric, 7, top_n=10))
    assert ("changes vs the 7 days before" in bars.subtitle.get_text()) == (weeks == 2)


def round_trips(axis) -> list[float]:
    """Each gridline's label, read back as a number, is the gridline: return the ticks."""
    lo, hi = axis.get_view_interval()
    ticks = [t for t in axis.get_major_locator().tick_values(lo, hi) if lo <= t <= hi]
    label = axis.get_major_formatter()
    for tick in ticks:
        text = label(tick, 0)
        number = float(text.split()[0].removesuffix("k")) * (1000 if "k" in text else 1)
        assert number == pytest.approx(tick), (text, tick)
    return ticks


def test_point9_tick_labels_round_trip(engine):
    # Pages at 6.9 % and 4 % scroll depth: the bar axis runs to 9 with gridlines every 2.5 %.
    pages = {
        "https://shop.example/a": page(500, scroll_depth=6.9),
        "https://shop.example/b": page(500, scroll_depth=4.0),
    }
    sid = stored(engine, {d: {"pages": pages, "scroll_depth": 5.9} for d in days_to(END, 14)})
    metric = get_metric("top_pages_by_scroll_depth")
    history = load(engine, sid, [metric, get_metric("scroll_depth")], days=14, now=NOW)
    bars = BarRenderer()
    bars.render(history.breakdown(metric, 7, top_n=10))
    assert 2.5 in round_trips(bars.ax.xaxis)
    line = LineRenderer()
    line.render(history.series(get_metric("scroll_depth"), 14), visible=7)
    assert round_trips(line.ax.yaxis)


LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("day", "kind"), [(date(2026, 3, 29), "short"), (date(2026, 10, 25), "long")]
)
def test_point10_a_clock_change_day_has_a_marker_and_a_caveat(engine, day, kind):
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON).astimezone(UTC)
    after = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)
    hours = round((after.astimezone(UTC) - start).total_seconds() / 3600)
    assert hours == (23 if kind == "short" else 25)
    end = day + timedelta(days=3)
    now = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=6
    )
    sid = stored(engine, {d: {} for d in days_to(end, 14)}, zone="Europe/London")
    metric = get_metric("sessions")
    history = load(engine, sid, [metric], days=14, now=now)
    line = LineRenderer()
    line.render(history.series(metric, 14))
    assert f"□ {day:%-d %b}: {kind} day ({hours} h)" in line.legend.get_text()
    assert list(line.odd.get_xdata()) == [14 - 1 - 3]  # the only marker: three days before the end
    said = f"{day:%a %-d %b} was a {kind} day ({hours} h, a clock change)"
    assert said in deterministic(facts(engine, sid, "sessions", now=now))
    assert report_notes(engine, sid, ["sessions"], now=now) == (
        f"Sessions: {day:%a %-d %b} was {hours} h long (clock change).",
    )
