"""PNG charts from stored history: daily lines, ranked bars and a digest of key metrics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from reports.history.breakdowns import breakdown
from reports.history.catalogue import Metric, get_metric
from reports.history.query import series
from reports.render.charts.bar import BarRenderer
from reports.render.charts.digest import DIGEST_METRICS, DigestRenderer
from reports.render.charts.line import LineRenderer
from reports.render.charts.style import Chart

__all__ = ["Chart", "ChartMaker", "DIGEST_METRICS"]


class ChartMaker:
    """Builds charts for a source; keep one per process (its figures are reused)."""

    def __init__(self) -> None:
        self._line: LineRenderer | None = None
        self._bar: BarRenderer | None = None
        self._digest: DigestRenderer | None = None

    def metric_chart(
        self,
        engine: Engine,
        *,
        source_id: int,
        metric: Metric,
        days: int,
        now: datetime,
        source_label: str = "",
    ) -> Chart:
        """Render a metric: a ranked bar chart for breakdowns, a daily line for the rest."""
        if metric.is_breakdown:
            self._bar = self._bar or BarRenderer()
            result = breakdown(
                engine, source_id=source_id, metric=metric, days=days, top_n=10, now=now
            )
            return self._bar.render(result, source_label=source_label)
        self._line = self._line or LineRenderer()
        # A week more than shown: the average starts on day one, the change has its weekday.
        data = series(engine, source_id=source_id, metric=metric, days=days + 7, now=now)
        return self._line.render(data, visible=days, source_label=source_label)

    def digest_chart(
        self, engine: Engine, *, source_id: int, days: int, now: datetime, title: str
    ) -> Chart:
        """Render the small-multiples digest of the key metrics."""
        self._digest = self._digest or DigestRenderer()
        data = [
            series(engine, source_id=source_id, metric=get_metric(k), days=days, now=now)
            for k in DIGEST_METRICS
        ]
        return self._digest.render(data, title=title)
