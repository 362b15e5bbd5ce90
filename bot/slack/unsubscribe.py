"""`/unsubscribe`: the signed one-click link in every email digest (RFC 8058), served over HTTP.

GET shows a page with a button (mail scanners fetch links; they must not unsubscribe anyone);
POST stops the subscription — the mail client's one-click, or that button. Idempotent.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final
from urllib.parse import parse_qs

from sqlalchemy import Engine

from bot.slack.calls import database_down
from reports.delivery.email import Links
from reports.delivery.subscriptions import unsubscribe
from reports.errors import UsageError

log = logging.getLogger(__name__)
_ID: Final = re.compile(r"[0-9]{1,18}")  # ASCII digits only; a 64-bit id at most
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>claritybot</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;max-width:32em;margin:3em auto;padding:0 1em">
{body}</body></html>"""


class Unsubscribe:
    """The WSGI handler of unsubscribe links."""

    def __init__(self, *, engine: Engine, links: Links, clock: Callable[[], datetime]) -> None:
        self.engine, self.links, self.clock = engine, links, clock

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        sub_id, signature = (query.get("s") or [""])[0], (query.get("t") or [""])[0]
        # "²".isdigit() is True and int() refuses 5,000 digits: only a plain, short number.
        if not _ID.fullmatch(sub_id) or not self.links.verify(int(sub_id), signature):
            return _page(
                start_response,
                "403 Forbidden",
                "<p>This unsubscribe link is not valid. Use the link in the latest "
                "email, or ask whoever set the report up.</p>",
            )
        if environ.get("REQUEST_METHOD") != "POST":
            action = html.escape(f"/unsubscribe?s={sub_id}&t={signature}")
            form = (
                f'<p>Stop this claritybot report?</p><form method="post" action="{action}">'
                '<button type="submit">Unsubscribe</button></form>'
            )
            return _page(start_response, "200 OK", form)
        try:
            unsubscribe(self.engine, int(sub_id), workspace_id=None, now=self.clock())
        except UsageError:
            pass  # already gone: unsubscribing twice is not an error
        except Exception as exc:
            if not database_down(exc):
                raise
            log.warning("unsubscribe %s: the database is unavailable", sub_id)
            return _page(
                start_response,
                "503 Service Unavailable",
                "<p>This page cannot reach its database right now. Try again in a minute.</p>",
            )
        return _page(
            start_response, "200 OK", "<p>Unsubscribed: you will not get this report any more.</p>"
        )


def _page(start_response: StartResponse, status: str, body: str) -> list[bytes]:
    start_response(
        status, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
    )
    return [_PAGE.format(body=body).encode()]
