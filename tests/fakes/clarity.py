"""A stateful Clarity fake for httpx.MockTransport, built from the real samples."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from tests.conftest import FIXTURES

SAMPLES = FIXTURES / "clarity"
_BY_DIMENSION = {
    (): "fpr-2026-08-24-overall.json",
    ("Device",): "fpr-2026-08-24-dim-Device.json",
    ("Channel",): "fpr-2026-08-24-dim-Channel.json",
}


def sample_bytes(name: str) -> bytes:
    """Return a real response body from the fixtures."""
    return (SAMPLES / name).read_bytes()


def synthetic_body(dims: tuple[str, ...]) -> bytes:
    """A small 9-block body for a dimension without a real sample (URL, Source...)."""
    key = "Url" if dims == ("URL",) else dims[0]
    rows = [("https://shop.test/a?utm_source=x", 40), ("https://shop.test/b", 25)]
    if dims != ("URL",):
        rows = [(f"{dims[0]}-value-{i}", n) for i, n in enumerate((40, 25))]
    traffic = [
        {"totalSessionCount": str(n), "totalBotSessionCount": "1", "distinctUserCount": n,
         "pagesPerSessionPercentage": 2.0, key: v}
        for v, n in rows
    ]  # fmt: skip
    frustration = [
        {"sessionsCount": str(n), "sessionsWithMetricPercentage": 10.0,
         "sessionsWithoutMetricPercentage": 90.0, "pagesViews": "2", "subTotal": "3", key: v}
        for v, n in rows
    ]  # fmt: skip
    names = ["DeadClickCount", "ExcessiveScroll", "RageClickCount", "QuickbackClick",
             "ScriptErrorCount", "ErrorClickCount"]  # fmt: skip
    blocks = [{"metricName": n, "information": frustration} for n in names]
    blocks += [
        {"metricName": "ScrollDepth",
         "information": [{"averageScrollDepth": 40.5, key: v} for v, _ in rows]},
        {"metricName": "Traffic", "information": traffic},
        {"metricName": "EngagementTime",
         "information": [{"totalTime": "100", "activeTime": "50", key: v} for v, _ in rows]},
    ]  # fmt: skip
    return json.dumps(blocks).encode()


class FakeClarity:
    """Serves sample bodies by dimension; records every request; fails on cue."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.requests: list[httpx.Request] = []
        self.cues: list[Callable[[httpx.Request], httpx.Response]] = []
        self.scripted: dict[int, Callable[[httpx.Request], httpx.Response]] = {}

    def fail_next(self, status: int, content: bytes = b"") -> None:
        """Answer the next request with this status and body."""
        self.cues.append(lambda _req: httpx.Response(status, content=content))

    def fail_on(self, call_number: int, status: int, content: bytes = b"") -> None:
        """Answer the Nth request (1-based, counted over the fake's life) with this status."""
        self.scripted[call_number] = lambda _req: httpx.Response(status, content=content)

    def raise_next(self, exc: Exception) -> None:
        """Raise this transport error on the next request."""

        def boom(_req: httpx.Request) -> httpx.Response:
            raise exc

        self.cues.append(boom)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) in self.scripted:
            return self.scripted.pop(len(self.requests))(request)
        if self.cues:
            return self.cues.pop(0)(request)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return httpx.Response(401)
        params = request.url.params
        dims = tuple(params[k] for k in sorted(params) if k.startswith("dimension"))
        name = _BY_DIMENSION.get(dims)
        body = sample_bytes(name) if name else synthetic_body(dims)
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})
