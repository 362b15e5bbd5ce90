"""Scheduled reports into Slack: one message per report, its charts shown by image blocks."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from bot.slack.alert_buttons import alert_buttons
from bot.slack.chartmsg import CHART_DAYS, ChartRequest, buttons
from bot.slack.clients import WorkspaceClients
from bot.slack.posting import FIXES, ChartPost, Figure, Pacer, Poster, SlackPostError
from bot.slack.text import escape
from reports.delivery.cadence import WINDOW_DAYS
from reports.delivery.compose import Report
from reports.delivery.subscriptions import DIGEST
from reports.errors import DeliveryError
from reports.render.charts import Chart
from store.models import Subscription

# Slack errors worth another try later; every other one needs a person (see posting.FIXES).
TRANSIENT: Final = frozenset(
    "ratelimited internal_error fatal_error service_unavailable request_timeout".split()
)


def report_post(report: Report, sub: Subscription) -> ChartPost:
    """The message of one report (text escaped for mrkdwn: labels come from people)."""
    head = (
        f"*{escape(report.source_label)}* · {escape(report.title)} · "
        f"{escape(report.period_label)}\n"
        f"{escape(report.headline)}"
    )
    if report.clarity_url:  # built from a checked, URL-encoded id: nothing to escape in it
        head += f"\n<{report.clarity_url}|Open in Clarity>"
    notes = "".join(f"\n> {escape(n)}" for n in report.notes)
    # The summary as short lines; website labels may be in it: escaped like everything else.
    for point in report.summary_points:
        notes += f"\n• {escape(point.text)}"
        notes += "".join(f"\n    ◦ {escape(d)}" for d in point.details)
    figures = tuple(
        Figure(Chart(c.png, c.alt_text), c.title, escape(c.line)) for c in report.charts
    )
    if report.alert is not None:  # Mute, Edit, Remove; and the project in Clarity, when known
        link = report.alert.clarity_url
        head += f"\n<{link}|Open {escape(report.source_label)} in Clarity>" if link else ""
        return ChartPost(figures, head + notes, alert_buttons(report.alert.rule_id))
    days = WINDOW_DAYS[sub.frequency]
    single = [k for k in sub.metrics if k != DIGEST]
    wanted = (
        buttons(ChartRequest(sub.source_id, single[0], days))
        if (len(report.charts) == 1 and single and days in CHART_DAYS)
        else []
    )
    return ChartPost(figures, head + notes, wanted)


class SlackSender:
    """The Slack destination of the delivery dispatcher."""

    def __init__(self, clients: WorkspaceClients, *, pacer: Pacer | None = None) -> None:
        self.clients, self.pacer = clients, pacer or Pacer()

    def deliver(
        self, report: Report, sub: Subscription, now: datetime, unsubscribe_url: str | None
    ) -> str:
        """Post the report; return `channel:ts`. DeliveryError says whether a retry can help."""
        client = self.clients.for_workspace(sub.workspace_id)
        if client is None:
            raise DeliveryError(
                "claritybot is not installed in this Slack workspace any more: "
                "reinstall it, then subscribe again.",
                transient=False,
            )
        try:
            posted = Poster(client, pacer=self.pacer).post(
                sub.destination, report_post(report, sub), thread_ts=report.thread or None
            )
        except SlackPostError as exc:
            # Errors only a person can fix are final; anything else may pass: try again later.
            transient = exc.kind in TRANSIENT or exc.kind not in FIXES
            raise DeliveryError(str(exc), transient=transient) from None
        except Exception as exc:  # connection refused, timeouts: Slack or the network is down
            raise DeliveryError(
                f"Slack could not be reached ({type(exc).__name__}).", transient=True
            ) from None
        return f"{posted.channel}:{posted.ts or posted.file_id or ''}"

    def check(self, sub: Subscription, period: str) -> bool | None:
        """None: whether a post begun by a process that died arrived cannot be told from here."""
        return None
