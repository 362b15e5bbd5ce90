"""URL normalisation (one page per path, however many query strings Clarity splits it into),
and the one link we make into Clarity: a project's dashboard."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote, urlsplit, urlunsplit

from reports.errors import UsageError

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_url(raw: str | None) -> str | None:
    """Strip query and fragment, lower-case scheme and host, drop a trailing slash except at root.

    `None` stays `None` and `""` stays `""`: Clarity uses both, with different meanings.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return ""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or not parts.scheme or not parts.netloc:
        # Not an absolute URL (a path, template junk, a bad port): still cut query and fragment.
        return _strip_tail(text.split("#", 1)[0].split("?", 1)[0].strip())
    host = (parts.hostname or "").lower()
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    path = _strip_tail(parts.path.strip()) or "/"
    return urlunsplit((parts.scheme.lower(), host, path, "", ""))


def _strip_tail(path: str) -> str:
    """Apply the one trailing-slash rule: `/a/` and `/a` are the same page; `/` stays `/`."""
    end = len(path)
    while end and (path[end - 1] == "/" or path[end - 1].isspace()):
        end -= 1
    return path[:end] or ("/" if path.lstrip().startswith("/") else "")


def url_path(url: str | None) -> str | None:
    """Return the path of a URL for display (`https://x.com/a?b` → `/a`)."""
    if url is None:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return url
    return _strip_tail(path) or "/"


# Clarity's project ids are short letters and digits (e.g. "k3f9x2ab1c"); anything else that
# reaches us (a claim, a CLI argument) is refused rather than put into a link.
CLARITY_PROJECT_ID: Final = re.compile(r"[A-Za-z0-9]{1,32}")
CLARITY_DASHBOARD: Final = "https://clarity.microsoft.com/projects/view/{}/dashboard"


def check_project_id(text: str) -> str:
    """A Clarity project id as stored: letters and digits only, at most 32; else UsageError."""
    found = text.strip()
    if not CLARITY_PROJECT_ID.fullmatch(found):
        raise UsageError(
            "A Clarity project id is 1 to 32 letters and digits, as in the dashboard's address "
            "(clarity.microsoft.com/projects/view/<id>/dashboard)."
        )
    return found


def clarity_dashboard_url(project_id: str | None) -> str | None:
    """The project's dashboard in Clarity, or None when the id is unknown or not id-shaped."""
    found = (project_id or "").strip()
    if not CLARITY_PROJECT_ID.fullmatch(found):
        return None
    return CLARITY_DASHBOARD.format(quote(found, safe=""))
