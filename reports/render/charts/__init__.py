"""PURE: PNG charts from a History: daily lines, ranked bars and a digest of key metrics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

from reports.history.catalogue import Metric, get_metric
from reports.history.load import History
from reports.history.query import Series
from reports.render.charts.bar import BarRenderer
from reports.render.charts.digest import DIGEST_METRICS, DigestRenderer
from reports.render.charts.line import LineRenderer
from reports.render.charts.marks import AlertMarks
from reports.render.charts.style import Chart, KeyNumber

__all__ = ["DIGEST_METRICS", "LEAD_DAYS", "Chart", "ChartMaker", "KeyNumber", "chart_days"]


LEAD_DAYS: Final = 7  # a line reads a week more than it shows (its 7-day average, its change)


def chart_days(metric: Metric, days: int) -> int:
    """How many days of history a chart of `days` days reads."""
    return days if metric.is_breakdown else days + LEAD_DAYS


class ChartMaker:
    """Builds charts from a History; keep one per process (its figures are reused)."""

    def __init__(self) -> None:
        self._line: LineRenderer | None = None
        self._bar: BarRenderer | None = None
        self._digest: DigestRenderer | None = None

    def metric_chart(
        self,
        history: History,
        *,
        metric: Metric,
        days: int,
        source_label: str = "",
        key: KeyNumber | None = None,
        clear: bool = False,
    ) -> Chart:
        """Render a metric: a ranked bar chart for breakdowns, a daily line for the rest.

        `key`: the report's own figure for a line (a week's); `clear`: no background (email).
        """
        if metric.is_breakdown:
            self._bar = self._bar or BarRenderer()
            result = history.breakdown(metric, days, top_n=10)
            return self._bar.render(result, source_label=source_label, clear=clear)
        self._line = self._line or LineRenderer()
        # A week more than shown: the average starts on day one, the change has its weekday.
        data = history.series(metric, chart_days(metric, days))
        return self._line.render(
            data,
            visible=days,
            source_label=source_label,
            first_day=history.first_day,
            key=key,
            clear=clear,
        )

    def digest_chart(
        self,
        history: History,
        *,
        days: int,
        title: str,
        keys: Sequence[KeyNumber] | None = None,
        figures: str = "",
    ) -> Chart:
        """Render the small-multiples digest of the key metrics (`keys`: their report's own
        figures, in DIGEST_METRICS order; `figures` says what those cover)."""
        self._digest = self._digest or DigestRenderer()
        first = history.first_day
        data = [history.series(get_metric(k), days).since(first) for k in DIGEST_METRICS]
        shown = data[0].points
        # One short line at 11 pt: the days the lines draw, or what the big figures cover.
        dates = f"daily, {shown[0].day:%-d %b} – {shown[-1].day:%-d %b %Y}"
        subtitle = f"figures: {figures}" if figures else dates
        return self._digest.render(data, title=title, keys=keys, subtitle=subtitle)

    def alert_chart(
        self,
        series: Series,
        *,
        days: int,
        marks: AlertMarks,
        title: str,
        source_label: str = "",
        first_day: date | None = None,
        clear: bool = False,
    ) -> Chart:
        """Render an alert: the daily line with the rule's window, its value there and the limit
        (`clear`: no background, for email)."""
        self._line = self._line or LineRenderer()
        return self._line.render(
            series,
            visible=days,
            title=title,
            source_label=source_label,
            first_day=first_day,
            marks=marks,
            clear=clear,
        )
