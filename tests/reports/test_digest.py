"""The digest as composed and mailed: week with week, one headline, a scale, bullets, a link.

Expected numbers are literal arithmetic on the nights stored here, not the project's functions.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session

from reports.delivery.cadence import Occurrence
from reports.delivery.compose import Report
from reports.delivery.dispatch import Dispatcher
from reports.delivery.email import build_message
from reports.render.charts import ChartMaker
from store.models import Source, Subscription
from tests.fakes.history import a_source, store_day

DUE = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)  # a Monday: the week reported ends Sun 22 Mar
YESTERDAY = date(2026, 3, 22)
HEAVY = date(2026, 3, 20)  # one busy day in the week reported, with many frustrated sessions
GAP = date(2026, 3, 18)
PROJECT = "k3f9x2ab1c"
DASHBOARD = f"https://clarity.microsoft.com/projects/view/{PROJECT}/dashboard"
CHARTS = ChartMaker()


def night(day: date) -> dict[str, object]:
    """This week: 1,000 sessions a night (3,000 on HEAVY); the week before 800; earlier 900."""
    back = (YESTERDAY - day).days
    if back < 7:
        heavy = day == HEAVY
        return {
            "sessions": 3000 if heavy else 1000,
            "distinct_users": 1200 if heavy else 500,
            "rage_clicks_sessions_pct": 9.0 if heavy else 2.0,
        }
    if back < 14:
        return {"sessions": 800, "distinct_users": 400, "rage_clicks_sessions_pct": 1.5}
    return {"sessions": 900, "distinct_users": 450, "rage_clicks_sessions_pct": 1.0}


def seeded(engine, *, project: str | None = PROJECT, skip: date | None = None) -> int:
    sid = a_source(engine, DUE - timedelta(days=90))
    for back in range(40):
        day = YESTERDAY - timedelta(days=back)
        if day != skip:
            store_day(engine, sid, day, **night(day))
    with Session(engine) as session:
        source = session.get(Source, sid)
        assert source is not None
        source.clarity_project_id = project  # as `sources set-project-id` leaves it
        session.add(source)
        session.commit()
    return sid


def composed(engine, sid: int, frequency: str, kind: str = "email") -> Report:
    sub = Subscription(
        id=1,
        workspace_id=1,
        source_id=sid,
        frequency=frequency,
        summary=True,
        metrics=["digest", "sessions", "distinct_users"],
        destination_kind=kind,
        destination="ann@example.com",
    )
    dispatcher = Dispatcher(engine=engine, senders={}, owner="A", charts=CHARTS)
    return dispatcher.build(sub, Occurrence("p", DUE.date(), DUE), None)


def mail(report: Report):
    return build_message(
        report, mail_from="r@example.com", to="ann@example.com", now=DUE, unsubscribe_url=None
    )


def tile(report: Report, key: str):
    return next(t for t in report.tiles if t.key == key)


def test_a_weekly_report_compares_its_week_with_the_week_before(engine):
    report = composed(engine, seeded(engine), "weekly")
    sessions, before = 6 * 1000 + 3000, 7 * 800
    assert report.period_label == "7 days to Sun 22 Mar 2026"
    growth = round(100 * (sessions - before) / before)  # 61
    assert report.headline == f"Sessions: 9k (▲ {growth} % vs the week before)"
    assert report.subject.endswith(report.headline)
    # A share of sessions is weighted by sessions over the week, never a mean of the days.
    weighted = (6 * 1000 * 2.0 + 3000 * 9.0) / sessions
    rage = tile(report, "sessions_with_rage_clicks")
    assert rage.value == f"{weighted:.1f} %" != f"{(6 * 2.0 + 9.0) / 7:.1f} %"
    assert rage.change == f"▲ {weighted - 1.5:.1f} pp vs the week before"
    # Distinct users are never summed: a week is their average per day.
    users = next(c for c in report.charts if c.key == "distinct_users")
    per_day = (6 * 500 + 1200) / 7
    assert users.line == f"Distinct users: {per_day:.0f} a day (▲ 50 % vs the week before)"
    # The chart says what the words say, and what it covers.
    chart = next(c for c in report.charts if c.key == "sessions")
    assert f"Shown: 9k in the last 7 days · ▲ {growth} % vs the week before." in chart.alt_text
    digest = next(c for c in report.charts if c.key == "digest")
    assert f"Sessions (last 7 days) 9k (▲ {growth} % vs the week before)" in digest.alt_text


def test_a_week_with_a_day_missing_is_not_compared_as_if_the_day_were_zero(engine):
    report = composed(engine, seeded(engine, skip=GAP), "weekly")
    assert report.headline == "Sessions: 8k over 6 of 7 days"  # 9,000 less GAP's 1,000
    assert tile(report, "sessions").change == "no two full weeks to compare"
    # An average compares over the days it has.
    assert tile(report, "sessions_with_rage_clicks").change.endswith("pp vs the week before")


def test_a_daily_report_compares_its_day_with_the_same_weekday_a_week_before(engine):
    report = composed(engine, seeded(engine), "daily")
    assert report.period_label == "Sun 22 Mar 2026"
    assert report.headline == "Sessions: 1k (▲ 25 % vs Sun 15 Mar)"  # 1,000 against 800
    rage = tile(report, "sessions_with_rage_clicks")
    assert (rage.value, rage.change) == ("2.0 %", "▲ 0.5 pp vs Sun 15 Mar")  # points, not %
    # Each tile states the figure and change the words do, with its 14 days' scale.
    assert (tile(report, "sessions").low, tile(report, "sessions").high) == ("800", "3k")


def test_the_email_has_one_headline_a_link_bullets_and_a_footer(engine):
    report = composed(engine, seeded(engine), "weekly")
    msg = mail(report)
    page = msg.get_body(preferencelist=("html",)).get_content()
    body = html.unescape(page.split("<body", 1)[1])
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert body.count(report.headline) == 1 and text.count(report.headline) == 1
    assert f'href="{DASHBOARD}"' in page and "Open in Clarity" in body
    assert f"Open in Clarity: {DASHBOARD}\n" in text
    # The summary as short lines: each metric's first sentence, the rest under it.
    assert "\n* Sessions: 1k on Sun 22 Mar, up 25 % on the Sunday before.\n" in text
    assert "\n    - Over the last 7 days: 9k, up 61 % on the 7 days before.\n" in text
    assert body.count("<ul") >= 3 and "<li" in body
    why = "You get this because subscription 1 sends weekly reports of Shop"
    for words in (why, "claritybot unsubscribe 1", "/clarity unsubscribe 1"):
        assert words in body and words in text


@pytest.mark.parametrize("stored", [None, "../x?y=<b>", "a b"])
def test_no_link_without_an_id_shaped_project_id(engine, stored):
    report = composed(engine, seeded(engine, project=stored), "daily")
    assert report.clarity_url == "" and "clarity.microsoft.com" not in mail(report).as_string()


def test_an_emailed_chart_has_no_background_and_a_slack_one_is_white(engine):
    from io import BytesIO

    from PIL import Image

    sid = seeded(engine)
    mailed = next(c for c in composed(engine, sid, "daily").charts if c.key == "sessions")
    posted = next(c for c in composed(engine, sid, "daily", "slack").charts if c.key == "sessions")
    clear = Image.open(BytesIO(mailed.png)).convert("RGBA")
    white = Image.open(BytesIO(posted.png)).convert("RGBA")
    assert clear.getpixel((5, 5))[3] == 0 and white.getpixel((5, 5)) == (255, 255, 255, 255)
    # Most of an emailed chart is see-through: a dark mail app shows its own ground there.
    alpha = clear.getchannel("A").histogram()
    assert alpha[0] > 0.8 * clear.width * clear.height
