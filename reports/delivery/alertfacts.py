"""What fired, in plain words each channel can say: an alert's metric, value, limit and window.

PURE. Built by `reports.alerts.explain` from the same numbers as the alert's text and chart; the
channels (Slack, HTML, text mail) escape these strings their own way.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.render.charts.style import shorten


@dataclass(frozen=True)
class AlertFacts:
    """The parts of an alert that fired."""

    rule_id: int
    label: str  # the metric: "Dead clicks"
    page: str | None  # the page a rule watches: "/checkout"; None for the whole site
    value: str  # "1.8 %", as the alert text and the chart's headline say it
    how: str  # which number it is: "session-weighted, last 7 days"
    limit: str  # "above 1.0 %", "up 50 % on the 7 days before (70): fires at 105"
    window: str  # "23 Nov – 29 Nov 2026 (Europe/London)"
    project: str
    rule: str  # the rule as typed back: "sessions_with_rage_clicks above 1 % over 7d"
    said: str  # value and limit in a few words: "1.8 %, above 1.0 %"
    clarity_url: str | None = None  # the project's dashboard, when its Clarity id is known

    @property
    def metric(self) -> str:
        """The metric, and the page it is watched on."""
        return self.label + (f" on {self.page}" if self.page else "")

    def subject(self, page_chars: int) -> str:
        """The alert in a few words, its page path at most `page_chars` long."""
        page = f" on {shorten(self.page, page_chars, middle=True)}" if self.page else ""
        return f"Alert: {self.label}{page} {self.said}"
