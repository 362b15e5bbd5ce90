"""Chart messages in Slack: what a chart says, its 7/30/90/by-device buttons, and redraws."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from bot.slack.posting import ChartPost, Figure
from bot.slack.services import SlackServices
from bot.slack.text import escape
from reports.errors import UsageError
from reports.history.catalogue import by_device, get_metric
from reports.history.load import load
from reports.history.query import Series
from reports.render.charts import chart_days
from reports.render.charts.line import week_text
from reports.render.charts.style import format_value
from store.models import Source

CHART_DAYS: Final = (7, 30, 90)
VIEWS: Final = ("daily", "device")
STALE_BUTTON: Final = "That button is from an older message: run `/clarity chart` again."
ACTION_PATTERN: Final = re.compile(r"^chart_(7|30|90|device|daily)$")


@dataclass(frozen=True)
class ChartRequest:
    """Which chart a message shows; travels in its buttons' values (no secrets in it)."""

    source_id: int
    metric: str
    days: int = 30
    view: str = "daily"

    def value(self) -> str:
        """Encode for a button value (Slack allows 2,000 characters)."""
        return json.dumps(
            {"s": self.source_id, "m": self.metric, "d": self.days, "v": self.view},
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, value: str) -> ChartRequest:
        """Decode a button value; anything malformed is a UsageError, never a crash."""
        try:
            data = json.loads(value)
            request = cls(int(data["s"]), str(data["m"]), int(data["d"]), str(data["v"]))
        except (ValueError, KeyError, TypeError):
            raise UsageError(STALE_BUTTON) from None
        if request.days not in CHART_DAYS or request.view not in VIEWS:
            raise UsageError(STALE_BUTTON)
        return request

    def with_action(self, action_id: str) -> ChartRequest:
        """Return the request a button asks for (`chart_30`, `chart_device`…)."""
        match = ACTION_PATTERN.match(action_id)
        if match is None:
            raise UsageError("I don't know that button.")
        what = match.group(1)
        if what in VIEWS:
            return ChartRequest(self.source_id, self.metric, self.days, what)
        return ChartRequest(self.source_id, self.metric, int(what), self.view)


def buttons(request: ChartRequest) -> list[dict[str, Any]]:
    """The buttons under a chart: the periods, and by device / daily for daily metrics."""
    out = [
        _button(f"{d} days", f"chart_{d}", request, current=d == request.days) for d in CHART_DAYS
    ]
    if not get_metric(request.metric).is_breakdown:
        other = "daily" if request.view == "device" else "device"
        out.append(_button("Daily" if other == "daily" else "By device", f"chart_{other}", request))
    return out


def _button(
    text: str, action_id: str, request: ChartRequest, current: bool = False
) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "value": request.value(),
        "text": {"type": "plain_text", "text": text},
    }
    if current:
        button["style"] = "primary"
    return button


def render(services: SlackServices, source: Source, request: ChartRequest) -> ChartPost:
    """Draw the chart from stored history (never a Clarity call) with its text and buttons."""
    metric, now = get_metric(request.metric), services.clock()
    shown = by_device(metric) if request.view == "device" else metric
    days = chart_days(shown, request.days)
    history = load(services.engine, source.id or 0, [shown], days=days, now=now)
    drawn = services.charts.metric_chart(
        history, metric=shown, days=request.days, source_label=source.label
    )
    comment = f"*{escape(shown.label)}* · {escape(source.label)} · last {request.days} days"
    if not shown.is_breakdown:
        comment += summary_line(history.series(metric, days))
    return ChartPost((Figure(drawn, shown.label),), comment, buttons(request))


def summary_line(data: Series) -> str:
    """The latest value and its change against the same weekday a week before."""
    latest = data.latest()
    if latest is None:
        return "\nNo data yet: the first snapshot is taken after midnight."
    change = week_text(data)  # the chart's own words: points for a percentage
    value = format_value(latest.value, data.metric.unit)
    return f"\nLatest: *{value}*{f' ({change})' if change else ''}."
