"""The buttons under an alert in Slack: Mute 24 h (or Unmute), Edit and Remove.

Apart from `alert_actions` (what pressing them does) so that the worker, which only posts
alerts, need not load the Slack app's listeners: those import the commands, which import the
delivery that posts these buttons.
"""

from __future__ import annotations

import re
from typing import Any, Final

MUTE, UNMUTE, EDIT, REMOVE = "alert_mute", "alert_unmute", "alert_edit", "alert_remove"
ACTIONS: Final = re.compile(r"^alert_(mute|unmute|edit|remove)$")


def alert_buttons(rule_id: int, *, muted: bool = False) -> list[dict[str, Any]]:
    """Mute 24 h (or Unmute), Edit, and Remove behind a confirm dialog."""
    value = str(rule_id)
    first = _button("Unmute", UNMUTE, value) if muted else _button("Mute 24 h", MUTE, value)
    remove = _button("Remove", REMOVE, value) | {"style": "danger"}
    remove["confirm"] = {
        "title": {"type": "plain_text", "text": "Remove this alert?"},
        "text": {"type": "plain_text", "text": "It stops being checked; its history is kept."},
        "confirm": {"type": "plain_text", "text": "Remove"},
        "deny": {"type": "plain_text", "text": "Keep it"},
        "style": "danger",
    }
    return [first, _button("Edit", EDIT, value), remove]


def _button(text: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": text},
    }
