"""The Edit form of an alert: its threshold and its window, checked before the form closes."""

from __future__ import annotations

from typing import Any, Final

from bot.slack.text import escape
from reports.alerts.rules import MAX_WINDOW_DAYS, check_threshold, check_window, describe
from reports.errors import UsageError
from reports.history.catalogue import get_metric
from store.models import AlertRule
from store.vocab import Condition

EDIT_VIEW: Final = "clarity_alert_edit"
UNITS: Final = {"percent": " (%)", "per100": " (per 100 sessions)", "seconds": " (seconds)"}


def edit_view(rule: AlertRule) -> dict[str, Any]:
    """A modal with the rule's threshold and window; the rule id rides in private_metadata."""
    relative = rule.condition in (Condition.CHANGE, Condition.ANOMALY)
    unit = " (%)" if relative else UNITS.get(get_metric(rule.metric).unit, "")
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Alert {rule.id}*: {escape(describe(rule, labels=True))}",
            },
        },
        _number(
            "threshold",
            f"{'Change' if relative else 'Threshold'}{unit}",
            f"{rule.threshold:g}",
            decimal=True,
        ),
    ]
    if rule.condition != Condition.ANOMALY:  # a same-weekday rule judges one day
        blocks.append(_number("window", "Window (days)", str(rule.window_days), decimal=False))
    return {
        "type": "modal",
        "callback_id": EDIT_VIEW,
        "private_metadata": str(rule.id),
        "title": {"type": "plain_text", "text": "Edit alert"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": blocks,
    }


def _number(block: str, label: str, initial: str, *, decimal: bool) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": decimal,
        "initial_value": initial,
    }
    if not decimal:
        element |= {"min_value": "1", "max_value": str(MAX_WINDOW_DAYS)}
    return {
        "type": "input",
        "block_id": block,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }


def _value(view: dict[str, Any], block: str) -> str | None:
    values = (view.get("state") or {}).get("values") or {}
    found = (values.get(block) or {}).get("value") or {}
    return None if found.get("value") is None else str(found["value"]).strip()


def read_form(view: dict[str, Any]) -> tuple[int, float, int | None]:
    """(rule id, threshold, window days or None to keep it) from a submitted form; UsageError
    when unusable (a change's sign is checked against its rule: `form_problem`)."""
    meta = str(view.get("private_metadata") or "")
    if not meta.isdigit() or len(meta) > 12:
        raise UsageError("That form is from an older message: `/clarity alert list`.")
    try:
        threshold = float(_value(view, "threshold") or "")
    except ValueError:
        raise UsageError("The threshold must be a number.") from None
    days = _value(view, "window")
    if days is not None and not days.isdigit():
        raise UsageError(f"The window is a number of days from 1 to {MAX_WINDOW_DAYS}.")
    return int(meta), threshold, int(days) if days is not None else None


def form_problem(view: dict[str, Any], condition: str | None) -> tuple[str, str] | None:
    """(block, message) for what is wrong with a submitted form, or None; `condition`: the
    rule's (None: the rule is not found, which saving says)."""
    try:
        _, threshold, days = read_form(view)
        if days is not None:
            check_window(days)
        check_threshold(condition or Condition.ABOVE, threshold)
    except UsageError as exc:
        block = "window" if "window" in str(exc) else "threshold"
        return block, str(exc)
    return None
