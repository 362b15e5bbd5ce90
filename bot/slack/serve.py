"""`claritybot serve`: the Slack app over HTTP (waitress, a production server) or Socket Mode."""

from __future__ import annotations

import gc
import io
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, Final

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.slack.unsubscribe import Unsubscribe

log = logging.getLogger(__name__)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

# Slack's own payloads are a few kB; anything near this is not from Slack. waitress refuses a
# larger Content-Length with 413 before reading the body.
MAX_BODY_BYTES: Final = 1024 * 1024
IDLE_TIMEOUT_S: Final = 30  # an idle or half-sent connection is closed after this
MAX_CONNECTIONS: Final = 1000  # idle sockets hold no thread; past this new ones wait
REPLAY_WINDOW_S: Final = 5 * 60  # Bolt refuses older timestamps; within it we remember


class ReplayGuard:
    """Remembers the signatures of Slack requests for Slack's 5-minute window.

    A signature covers the timestamp and the body, so a second request with the same one is a
    replay: Slack itself signs every delivery and retry anew. Memory is bounded by `limit`.
    """

    def __init__(
        self,
        *,
        window_s: float = REPLAY_WINDOW_S,
        limit: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._window, self._limit, self._clock = window_s, limit, clock

    def first_time(self, signature: str) -> bool:
        """Record `signature`; False when it was already seen within the window."""
        now = self._clock()
        with self._lock:
            while self._seen and (
                len(self._seen) >= self._limit or next(iter(self._seen.values())) < now
            ):
                self._seen.popitem(last=False)
            if signature in self._seen:
                return False
            self._seen[signature] = now + self._window
            return True

    def forget(self, signature: str) -> None:
        """Drop a signature Bolt refused, so forged requests take no room."""
        with self._lock:
            self._seen.pop(signature, None)


def wsgi_app(
    app: App,
    unsubscribe: Unsubscribe | None = None,
    replays: ReplayGuard | None = None,
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """Route `/healthz` and `/unsubscribe` ourselves, everything else (`/slack/…`) to Bolt."""
    bolt = SlackRequestHandler(app)
    guard = replays or ReplayGuard()

    def to_bolt(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not _utf8_body(environ):
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"not a Slack request"]
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        if not signature:
            return _bolt_or_400(bolt, environ, start_response)
        if not guard.first_time(signature):
            log.info("dropped a replayed Slack request")
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b""]

        def record(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            if status.startswith("401"):
                guard.forget(signature)
            return start_response(status, headers, *exc)

        return _bolt_or_400(bolt, environ, record)

    def route(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if path == "/unsubscribe" and unsubscribe is not None:
            return unsubscribe(environ, start_response)
        return to_bolt(environ, start_response)

    return route


def _bolt_or_400(
    bolt: SlackRequestHandler, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """Bolt's answer; a shape it cannot read (it dereferences fields before checking the
    signature: `"team": "x"`, `"payload": "[]"`) is a 400 and one log line, not a 500."""
    try:
        return bolt(environ, start_response)  # type: ignore[arg-type]
    except Exception as exc:
        log.warning(
            "refused a malformed Slack request (%s: %s)", type(exc).__name__, str(exc)[:100]
        )
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"malformed request"]


def _utf8_body(environ: dict[str, Any]) -> bool:
    """Read the body (waitress bounds it); False when it is not UTF-8, as Slack's always is.

    Bolt decodes it without a guard: a stray byte would be a 500 and a traceback.
    """
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    data = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(data), str(len(data))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def make_server(
    app: App, *, host: str, port: int, threads: int = 8, unsubscribe: Unsubscribe | None = None
) -> Any:
    """Return a waitress server (not yet running); port 0 picks a free one (`.effective_port`).

    `App.start()` is Bolt's development server, bound to 0.0.0.0; waitress is a production
    WSGI server that binds where it is told.
    """
    from waitress.server import create_server  # type: ignore[import-untyped]

    # A request waits for a free thread whatever happens; saying so on every request is noise.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    return create_server(
        wsgi_app(app, unsubscribe),
        host=host,
        port=port,
        threads=threads,
        ident="claritybot",
        max_request_body_size=MAX_BODY_BYTES,
        channel_timeout=IDLE_TIMEOUT_S,
        connection_limit=MAX_CONNECTIONS,
        asyncore_use_poll=True,  # select() cannot watch more than 1,024 sockets
        # waitress truncates this to whole seconds: 0.05 became 0 and its loop spun a whole
        # core while idle. 1 s only bounds how late a shutdown request is noticed.
        asyncore_loop_timeout=1,
    )


def shutdown(server: Any) -> None:
    """Stop a running server from any thread (tests, benchmarks).

    The request threads stop first: one finishing a response wakes the loop through the
    trigger, which must still be open. Then the sockets are closed by waitress's own loop:
    closing them from another thread races the loop's poll() with a bad file descriptor.
    """
    server.task_dispatcher.shutdown()
    server.trigger.pull_trigger(lambda: [d.close() for d in list(server._map.values())])


def serve_http(
    app: App,
    *,
    host: str,
    port: int,
    unsubscribe: Unsubscribe | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve until interrupted, saying once where (one plain line, not a log record)."""
    server = make_server(app, host=host, port=port, unsubscribe=unsubscribe)
    announce(f"listening on http://{host}:{server.effective_port} (HTTP mode)")
    settle()
    server.run()


def serve_socket_mode(app: App, app_token: str, announce: Callable[[str], None] = print) -> None:
    """Connect out to Slack over a WebSocket: no public URL needed."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    # connect() then wait, rather than start(): start() prints Bolt's own banner.
    SocketModeHandler(app, app_token).connect()  # type: ignore[no-untyped-call]
    announce("connected (Socket Mode)")
    settle()
    threading.Event().wait()


def settle() -> None:
    """Exempt what is loaded by now (modules, the app) from the garbage collector's full passes.

    They live as long as the process, yet a full pass walked all of them while holding the
    interpreter lock: ~120,000 objects, a 100 ms pause for every request in flight.
    """
    gc.freeze()
