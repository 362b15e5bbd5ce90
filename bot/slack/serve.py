"""`claritybot serve`: the Slack app over HTTP (waitress, a production server) or Socket Mode."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.slack.unsubscribe import Unsubscribe

log = logging.getLogger(__name__)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def wsgi_app(
    app: App,
    unsubscribe: Unsubscribe | None = None,
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """Route `/healthz` and `/unsubscribe` ourselves, everything else (`/slack/…`) to Bolt."""
    bolt = SlackRequestHandler(app)

    def route(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if path == "/unsubscribe" and unsubscribe is not None:
            return unsubscribe(environ, start_response)
        return bolt(environ, start_response)  # type: ignore[arg-type]

    return route


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
        asyncore_loop_timeout=0.05,
    )


def shutdown(server: Any) -> None:
    """Stop a running server from any thread (tests, benchmarks).

    Its sockets are closed by waitress's own loop: closing them from another thread races the
    loop's select() and dies with a bad file descriptor.
    """
    server.trigger.pull_trigger(lambda: [d.close() for d in list(server._map.values())])
    server.task_dispatcher.shutdown()


def serve_http(app: App, *, host: str, port: int, unsubscribe: Unsubscribe | None = None) -> None:
    """Serve until interrupted."""
    server = make_server(app, host=host, port=port, unsubscribe=unsubscribe)
    log.warning(
        "claritybot serve: listening on http://%s:%d (POST /slack/events)",
        host,
        server.effective_port,
    )
    server.run()


def serve_socket_mode(app: App, app_token: str) -> None:
    """Connect out to Slack over a WebSocket: no public URL needed."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    log.warning("claritybot serve: connecting to Slack in Socket Mode")
    SocketModeHandler(app, app_token).start()  # type: ignore[no-untyped-call]
