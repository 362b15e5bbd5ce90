"""A threaded HTTP server on 127.0.0.1 for the fakes at the network edge."""

from __future__ import annotations

import functools
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


class Loopback:
    """Start and stop a handler class on a free loopback port."""

    server: ThreadingHTTPServer

    def serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        """Listen on a free port, answering on daemon threads."""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        # shutdown() waits for the serving loop to look up: at the default 0.5 s that was half
        # a second of idle teardown for every test using a fake.
        serve = self.server.serve_forever
        threading.Thread(target=serve, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        """Stop listening and close the socket."""
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@functools.cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def http_client(**kwargs: Any) -> httpx.Client:
    """An httpx client sharing one TLS context: building one per client costs ~50 ms."""
    return httpx.Client(verify=_tls(), **kwargs)
