from __future__ import annotations

import struct
from datetime import UTC, date, datetime, timedelta

import pytest

from reports.history.catalogue import CATALOGUE, get_metric
from reports.history.load import load
from reports.history.query import Point, Series
from reports.render.charts import ChartMaker, chart_days
from reports.render.charts.line import LineRenderer
from reports.render.charts.style import format_change, format_value, shorten
from store.db import make_engine

NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(demo_history):
    """Nine simulated nights of demo data (one late, one rebuilt), only read by these tests."""
    engine = make_engine(f"sqlite:///{demo_history.db_path}")
    yield demo_history, engine
    engine.dispose()


def drawn(engine, source_id, metric, days, **kw):
    """A chart as the callers draw one: the history read once, then rendered."""
    history = load(engine, source_id, [metric], days=chart_days(metric, days), now=NOW)
    return ChartMaker().metric_chart(history, metric=metric, days=days, **kw)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


@pytest.mark.parametrize("metric", CATALOGUE, ids=lambda m: m.key)
def test_every_catalogue_metric_renders_from_demo_data(demo, metric):
    run, engine = demo
    chart = drawn(engine, run.source_id, metric, 30, source_label="Demo")
    assert png_size(chart.png) == (1600, 900) == (chart.width, chart.height)
    assert metric.label in chart.alt_text and "no data yet" not in chart.alt_text
    assert 20_000 < len(chart.png) < 1_000_000


def test_the_demo_wrote_a_chart_per_category_and_a_digest(demo):
    run, _ = demo
    names = sorted(path.name for path, _ in run.charts)
    assert names == ["breakdown-top_pages_by_rage_clicks.png", "digest.png",
                     "engagement-engagement_time.png", "frustration-sessions_with_rage_clicks.png",
                     "traffic-sessions.png"]  # fmt: skip
    assert all(path.read_bytes()[:4] == b"\x89PNG" for path, _ in run.charts)


def test_alt_text_states_the_key_numbers_and_caveats(demo):
    run, engine = demo
    chart = drawn(engine, run.source_id, get_metric("sessions"), 14)
    text = chart.alt_text
    assert "latest" in text and "vs" in text and "7-day average" in text
    assert "1 estimated" in text and "1 late" in text
    # 14 days asked, 9 stored: the 5 days before the first stored day are not "without data".
    assert "without data" not in text and "11 Mar to 19 Mar" in text


def series_of(values, metric="sessions", end=date(2026, 3, 19), flags=None):
    points = []
    for i, v in enumerate(values):
        day = end - timedelta(days=len(values) - 1 - i)
        extra = (flags or {}).get(i, {})
        points.append(Point(day, v, num=v, den=1.0 if v is not None else None, **extra))
    return Series(get_metric(metric), 1, "UTC", tuple(points))


def test_too_little_history_is_said_in_the_picture_not_drawn_as_a_trend():
    renderer = LineRenderer()
    chart = renderer.render(series_of([None] * 12 + [500, 520, 510]))
    assert "3 days of history so far" in renderer.note.get_text()
    assert all(y != y for y in renderer.line.get_ydata())  # no line: all NaN
    assert "latest 510" in chart.alt_text
    renderer.render(series_of([500 + i for i in range(15)]))
    assert renderer.note.get_text() == ""  # enough history: the note is gone again


def test_gaps_are_drawn_as_gaps_and_flags_as_markers():
    renderer = LineRenderer()
    values = [600, 610, None, 640, 650, 660, 670, 680, None, 700]
    renderer.render(series_of(values, flags={3: {"late": True}, 5: {"estimated": True}}))
    ys = list(renderer.line.get_ydata())
    assert ys[2] != ys[2] and ys[8] != ys[8]  # NaN: the line breaks there
    assert list(renderer.late.get_xdata()) == [3] and list(renderer.estimated.get_xdata()) == [5]
    assert "2 days without data" in renderer.legend.get_text()


def test_the_seven_day_average_follows_the_metric_rule():
    s = series_of([100.0] * 7 + [200.0] * 7)
    assert s.rolling()[6] == 100 and s.rolling()[-1] == 200 and s.rolling()[2] is None


def test_number_formats():
    assert [format_value(v, "count") for v in (0, 999, 1234, 12_345, 150_000)] == [
        "0", "999", "1.2k", "12.3k", "150k"]  # fmt: skip
    assert (
        format_value(12.34, "seconds") == "12.3 s" and format_value(95, "seconds") == "1 min 35 s"
    )
    assert format_value(45.0, "percent") == "45 %" and format_value(2.25, "percent") == "2.2 %"
    assert format_value(None, "count") == "—"
    assert (
        format_change(12.4) == "▲ 12 %"
        and format_change(-3) == "▼ 3 %"
        and format_change(None) == ""
    )
    short = shorten("/collections/very-long/path/to/a/product-page", 20, middle=True)
    assert short == "/collecti…oduct-page" and len(short) == 20
    assert shorten("A very long page title about lamps", 12) == "A very long…"


def test_rendering_is_repeatable_and_does_not_leak_figures():
    import gc

    import matplotlib.figure

    renderer = LineRenderer()
    s = series_of([600 + i for i in range(30)])
    first = renderer.render(s).png
    assert renderer.render(s).png == first  # the same input, the same picture
    gc.collect()
    before = sum(isinstance(o, matplotlib.figure.Figure) for o in gc.get_objects())
    for _ in range(5):  # a leak would leave a figure behind on every render
        renderer.render(s)
    gc.collect()
    assert sum(isinstance(o, matplotlib.figure.Figure) for o in gc.get_objects()) == before


def test_a_flag_on_a_day_without_a_value_is_not_in_the_legend():
    renderer = LineRenderer()
    values = [600, 610, 620, 630, None, 650, 660]  # the estimated day has no value here
    renderer.render(series_of(values, flags={4: {"estimated": True}}))
    assert "estimated" not in renderer.legend.get_text()


def test_the_digest_sparklines_have_a_scale_and_no_text_collides():
    from reports.render.charts.digest import DIGEST_METRICS, DigestRenderer

    values = {
        "sessions": [692.0, 978.0, 840.0] * 5,
        "engagement_time": [None, 94.0, 101.0, 97.5, 99.0] * 3,  # the widest scale labels
    }
    percent = [41.9, 43.0, None, 42.5] * 4
    series = [series_of(values.get(key, percent), metric=key) for key in DIGEST_METRICS]
    renderer = DigestRenderer()
    title = "A project label far too long to fit in a chart's title at all"
    chart = renderer.render(series, title=title, subtitle="daily, 6 Mar – 19 Mar 2026")
    assert png_size(chart.png) == (chart.width, chart.height) == (1600, 1392)
    scales = [(c.high.get_text(), c.low.get_text()) for c in renderer.cells]
    assert scales[0] == ("978", "692") and scales[1] == ("1 min 41 s", "1 min 34 s")
    assert scales[2] == ("43 %", "42 %")  # 43.0 and 41.9, as values are shown
    texts = [t for t in renderer.figure.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]
    assert len(texts) == 2 + 6 * 5  # title, subtitle; a label, value, change, high, low a cell
    assert min(t.get_fontsize() for t in texts) >= 11
    whole = renderer.figure.bbox
    boxes = [t.get_window_extent(renderer.figure.canvas.get_renderer()) for t in texts]
    for i, box in enumerate(boxes):
        assert whole.x0 <= box.x0 and box.x1 <= whole.x1, (texts[i].get_text(), box)
        assert whole.y0 <= box.y0 and box.y1 <= whole.y1, (texts[i].get_text(), box)
        assert not any(box.overlaps(other) for other in boxes[i + 1 :]), texts[i].get_text()


def test_an_alert_chart_draws_its_window_its_number_and_the_limit():
    from reports.render.charts.marks import AlertMarks, Window

    renderer = LineRenderer()
    values = [500.0] * 23 + [800.0] * 7  # the last 7 of 30 days are the rule's window
    end = date(2026, 3, 19)
    window = Window(end - timedelta(days=6), end, 800.0, "5.6k in 7 days = 800 a day")
    marks = AlertMarks(
        window,
        None,
        700.0,
        "limit above 4.9k in 7 days",
        "5.6k",
        "total, last 7 days · limit above 4.9k in 7 days",
        True,
    )
    chart = renderer.render(series_of(values), marks=marks)
    assert renderer.value.get_text() == "5.6k"  # the rule's number, not the last day's 800
    assert "total, last 7 days" in renderer.change.get_text()
    assert list(renderer.marks.limit.get_ydata()) == [700.0, 700.0]
    assert renderer.marks.limit_text.get_text() == "limit above 4.9k in 7 days"
    assert (renderer.marks.span.get_x(), renderer.marks.span.get_width()) == (22.5, 7)
    assert list(renderer.marks.level.get_ydata()) == [800.0, 800.0]
    assert all(y != y for y in renderer.avg.get_ydata())  # no 7-day average beside it
    assert "━ 5.6k in 7 days = 800 a day" in renderer.legend.get_text()
    assert "Rule window 13 Mar to 19 Mar: 5.6k" in chart.alt_text
    renderer.render(series_of(values))  # the next chart (the same figure) has no marks
    assert not renderer.marks.limit.get_visible() and not renderer.marks.span.get_visible()
    assert renderer.value.get_text() == "800"
