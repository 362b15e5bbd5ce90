"""A built-in imitation of the Microsoft Clarity Data Export API, for demos and tests.

`ClaritySandbox` serves the real wire format on 127.0.0.1 with deterministic data for a demo web
shop; counts are exactly additive over adjacent windows.
"""

from __future__ import annotations

from reports.clarity.sandbox.auth import make_token
from reports.clarity.sandbox.server import CallRecord, ClaritySandbox
from reports.clarity.sandbox.site import BIG_URL_PROFILE, DEMO_PROFILE, SiteProfile

__all__ = [
    "BIG_URL_PROFILE",
    "DEMO_PROFILE",
    "CallRecord",
    "ClaritySandbox",
    "SiteProfile",
    "make_token",
]
