"""An alert says one number in its text, its chart and its email: the rule's own window value,
with the limit and the window drawn; a muted rule is judged but not told."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime, timedelta
from email import policy

from sqlmodel import Session, select

from reports.alerts.evaluate import AlertEvaluator, alert_needs
from reports.alerts.explain import explain
from reports.alerts.rules import add_rule, parse_rule
from reports.alerts.verdict import evaluate
from reports.delivery.compose import SUBJECT_MAX, fit_subject
from reports.delivery.email import build_message
from reports.history.load import load
from reports.render.charts import ChartMaker
from store.models import AlertEvent, AlertRule, Source
from tests.fakes.history import a_source, history
from tests.reports.test_alerts import Recorder

NOW = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
YESTERDAY = date(2026, 3, 19)
WEEK = YESTERDAY - timedelta(days=7)  # the last day before the rule's 7-day window


def rule_on(engine, text, *, sid=None, fn=None, days=40, end=YESTERDAY, **kw):
    sid = sid or a_source(engine, NOW - timedelta(days=90))
    history(engine, sid, end=end, days=days, fn=fn)
    spec = parse_rule(text.split())
    return add_rule(
        engine,
        spec,
        source_id=sid,
        workspace_id=None,
        kind="slack",
        destination="C1",
        now=NOW,
        **kw,
    )


def explained(engine, rule, now=NOW):
    metrics, days = alert_needs(rule)
    wide = load(engine, rule.source_id, metrics, days=days, now=now)
    return explain(rule, evaluate(wide, rule), wide)


def tick(engine, now=NOW):
    recorder = Recorder()
    senders = {"slack": recorder, "email": recorder}
    evaluator = AlertEvaluator(engine=engine, senders=senders, charts=ChartMaker())
    return evaluator.tick(now), recorder


def test_text_chart_and_mail_give_the_window_value_not_the_last_day(engine):
    # 30 rage clicks per 1,000 sessions for six days, then 70 on the last: the last day reads
    # 7.0 per 100, the window (180 + 70) / 7,000 sessions = 3.57 per 100.
    rule_on(
        engine,
        "rage_click_rate above 2% over 7d",
        fn=lambda d: {"rage": 70 if d == YESTERDAY else 30 if d > WEEK else 5},
    )
    counts, rec = tick(engine)
    (report,) = rec.reports
    facts = report.alert
    assert counts == {"fired": 1} and facts.value == "3.6"
    assert "is 3.6 over the last 7 days" in report.headline
    assert (facts.how, facts.limit) == ("rate over the last 7 days", "above 2.0")
    assert facts.window == "13 Mar – 19 Mar 2026 (7 days), UTC"
    alt = report.charts[0].alt_text
    assert "latest 7.0 on Thu 19 Mar" in alt  # the last day is still drawn, and said
    assert "Rule window 13 Mar to 19 Mar: 3.6 (rate over the last 7 days · limit above 2.0)" in alt


def test_a_total_is_drawn_as_a_days_worth_and_said_as_a_total(engine):
    rule = rule_on(engine, "sessions below 7100 over 7d")  # 1,000 sessions a day: 7,000
    told = explained(engine, rule)
    assert told.marks.headline == told.facts.value == "7k"
    assert told.marks.window.level == 1000 and told.marks.limit == 7100 / 7
    assert told.marks.window.label == "7k in 7 days = 1k a day"
    assert told.marks.caption == "total, last 7 days · limit below 7.1k in 7 days"
    assert (told.marks.window.first, told.marks.window.last) == (
        WEEK + timedelta(days=1),
        YESTERDAY,
    )


def test_a_page_rule_charts_the_page_and_marks_the_week_before(engine):
    def pages(day):
        dead = 20 if day > WEEK else 10
        return {
            "pages": {
                "https://shop.example/checkout": (100, dead),
                "https://shop.example/": (800, 40),
            }
        }

    rule = rule_on(
        engine, "dead_clicks up 50% vs previous week for /checkout", fn=pages, min_sessions=300
    )
    told = explained(engine, rule)
    values = [p.value for p in told.series.points]
    assert values[-7:] == [20.0] * 7 and values[-14:-7] == [10.0] * 7  # the page's, not the site's
    assert told.title == "Dead clicks on /checkout" and told.facts.value == "140"
    # 70 before, +50 % fires at 105: drawn as a day's worth (15), like the totals (20 and 10)
    assert told.marks.limit == 15 and told.marks.window.level == 20
    assert told.marks.before.level == 10 and told.marks.before.label == "before: 70 = 10 a day"
    assert told.facts.limit == "up 50 % on the 7 days before (70): fires at 105"
    assert told.facts.subject(28) == "Alert: Dead clicks on /checkout up 100 % (140), limit 50 %"


def test_a_same_weekday_rule_marks_the_day_and_the_level_that_fires(engine):
    rule = rule_on(
        engine,
        "sessions down 30% vs same weekday",
        fn=lambda d: {"sessions": 600 if d == YESTERDAY else 1000},
    )
    told = explained(engine, rule)
    assert (told.marks.window.first, told.marks.window.last) == (YESTERDAY, YESTERDAY)
    assert told.marks.limit == 700 and told.marks.limit_label == "fires at 700 (−30 %)"
    assert told.marks.caption == "on Thu 19 Mar · down 40 % vs the Thursday average"


def test_a_muted_rule_is_judged_but_not_told_until_the_mute_ends(engine):
    rule = rule_on(
        engine,
        "rage_click_rate above 2% over 7d",
        fn=lambda d: {"rage": 40},
        end=YESTERDAY + timedelta(days=1),
    )
    with Session(engine) as session:
        stored = session.get(AlertRule, rule.id)
        stored.muted_until = NOW + timedelta(hours=24)
        session.add(stored)
        session.commit()
    counts, rec = tick(engine)
    assert counts == {"fired": 1} and rec.reports == []
    counts, rec = tick(engine, NOW + timedelta(hours=24))  # the mute has just ended
    assert counts == {"fired": 1} and len(rec.reports) == 1
    with Session(engine) as session:
        told = [e.told for e in session.exec(select(AlertEvent).order_by(AlertEvent.local_date))]
        fresh = session.get(AlertRule, rule.id)
    assert told[0] == "not told: muted until 2026-03-21 06:00 UTC" and told[1] == "C1:100.0"
    assert fresh.state == "fired" and fresh.last_told_at == NOW + timedelta(hours=24)


def mail_of(report):
    msg = build_message(
        report, mail_from="bot@example.com", to="ann@example.com", now=NOW, unsubscribe_url=None
    )
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    return parsed, parsed.get_body(("plain",)).get_content()


def test_the_alert_mail_says_what_fired_with_a_short_subject_and_a_clarity_link(engine):
    sid = a_source(engine, NOW - timedelta(days=90))
    with Session(engine) as session:
        source = session.get(Source, sid)
        source.label = "The Extremely Long Name Of Our Marketing Website (Production EU)"
        source.clarity_project_id = "k2x9abc"
        session.add(source)
        session.commit()
    page = "/collections/summer-2026/very-long-product-handle-for-a-lamp"
    fn = lambda d: {"pages": {f"https://shop.example{page}": (400, 40 if d > WEEK else 10)}}  # noqa: E731
    rule = rule_on(engine, f"dead_clicks up 50% vs previous week for {page}", sid=sid, fn=fn)
    _, rec = tick(engine)
    msg, text = mail_of(rec.reports[0])
    subject = str(msg["Subject"])
    assert len(subject) <= SUBJECT_MAX and "…" in subject
    assert subject.startswith("Alert: Dead clicks on /coll…a-lamp")  # the path lost its middle
    assert "up 300 % (280), limit 50 % · The Extreme…" in subject  # what fired stays whole
    for said in (
        "Metric:     Dead clicks on " + page,
        "Value:      280 (total, last 7 days)",
        "Threshold:  up 50 % on the 7 days before (70): fires at 105",
        "Window:     13 Mar – 19 Mar 2026 (7 days), against 6 Mar – 12 Mar, UTC",
        "Project:    The Extremely Long Name Of Our Marketing Website (Production EU)",
        f"(alert {rule.id})",
        "In Clarity: https://clarity.microsoft.com/projects/view/k2x9abc/dashboard",
        f"Mute it for a day: claritybot alerts mute {rule.id}",
    ):
        assert said in text, said
    assert "unsubscribe" not in text  # an alert is stopped as an alert, not a subscription
    html = msg.get_body(("html",)).get_content()
    assert 'href="https://clarity.microsoft.com/projects/view/k2x9abc/dashboard"' in html
    assert "Threshold</td><td>up 50 % on the 7 days before (70): fires at 105" in html


def test_without_a_project_id_there_is_no_clarity_link(engine):
    rule_on(engine, "rage_click_rate above 2% over 7d", fn=lambda d: {"rage": 40})
    _, rec = tick(engine)
    msg, text = mail_of(rec.reports[0])
    assert "clarity.microsoft.com" not in text + msg.get_body(("html",)).get_content()
    assert str(msg["Subject"]) == "Alert: Rage clicks per 100 sessions 4.0, above 2.0 · Shop"


def test_subjects_fit_in_78_characters():
    label = "A" * 60
    fitted = fit_subject(
        "Alert: Sessions 6.3k, below 7k in 7 days", f" · {label}", project_last=True
    )
    assert len(fitted) == SUBJECT_MAX and fitted.startswith("Alert: Sessions 6.3k, below 7k")
    assert fitted.endswith("A…")  # the project's name gave way first
    digest = fit_subject("Daily report, Mon 9 Mar 2026 — " + "x" * 90, "Shop: ", project_last=False)
    assert (
        len(digest) == SUBJECT_MAX
        and digest.startswith("Shop: Daily report")
        and digest.endswith("…")
    )
    assert fit_subject("Short", " · Shop", project_last=True) == "Short · Shop"


def test_an_emailed_alert_chart_is_clear_and_a_slack_one_is_white(engine):
    from io import BytesIO

    from PIL import Image

    sid = a_source(engine, NOW - timedelta(days=90))
    text = "rage_click_rate above 2% over 7d"
    slack_rule = rule_on(engine, text, sid=sid, fn=lambda d: {"rage": 40})
    spec = parse_rule(text.split())
    mail = {"kind": "email", "destination": "ann@example.com", "now": NOW}
    add_rule(engine, spec, source_id=sid, workspace_id=None, **mail)
    _, rec = tick(engine)
    posted, mailed = sorted(rec.reports, key=lambda r: r.alert.rule_id != slack_rule.id)
    msg, _ = mail_of(mailed)
    (image,) = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    clear = Image.open(BytesIO(image.get_content()))
    white = Image.open(BytesIO(posted.charts[0].png)).convert("RGBA")
    assert clear.mode == "RGBA"
    right, bottom = clear.width - 1, clear.height - 1
    corners = [(0, 0), (right, 0), (0, bottom), (right, bottom)]
    assert [clear.getpixel(c)[3] for c in corners] == [0, 0, 0, 0]
    assert [white.getpixel(c) for c in corners] == [(255, 255, 255, 255)] * 4
    # Mostly see-through, and no white box (a label's ground) where a dark mail app shows its
    # own: text keeps to its thin halo, so no 15 × 15 px square is solid white.
    alpha = clear.getchannel("A").histogram()
    assert alpha[0] > 0.7 * clear.width * clear.height
    assert white_squares(clear, 15) == 0


def white_squares(image, side):
    """How many `side` × `side` squares of a picture are all (near) white and not see-through."""
    import numpy

    rgba = numpy.asarray(image.convert("RGBA")).astype(int)
    white = ((rgba[..., :3].min(axis=2) > 230) & (rgba[..., 3] > 200)).astype(int)
    total = white.cumsum(0).cumsum(1)  # summed-area table: any square's count in four reads
    total = numpy.pad(total, ((1, 0), (1, 0)))
    n = side
    inside = total[n:, n:] - total[:-n, n:] - total[n:, :-n] + total[:-n, :-n]
    return int((inside == side * side).sum())
