"""The aggregation rules, pinned on hand-computed data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from reports.clarity.rows import dimension_hash
from reports.errors import UsageError
from reports.history.breakdowns import breakdown
from reports.history.catalogue import CATALOGUE, by_category, get_metric
from reports.history.query import aggregate, series
from store import repository
from store.models import RankedRow, Snapshot, Source

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # yesterday is 2026-03-10
D = [date(2026, 3, d) for d in range(1, 11)]  # D[9] is yesterday


@pytest.fixture
def source_id(engine):
    with Session(engine) as session:
        workspace = repository.default_workspace(session=session)
        source = Source(
            workspace_id=workspace.id, label="s", project_key="p", token_fingerprint="f"
        )
        session.add(source)
        session.commit()
        return source.id


def put(
    engine, source_id, day, group="overall", rows=({},), *, late=False, estimated=False, dims=()
):
    """Store one snapshot with the given rows (dicts of metric and dimension values)."""
    at = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
    with Session(engine) as session:
        snap = Snapshot(
            source_id=source_id,
            local_date=day,
            fetch_group=group,
            dimensions=list(dims),
            window_start=at - timedelta(days=1),
            window_end=at,
            due_at=at,
            late=late,
            estimated=estimated,
        )
        records = []
        for row in rows:
            values = tuple(row.get(d) for d in dims)
            records.append(
                {
                    "source_id": source_id,
                    "local_date": day,
                    "fetch_group": group,
                    "dimension_hash": dimension_hash(dims, values),
                    **row,
                }
            )
        repository.save_snapshot(
            session=session, snapshot=snap, metric_rows=records, ranked_rows=[]
        )
        session.commit()


def page(raw, url, sessions, scroll=None):
    row = {"url_raw": "https://x.com" + raw, "url": "https://x.com" + url, "sessions": sessions}
    return row | ({"scroll_depth": scroll} if scroll is not None else {})


def test_every_catalogue_metric_has_a_category_unit_and_rule():
    assert {"sessions", "rage_click_rate", "top_pages_by_scroll_depth"} <= {
        m.key for m in CATALOGUE
    }
    assert len({m.key for m in CATALOGUE}) == len(CATALOGUE)
    groups = by_category()
    assert [m.key for m in groups["traffic"]] == ["sessions", "distinct_users", "bot_sessions"]
    assert all(m.unit in {"count", "percent", "seconds", "ratio", "per100"} for m in CATALOGUE)
    with pytest.raises(UsageError, match="claritybot metrics"):
        get_metric("bounce_rate")


def test_a_series_has_gaps_as_none_and_carries_late_and_estimated_flags(engine, source_id):
    put(engine, source_id, D[5], rows=[{"sessions": 100}])
    put(engine, source_id, D[7], rows=[{"sessions": 300}], estimated=True)
    put(engine, source_id, D[8], rows=[{"sessions": 0}], late=True)
    s = series(engine, source_id=source_id, metric=get_metric("sessions"), days=5, now=NOW)
    assert [p.day for p in s.points] == D[5:10]
    assert [p.value for p in s.points] == [100, None, 300, 0, None]  # a zero is a zero, a gap None
    assert [(p.late, p.estimated) for p in s.points][2:4] == [(False, True), (True, False)]
    assert s.days_with_data == 3 and s.latest().day == D[8]
    assert all(len(p.refs) == 1 for p in s.points if p.value is not None)


def test_averages_are_weighted_by_sessions_not_averaged(engine, source_id):
    put(
        engine,
        source_id,
        D[8],
        rows=[
            {
                "sessions": 100,
                "scroll_depth": 50.0,
                "engagement_time_ms": 60_000,
                "pages_per_session": 3.0,
            }
        ],
    )
    put(
        engine,
        source_id,
        D[9],
        rows=[
            {
                "sessions": 300,
                "scroll_depth": 30.0,
                "engagement_time_ms": 20_000,
                "pages_per_session": 1.0,
            }
        ],
    )

    def agg(key):
        return aggregate(engine, source_id=source_id, metric=get_metric(key), start=D[8], end=D[9])

    assert agg("scroll_depth").value == pytest.approx((100 * 50 + 300 * 30) / 400)  # 35, not 40
    assert agg("engagement_time").value == pytest.approx(30.0)  # seconds, weighted
    assert agg("pages_per_session").value == pytest.approx(1.5)
    assert agg("sessions").value == 400


def test_rates_divide_summed_counts(engine, source_id):
    put(engine, source_id, D[8], rows=[{"sessions": 100, "rage_clicks": 10}])
    put(engine, source_id, D[9], rows=[{"sessions": 900, "rage_clicks": 10}])
    s = series(engine, source_id=source_id, metric=get_metric("rage_click_rate"), days=2, now=NOW)
    assert [p.value for p in s.points] == [pytest.approx(10.0), pytest.approx(10 / 9)]
    window = aggregate(
        engine, source_id=source_id, metric=get_metric("rage_click_rate"), start=D[8], end=D[9]
    )
    assert window.value == pytest.approx(2.0)  # 20 / 1000, not the mean of 10 % and 1.1 %


def test_distinct_users_are_never_summed_silently(engine, source_id):
    put(engine, source_id, D[8], rows=[{"distinct_users": 80}])
    put(engine, source_id, D[9], rows=[{"distinct_users": 90}])
    one = aggregate(
        engine, source_id=source_id, metric=get_metric("distinct_users"), start=D[9], end=D[9]
    )
    assert (one.value, one.summed_daily_users) == (90, False)
    two = aggregate(
        engine, source_id=source_id, metric=get_metric("distinct_users"), start=D[8], end=D[9]
    )
    assert (two.value, two.summed_daily_users) == (170, True)  # labelled: a sum of daily users


def test_totals_come_from_the_overall_group_only(engine, source_id):
    put(engine, source_id, D[9], rows=[{"sessions": 531}])
    put(
        engine,
        source_id,
        D[9],
        "channels",
        dims=("channel",),
        rows=[{"channel": "Direct", "sessions": 400}, {"channel": "Organic", "sessions": 339}],
    )
    total = aggregate(
        engine, source_id=source_id, metric=get_metric("sessions"), start=D[9], end=D[9]
    )
    assert total.value == 531  # not 739


def test_no_data_is_none_never_zero(engine, source_id):
    put(engine, source_id, D[9], rows=[{"sessions": 300}], estimated=True)  # counts only
    for key in ("sessions", "scroll_depth"):
        empty = aggregate(engine, source_id=source_id, metric=get_metric(key), start=D[0], end=D[4])
        assert (empty.value, empty.days_with_data) == (None, 0)
    scroll = aggregate(
        engine, source_id=source_id, metric=get_metric("scroll_depth"), start=D[9], end=D[9]
    )
    assert scroll.value is None  # an estimated day has no averages


def test_page_breakdown_merges_query_strings_shares_and_compares(engine, source_id):
    for day, a, b in ((D[7], 40, 10), (D[8], 30, 20), (D[9], 50, 30)):
        put(engine, source_id, day, rows=[{"sessions": 200}])
        rows = [page("/a?utm=1", "/a", a), page("/a/", "/a", a), page("/b", "/b", b)]
        put(engine, source_id, day, "pages", dims=("url_raw",), rows=rows)
    result = breakdown(
        engine,
        source_id=source_id,
        metric=get_metric("top_pages_by_sessions"),
        days=1,
        top_n=10,
        now=NOW,
    )
    first, second = result.rows
    assert (first.label, first.key, first.value) == ("/a", "https://x.com/a", 100)
    assert first.share == pytest.approx(50.0)  # of the site's 200 sessions that day
    assert first.previous == 60 and first.change_pct == pytest.approx(100 * 40 / 60)
    assert (second.label, second.value, second.previous) == ("/b", 30, 20)


def test_scroll_depth_by_page_is_weighted_and_ignores_tiny_pages(engine, source_id):
    put(engine, source_id, D[9], rows=[{"sessions": 1000}])
    rows = [
        page("/a?1", "/a", 100, 20.0),
        page("/a?2", "/a", 300, 60.0),
        page("/tiny", "/tiny", 3, 99.0),
    ]
    put(engine, source_id, D[9], "pages", dims=("url_raw",), rows=rows)
    result = breakdown(
        engine,
        source_id=source_id,
        metric=get_metric("top_pages_by_scroll_depth"),
        days=1,
        top_n=5,
        now=NOW,
    )
    (only,) = result.rows
    assert only.label == "/a" and only.value == pytest.approx(50.0) and only.share is None


def test_ranked_lists_add_up_across_days(engine, source_id):
    for day, chrome, safari in ((D[8], 10, 7), (D[9], 20, 30)):
        put(engine, source_id, day, rows=[{"sessions": 100}])
        with Session(engine) as session:
            snap = session.exec(select(Snapshot).where(Snapshot.local_date == day)).first()
            for rank, (name, n) in enumerate((("Chrome", chrome), ("Safari", safari)), 1):
                session.add(
                    RankedRow(
                        snapshot_id=snap.id,
                        source_id=source_id,
                        local_date=day,
                        fetch_group="overall",
                        list_name="browser",
                        rank=rank,
                        name=name,
                        count=n,
                    )
                )
            session.commit()
    result = breakdown(
        engine, source_id=source_id, metric=get_metric("top_browsers"), days=2, top_n=10, now=NOW
    )
    assert [(r.label, r.value, r.share) for r in result.rows] == [
        ("Safari", 37, pytest.approx(18.5)),
        ("Chrome", 30, pytest.approx(15.0)),
    ]


def test_series_and_breakdowns_refuse_each_others_metrics(engine, source_id):
    with pytest.raises(UsageError, match="breakdown"):
        series(engine, source_id=source_id, metric=get_metric("top_channels"), days=7, now=NOW)
    with pytest.raises(UsageError, match="line"):
        breakdown(
            engine, source_id=source_id, metric=get_metric("sessions"), days=7, top_n=5, now=NOW
        )


def test_a_period_with_fewer_days_of_data_is_not_compared(engine, source_id):
    for day in (D[6], D[8], D[9]):  # the window before (D[6..7]) has one day, this one two
        put(engine, source_id, day, rows=[{"sessions": 100}])
        put(engine, source_id, day, "channels", dims=("channel",),
            rows=[{"channel": "Direct", "sessions": 60}])  # fmt: skip
    result = breakdown(engine, source_id=source_id, metric=get_metric("top_channels"), days=2,
                       top_n=5, now=NOW)  # fmt: skip
    (row,) = result.rows
    assert (row.value, row.previous, row.change_pct) == (120, None, None)  # not "+100 %"
    assert row.share == pytest.approx(60.0)
