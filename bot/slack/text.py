"""Slack text: escaping what websites wrote, and the help text."""

from __future__ import annotations

from typing import Final

# Slack's three control characters. Escaping them turns `<!channel>` or `<https://evil|click>`
# from a page title into plain text instead of a mention or a disguised link.
_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str | None) -> str:
    """Escape untrusted text (page titles, URLs, labels) for mrkdwn and plain_text fields."""
    return (text or "").translate(_ESCAPES)


HELP: Final = """*claritybot* keeps a daily history of your Microsoft Clarity data.
• `/clarity connect` — connect a Clarity project (a form), or `/clarity connect <token> [label]`
• `/clarity status` — your projects, their health, today's Clarity calls and the next snapshot
• `/clarity metrics` — what can be charted
• `/clarity chart <metric> [7|30|90] [project]` — a chart from stored history (no Clarity call)
• `/clarity subscribe` — a scheduled report (a form), or
  `/clarity subscribe <metric>[,<metric>] [daily|weekly|monthly] [#channel | email] [HH:MM]`
• `/clarity unsubscribe [id]` — list subscriptions with Stop buttons, or stop one
• `/clarity alert add <metric> <condition> [over Nd] [for <url>]` — e.g. `rage_click_rate above
  2% over 7d`, `dead_clicks up 50% vs previous week for /checkout`, `sessions down 30% vs same
  weekday`; `/clarity alert list`, `/clarity alert remove <id>`
• `/clarity refresh [project]` — a live look at the last 24 hours (one Clarity call; refused when
  tonight's snapshot needs it)
• `/clarity timezone [Area/City]` — show or set this workspace's timezone (snapshots follow it)
• `/clarity disconnect <project>` — stop a project and forget its token (history is kept)
• `/clarity help` — this message"""


def usage(problem: str) -> str:
    """Return a short error followed by the help text."""
    return f"{problem}\n\n{HELP}"
