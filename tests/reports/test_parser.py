from __future__ import annotations

import json
import logging

import pytest

from reports.clarity.dimensions import resolve_dimensions
from reports.clarity.parser import parse_insights
from reports.clarity.rows import metric_rows, ranked_rows
from reports.clarity.values import to_count, to_number
from reports.errors import ClarityDimensionMissing, ClarityShapeError
from store.fields import METRIC_FIELDS
from tests.conftest import FIXTURES

SAMPLES = FIXTURES / "clarity"


def load(name):
    return json.loads((SAMPLES / name).read_text())


def by_dim(parsed):
    return {row.dimensions: row.metrics for row in parsed.rows}


def test_overall_sample_parses_to_the_real_numbers():
    parsed = parse_insights(load("fpr-2026-08-24-overall.json"))
    assert len(parsed.blocks) == 16 and parsed.unknown_blocks == ()
    (row,) = parsed.rows
    m = row.metrics
    assert (m["sessions"], m["bot_sessions"], m["distinct_users"]) == (531, 128, 538)
    assert m["pages_per_session"] == pytest.approx(2.4889, abs=1e-4)
    assert m["scroll_depth"] == 34.19
    assert (m["engagement_time_ms"], m["total_time_ms"]) == (106_000, 210_000)
    assert (m["dead_clicks"], m["dead_clicks_sessions_pct"], m["dead_clicks_pages"]) == (
        522,
        22.22,
        180,
    )
    assert (m["rage_clicks"], m["quick_backs"], m["quick_backs_pages"]) == (20, 163, 163)
    assert (m["script_errors"], m["error_clicks"], m["excessive_scroll"]) == (13, 6, 0)
    assert set(m) == set(METRIC_FIELDS)


def test_overall_sample_name_lists_are_ranked_rows():
    parsed = parse_insights(load("fpr-2026-08-24-overall.json"))
    lists = {}
    for item in parsed.ranked:
        lists.setdefault(item.list_name, []).append(item)
    assert set(lists) == {
        "browser",
        "device",
        "os",
        "country",
        "page_title",
        "referrer",
        "popular_page",
    }
    assert [(i.rank, i.name, i.count) for i in lists["device"]] == [
        (1, "Mobile", 288), (2, "PC", 230), (3, "Tablet", 13)
    ]  # fmt: skip
    assert lists["os"][0].count == 254  # this block used JSON integers
    referrers = lists["referrer"]
    assert referrers[1].name is None and referrers[1].count == 144  # direct traffic
    pages = lists["popular_page"]
    assert pages[0].name == "https://www.foreverpartyrentals.com/" and pages[0].count == 155
    assert all(len(v) <= 10 for v in lists.values())


def test_device_rows_sum_to_the_overall_sessions_and_keep_the_bot_only_row():
    rows = by_dim(
        parse_insights(load("fpr-2026-08-24-dim-Device.json"), resolve_dimensions(["Device"]))
    )
    assert sum(m["sessions"] for m in rows.values()) == 531
    assert rows[("Other",)]["sessions"] == 0 and rows[("Other",)]["bot_sessions"] == 56
    assert rows[("Other",)]["rage_clicks"] is None  # a Traffic-only row: no frustration block
    assert rows[("Mobile",)]["rage_clicks"] == 13  # integers in this block
    assert rows[("Mobile",)]["dead_clicks_sessions_pct"] == 15.62


def test_channel_slices_do_not_add_up_to_the_total():
    rows = by_dim(
        parse_insights(load("fpr-2026-08-24-dim-Channel.json"), resolve_dimensions(["Channel"]))
    )
    assert sum(m["sessions"] for m in rows.values()) == 739
    assert len(rows) == 7


def test_docs_spelling_is_accepted():
    rows = by_dim(
        parse_insights(load("learn-docs-example-dimension1-OS.json"), resolve_dimensions(["OS"]))
    )
    assert rows[("Android",)]["distinct_users"] == 212836
    assert rows[("Android",)]["pages_per_session"] == 2.2609


def url_body():
    return [
        {"metricName": "Traffic", "information": [
            {"totalSessionCount": "5", "totalBotSessionCount": 1, "distinctUserCount": "5",
             "pagesPerSessionPercentage": 2, "Url": "https://Shop.Example.com/Cart/?utm_source=x"},
            {"totalSessionCount": "3", "totalBotSessionCount": "0", "distinctUserCount": "3",
             "pagesPerSessionPercentage": 1.5, "Url": "https://shop.example.com/cart#top"},
            {"totalSessionCount": "2", "totalBotSessionCount": "0", "distinctUserCount": "2",
             "pagesPerSessionPercentage": 1, "Url": None},
            {"totalSessionCount": "1", "totalBotSessionCount": "0", "distinctUserCount": "1",
             "pagesPerSessionPercentage": 1, "Url": ""},
        ]},
        {"metricName": "rageclickcount", "information": [
            {"sessionsCount": "5", "sessionsWithMetricPercentage": 20,
             "sessionsWithoutMetricPercentage": 80, "pagesViews": "1", "subTotal": "4",
             "URL": "https://Shop.Example.com/Cart/?utm_source=x"},
        ]},
    ]  # fmt: skip


def test_url_key_is_matched_case_insensitively_and_normalised():
    parsed = parse_insights(url_body(), resolve_dimensions(["URL"]))
    rows = metric_rows(parsed, source_id=1, local_date=None, fetch_group="pages")
    by_raw = {r["url_raw"]: r for r in rows}
    cart = by_raw["https://Shop.Example.com/Cart/?utm_source=x"]
    assert cart["url"] == "https://shop.example.com/Cart"
    assert cart["rage_clicks"] == 4 and cart["sessions"] == 5
    assert by_raw["https://shop.example.com/cart#top"]["url"] == "https://shop.example.com/cart"
    # null and "" are different slices and both survive, with different hashes
    assert by_raw[None]["url"] is None and by_raw[""]["url"] == ""
    assert by_raw[None]["dimension_hash"] != by_raw[""]["dimension_hash"]
    assert len({r["dimension_hash"] for r in rows}) == 4


def test_unknown_blocks_are_ignored_and_logged(caplog):
    body = [{"metricName": "HeatmapMagic", "information": [{"x": 1}]},
            {"metricName": "Traffic", "information": [{"totalSessionCount": "7"}]}]  # fmt: skip
    with caplog.at_level(logging.INFO, logger="reports.clarity.parser"):
        parsed = parse_insights(body)
    assert parsed.unknown_blocks == ("HeatmapMagic",)
    assert parsed.rows[0].metrics["sessions"] == 7
    assert "HeatmapMagic" in caplog.text


def test_a_block_at_the_row_cap_is_flagged_possibly_truncated():
    rows = [{"totalSessionCount": str(i), "Url": f"https://x.com/{i}"} for i in range(1000)]
    parsed = parse_insights(
        [{"metricName": "Traffic", "information": rows}], resolve_dimensions(["URL"])
    )
    assert parsed.truncated_blocks == ("Traffic",)
    under = parse_insights(
        [{"metricName": "Traffic", "information": rows[:999]}], resolve_dimensions(["URL"])
    )
    assert under.truncated_blocks == ()


def test_a_silent_fallback_to_the_no_dimension_shape_is_an_error():
    with pytest.raises(ClarityDimensionMissing, match="URL"):
        parse_insights(load("fpr-2026-08-24-overall.json"), resolve_dimensions(["URL"]))


@pytest.mark.parametrize("body", [{}, {"error": "x"}, "text", 3, None, [1, 2], [{"foo": 1}]])
def test_bodies_that_are_not_metric_blocks_raise_a_shape_error(body):
    with pytest.raises(ClarityShapeError):
        parse_insights(body)


def test_an_empty_array_or_empty_blocks_mean_no_data_not_an_error():
    assert parse_insights([]).rows == ()
    empty = parse_insights(
        [{"metricName": "Traffic", "information": []}], resolve_dimensions(["URL"])
    )
    assert empty.rows == ()


def test_zero_traffic_blocks_parse_as_zeros_not_gaps():
    zero = {"totalSessionCount": "0", "totalBotSessionCount": 0, "distinctUserCount": "0",
            "pagesPerSessionPercentage": 0}  # fmt: skip
    body = [{"metricName": "Traffic", "information": [zero]}]
    (row,) = parse_insights(body).rows
    assert row.metrics["sessions"] == 0 and row.metrics["pages_per_session"] == 0.0
    assert row.metrics["rage_clicks"] is None  # absent block: unknown, not zero


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("531", 531), (531, 531), (" 12 ", 12), ("1,234", 1234), (7.0, 7), ("7.0", 7), ("", None),
     ("abc", None), (True, None), (-1, None), (float("nan"), None), (None, None), ([], None)],
)  # fmt: skip
def test_counts_are_coerced_from_strings_or_ints(raw, expected):
    assert to_count(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(81.03999999999999, 81.03999999999999), (0, 0.0), ("2.5", 2.5), (False, None),
     (float("inf"), None), ("x", None)],
)  # fmt: skip
def test_numbers_are_coerced(raw, expected):
    assert to_number(raw) == expected


def test_ranked_rows_normalise_referrer_and_page_urls():
    parsed = parse_insights(load("fpr-2026-08-24-overall.json"))
    rows = ranked_rows(parsed, source_id=1, local_date=None, fetch_group="overall")
    pages = [r for r in rows if r["list_name"] == "popular_page"]
    assert all(r["url"] and "?" not in r["url"] for r in pages)
    titles = [r for r in rows if r["list_name"] == "page_title"]
    assert all(r["url"] is None for r in titles)


def test_control_and_invisible_characters_are_stripped_and_text_is_bounded():
    hostile = "Sale\x00 <!channel>\u202e\u200b" + "x" * 10_000
    body = [
        {
            "metricName": "PopularPages",
            "information": [{"url": "https://shop.example.com/a\x00b", "visitsCount": "3"}],
        },
        {"metricName": "PageTitle", "information": [{"name": hostile, "sessionsCount": 2}]},
    ]
    rows = ranked_rows(parse_insights(body), source_id=1, local_date=None, fetch_group="overall")
    title = next(r for r in rows if r["list_name"] == "page_title")["name"]
    page = next(r for r in rows if r["list_name"] == "popular_page")
    assert title.startswith("Sale <!channel>x") and len(title) == 2048
    assert not any(ch in title for ch in "\x00\u202e\u200b")
    assert page["name"] == "https://shop.example.com/ab" == page["url"]
