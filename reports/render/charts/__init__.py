"""PURE: PNG charts from a History: daily lines, ranked bars and a digest of key metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from reports.history.catalogue import Metric, get_metric
from reports.history.load import History
from reports.render.charts.bar import BarRenderer
from reports.render.charts.digest import DIGEST_METRICS, DigestRenderer
from reports.render.charts.line import LineRenderer
from reports.render.charts.style import Chart

if TYPE_CHECKING:
    from reports.render.pool import RenderPool

__all__ = ["DIGEST_METRICS", "LEAD_DAYS", "Chart", "ChartMaker", "chart_days"]


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
        self, history: History, *, metric: Metric, days: int, source_label: str = ""
    ) -> Chart:
        """Render a metric: a ranked bar chart for breakdowns, a daily line for the rest."""
        if metric.is_breakdown:
            result = history.breakdown(metric, days, top_n=10)
            return self.draw("bar", result, source_label=source_label)
        # A week more than shown: the average starts on day one, the change has its weekday.
        data = history.series(metric, chart_days(metric, days))
        return self.draw(
            "line", data, visible=days, source_label=source_label, first_day=history.first_day
        )

    def digest_chart(self, history: History, *, days: int, title: str) -> Chart:
        """Render the small-multiples digest of the key metrics."""
        first = history.first_day
        data = [history.series(get_metric(k), days).since(first) for k in DIGEST_METRICS]
        return self.draw("digest", data, title=title)

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
