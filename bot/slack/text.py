"""Slack text: escaping what websites wrote, and the help text."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from reports.textfmt import visible
from reports.timezones import parse_timezone

# Slack's three control characters. Escaping them turns `<!channel>` or `<https://evil|click>`
# from a page title into plain text instead of a mention or a disguised link. mrkdwn has no
# escape for `*b*`, `~s~` or backticks, so those become look-alikes that format nothing.
_ESCAPES: Final = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "*": "\u2217", "~": "\u223c", "`": "\u02cb"}
)
# `_i_` is italic only where an underscore touches a word's edge; `summer_sale` stays as is.
_EDGE_UNDERSCORE: Final = re.compile(r"(?<!\w)_|_(?!\w)")


def escape(text: str | None) -> str:
    """The one escape for untrusted text (titles, URLs, labels) in any Slack field.

    Mentions, links and formatting become plain text; bidi and zero-width characters go.
    """
    return _EDGE_UNDERSCORE.sub("\u02cd", visible(text).translate(_ESCAPES))


def local_time(when: datetime, timezone: str) -> str:
    """A time Slack shows in each reader's own timezone; the workspace's where it cannot."""
    fallback = f"{when.astimezone(parse_timezone(timezone)):%a %-d %b %H:%M} ({timezone})"
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


HELP: Final = """*claritybot* keeps a daily history of your Microsoft Clarity data.
• `/clarity connect` — connect a Clarity project (a form), or `/clarity connect <token> [label]`
• `/clarity status` — your projects, their health, today's Clarity calls and the next snapshot
• `/clarity metrics` — what can be charted
• `/clarity chart <metric> [7|30|90] [project]` — a chart from stored history (no Clarity call);
  `/clarity chart digest [30|90] [project]` — the digest report, as a subscription sends it
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
