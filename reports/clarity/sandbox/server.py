"""The Clarity sandbox: a loopback HTTP server that answers like the Data Export API."""

from __future__ import annotations

import collections
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import FrameType, TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs

from reports.clarity.sandbox.aggregate import row_key
from reports.clarity.sandbox.auth import make_token, project_of
from reports.clarity.sandbox.blocks import Query, render_body
from reports.clarity.sandbox.handler import API_PATH, Reply, SandboxHTTPServer, dimension_params
from reports.clarity.sandbox.site import DEMO_PROFILE, SiteProfile

FailKind = int | str
BODY_CUES = ("empty", "not_json", "wrong_shape")
CUE_KINDS = ("timeout", "fallback", *BODY_CUES)
_JSON = "application/json; charset=utf-8"
_HTML = "text/html; charset=utf-8"
_CUE_REPLIES = {
    "empty": (b"", _JSON),
    "not_json": (b"<html><body><h1>Service Unavailable</h1></body></html>", _HTML),
    "wrong_shape": (b'{"error":"Something went wrong. Please try again later."}', _JSON),
}
_HTML_500 = b"<html><head><title>500</title></head><body>Internal Server Error</body></html>"


@dataclass(frozen=True)
class CallRecord:
    """One request to the API endpoint, as the sandbox saw and answered it."""

    project: str | None
    num_days: str | None
    dimensions: tuple[str, ...]
    at: datetime
    status: int

    def to_json(self) -> dict[str, object]:
        """Return a JSON-ready dict (`at` as ISO 8601)."""
        return {
            "project": self.project,
            "num_days": self.num_days,
            "dimensions": list(self.dimensions),
            "at": self.at.isoformat(),
            "status": self.status,
        }


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Stop(Exception):
    """Raised by the stop signal handler to leave `serve_until_signalled`."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


class ClaritySandbox:
    """A fake Clarity Data Export API on 127.0.0.1 with deterministic demo-shop data."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        seed: int = 7,
        daily_cap: int = 10,
        profile: SiteProfile = DEMO_PROFILE,
        docs_spelling: bool = False,
        bad_dimension: Literal["empty", "fallback"] = "empty",
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
    ) -> None:
        self.clock: Callable[[], datetime] = clock or _utc_now
        self.seed = seed
        self.daily_cap = daily_cap
        self.profile = profile
        self.docs_spelling = docs_spelling
        self.bad_dimension: Literal["empty", "fallback"] = bad_dimension
        self.timeout_seconds = 2.0
        self.latency = latency  # seconds each API answer waits, like the real API's ~150 ms
        self.calls: list[CallRecord] = []
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._revoked: set[str] = set()
        self._forbidden: set[str] = set()
        self._used: dict[tuple[str, date], int] = {}
        self._cues: collections.deque[FailKind] = collections.deque()
        self._served_500 = 0
        self._stopping = threading.Event()
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> ClaritySandbox:
        """Start serving in a daemon thread; return self."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        self._stopping.clear()
        server = SandboxHTTPServer((self._host, self._port), self)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="clarity-sandbox",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        self._stopping.set()  # wakes handlers sleeping on a "timeout" cue
        server.shutdown()
        thread.join()
        server.server_close()  # also joins the handler threads

    def serve_until_signalled(self) -> None:
        """Block until SIGINT or SIGTERM (main thread only), then stop serving."""
        # Both handlers are set here, not inherited: a background job of a non-interactive
        # shell starts with SIGINT ignored, and Ctrl-C or `kill` must stop the server anyway.
        previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, _raise_stop)
            while True:
                time.sleep(3600)
        except _Stop:
            pass
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            self.stop()

    def __enter__(self) -> ClaritySandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL of the API, e.g. http://127.0.0.1:PORT/export-data/api/v1."""
        return self.origin + API_PATH.rsplit("/", 1)[0]

    @property
    def origin(self) -> str:
        """Scheme, host and port of the running server (control endpoints live under it)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- controls --------------------------------------------------------------------------

    def set_now(self, now: datetime) -> None:
        """Freeze the sandbox clock at an aware datetime."""
        if now.tzinfo is None:
            raise ValueError("set_now needs an aware datetime (e.g. tzinfo=UTC)")
        fixed = now.astimezone(UTC)
        self.clock = lambda: fixed

    def issue_token(self, project: str = "demo") -> str:
        """Return a JWT-shaped token for a project."""
        return make_token(project)

    def revoke(self, project: str) -> None:
        """Make later calls with this project's tokens answer 401."""
        with self._lock:
            self._revoked.add(project)

    def forbid(self, project: str) -> None:
        """Make later calls with this project's tokens answer 403."""
        with self._lock:
            self._forbidden.add(project)

    def fail_next(self, kind: FailKind, *, times: int = 1) -> None:
        """Cue the next `times` authenticated calls to fail as `kind` (a status or a cue name)."""
        if isinstance(kind, bool) or not (
            (isinstance(kind, int) and 100 <= kind <= 599) or kind in CUE_KINDS
        ):
            raise ValueError(f"unknown failure kind {kind!r}; use an HTTP status or {CUE_KINDS}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._cues.extend([kind] * times)

    def calls_for(self, project: str) -> list[CallRecord]:
        """Return the calls made with tokens of one project, in order."""
        with self._lock:
            return [call for call in self.calls if call.project == project]

    def now(self) -> datetime:
        """Return the sandbox clock's current time as aware UTC (naive values count as UTC)."""
        moment = self.clock()
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)

    # -- the API ---------------------------------------------------------------------------

    def answer(self, query_string: str, authorization: str | None) -> Reply:
        """Answer one API request and record it (after `latency` seconds, if set)."""
        if self.latency > 0:
            self._stopping.wait(self.latency)  # a stop still ends the wait at once
        now = self.now()
        params = {k.lower(): v for k, v in parse_qs(query_string, keep_blank_values=True).items()}
        num_days = params["numofdays"][0] if "numofdays" in params else None
        dimensions, too_many = dimension_params(params)
        project = project_of(authorization)
        reply = self._decide(project, num_days, None if too_many else dimensions, now)
        record = CallRecord(project, num_days, dimensions, now, reply.status)
        with self._lock:
            self.calls.append(record)
        return reply

    def _decide(
        self,
        project: str | None,
        num_days: str | None,
        dimensions: tuple[str, ...] | None,
        now: datetime,
    ) -> Reply:
        if project is None:
            return Reply(401)
        with self._lock:
            if project in self._revoked:
                return Reply(401)
            if project in self._forbidden:
                return Reply(403)
            # Every authenticated call costs quota, failed or not (the cautious reading).
            key = (project, now.date())
            self._used[key] = self._used.get(key, 0) + 1
            over_cap = self._used[key] > self.daily_cap
            cue = self._cues.popleft() if self._cues else None
        if cue == "timeout":
            self._stopping.wait(self.timeout_seconds)
            cue = None
        if isinstance(cue, int):
            return self._status_reply(cue)
        if over_cap:
            return Reply(429)
        if isinstance(cue, str) and cue in _CUE_REPLIES:
            body, content_type = _CUE_REPLIES[cue]
            return Reply(200, body, content_type)
        return self._payload(project, num_days, dimensions, now, fallback=cue == "fallback")

    def _status_reply(self, status: int) -> Reply:
        if status != 500:
            return Reply(status)
        with self._lock:
            self._served_500 += 1
            html = self._served_500 % 2 == 0
        # Real 500s came with empty bodies; every second one here carries an HTML error page.
        return Reply(500, _HTML_500, _HTML) if html else Reply(500)

    def _payload(
        self,
        project: str,
        num_days: str | None,
        dimensions: tuple[str, ...] | None,
        now: datetime,
        *,
        fallback: bool,
    ) -> Reply:
        if num_days not in ("1", "2", "3") or dimensions is None:
            return Reply(400)
        keys = [row_key(name) for name in dimensions]
        if None in keys and not fallback:
            if self.bad_dimension == "empty":
                return Reply(200, b"", _JSON)
            fallback = True
        resolved = () if fallback else tuple(dict.fromkeys(k for k in keys if k is not None))
        query = Query(
            profile=self.profile,
            project=project,
            seed=self.seed,
            end=now,
            num_days=int(num_days),
            dimensions=resolved,
            docs_spelling=self.docs_spelling,
        )
        return Reply(200, render_body(query), _JSON)
