"""PURE: PNG charts from a History: daily lines, ranked bars and a digest of key metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Final, Protocol

from reports.history.catalogue import Metric, get_metric
from reports.history.values import Series
from reports.render.charts.bar import BarRenderer
from reports.render.charts.digest import DIGEST_METRICS, DigestRenderer
from reports.render.charts.line import LineRenderer
from reports.render.charts.marks import AlertMarks
from reports.render.charts.style import Chart, KeyNumber

if TYPE_CHECKING:  # History's module reads the database: a chart worker never needs it
    from reports.history.load import History
    from reports.render.pool import RenderPool

__all__ = ["DIGEST_METRICS", "LEAD_DAYS", "Chart", "ChartMaker", "KeyNumber", "chart_days"]


LEAD_DAYS: Final = 7  # a line reads a week more than it shows (its 7-day average, its change)


class Renderer(Protocol):
    """What every renderer does: values in, a PNG out (each takes its own options)."""

    @property
    def render(self) -> Callable[..., Chart]: ...


RENDERERS: Final[dict[str, type[Renderer]]] = {
    "line": LineRenderer,
    "bar": BarRenderer,
    "digest": DigestRenderer,
}


def chart_days(metric: Metric, days: int) -> int:
    """How many days of history a chart of `days` days reads."""
    return days if metric.is_breakdown else days + LEAD_DAYS


class ChartMaker:
    """Builds charts from a History; keep one per process (its figures are reused).

    With a `pool`, the values are read here and drawn in the pool's worker processes.
    """

    def __init__(self, pool: RenderPool | None = None) -> None:
        self._pool = pool
        self._renderers: dict[str, Renderer] = {}

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
            result = history.breakdown(metric, days, top_n=10)
            return self.draw("bar", result, source_label=source_label, clear=clear)
        # A week more than shown: the average starts on day one, the change has its weekday.
        data = history.series(metric, chart_days(metric, days))
        return self.draw(
            "line",
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
        first = history.first_day
        data = [history.series(get_metric(k), days).since(first) for k in DIGEST_METRICS]
        shown = data[0].points
        # One short line at 11 pt: the days the lines draw, or what the big figures cover.
        dates = f"daily, {shown[0].day:%-d %b} – {shown[-1].day:%-d %b %Y}"
        subtitle = f"figures: {figures}" if figures else dates
        return self.draw("digest", data, title=title, keys=keys, subtitle=subtitle)

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
        return self.draw(
            "line",
            series,
            visible=days,
            title=title,
            source_label=source_label,
            first_day=first_day,
            marks=marks,
            clear=clear,
        )

    def draw(self, kind: str, data: Any, **options: Any) -> Chart:
        """Render values with the `kind` renderer (see RENDERERS), here or in the pool."""
        if self._pool is not None:
            return self._pool.draw(kind, data, **options)
        return self._renderer(kind).render(data, **options)

    def prepare(self, *kinds: str) -> None:
        """Build these renderers (and their figures) now, not on their first chart."""
        for kind in kinds:
            self._renderer(kind)

    def _renderer(self, kind: str) -> Renderer:
        found = self._renderers.get(kind)
        return found or self._renderers.setdefault(kind, RENDERERS[kind]())

    def close(self) -> None:
        """Stop the pool's workers, if any."""
        if self._pool is not None:
            self._pool.close()
