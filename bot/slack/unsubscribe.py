"""`/unsubscribe`: the signed one-click link in every email digest (RFC 8058), served over HTTP.

GET shows a page with a button (mail scanners fetch links; they must not unsubscribe anyone);
POST stops the subscription — the mail client's one-click, or that button. Idempotent.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Engine

from reports.delivery.email import Links
from reports.delivery.subscriptions import unsubscribe
from reports.errors import UsageError

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
        if not sub_id.isdigit() or not self.links.verify(int(sub_id), signature):
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
        return _page(
            start_response, "200 OK", "<p>Unsubscribed: you will not get this report any more.</p>"
        )


def _page(start_response: StartResponse, status: str, body: str) -> list[bytes]:
    start_response(
        status, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
    )
    return [_PAGE.format(body=body).encode()]
