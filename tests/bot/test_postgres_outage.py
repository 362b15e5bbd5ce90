"""A 20 s PostgreSQL outage under a running `claritybot worker`, cut at a loopback TCP proxy.

The shared PostgreSQL server is never stopped: the worker reaches it through a forwarder in
this test that can drop every connection and refuse new ones, then let them through again.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlmodel import Session, col, func, select

from reports.clarity.sandbox import ClaritySandbox
from store.crypto import generate_key
from store.models import DayGap, QuotaCall
from tests.bot.test_worker_processes import connect, stored_groups, wait_until, worker
from tests.conftest import PG_URL

pytestmark = [
    pytest.mark.soak,
    pytest.mark.skipif(not PG_URL, reason="needs CLARITYBOT_TEST_POSTGRES_URL"),
]
OUTAGE = timedelta(seconds=20)
LEASE = "5"
DAY = date(2026, 3, 8)


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to the database; `cut()` drops and refuses, `restore()` heals."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.refused = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if not self.open.is_set():
                self.refused += 1
                client.close()
                continue
            upstream = socket.create_connection(self.target, timeout=60)
            upstream.settimeout(None)
            with self.lock:
                self.sockets |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                self._close(s)

    def _close(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self) -> None:
        """Close every connection and refuse new ones."""
        self.open.clear()
        with self.lock:
            live = list(self.sockets)
        for sock in live:
            self._close(sock)

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def through(proxy: CuttableProxy, url: str) -> str:
    """The same database URL, reached through the proxy."""
    parts = urlsplit(url)
    netloc = (
        f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
    )
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_worker_waits_out_a_20_s_outage_and_loses_nothing(engine, db_url):
    parts = urlsplit(db_url)
    proxy = CuttableProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    key = generate_key()
    with ClaritySandbox() as sandbox:
        connect(engine, sandbox, key, "shop", datetime(2026, 3, 8, 12, tzinfo=UTC))
        sandbox.timeout_seconds = 0.5  # answers take a while: the cut lands mid-snapshot
        sandbox.fail_next("timeout", times=100_000)
        start, wall = datetime(2026, 3, 9, 0, 2, tzinfo=UTC), time.time()
        sandbox.clock = lambda: start + timedelta(seconds=time.time() - wall)
        args = ["--now", start.isoformat(), "--wall-start", str(wall), "--interval", "0.5"]
        proc = worker(
            through(proxy, db_url),
            key,
            sandbox,
            *args,
            reserve="0",
            extra={"CLARITYBOT_LEASE_SECONDS": LEASE},
        )
        assert wait_until(lambda: len(sandbox.calls) >= 2)  # the second call is in flight
        proxy.cut()
        cut_at = sandbox.now()
        assert wait_until(lambda: sandbox.now() >= cut_at + OUTAGE, timeout=600)
        assert proc.poll() is None, "the worker exited during the outage"
        proxy.restore()
        restored_at = sandbox.now()
        assert wait_until(lambda: stored_groups(engine, DAY) == 5)
        done_at = sandbox.now()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
        calls = len(sandbox.calls)
    proxy.close()
    log = err.decode()
    assert proc.returncode == 0, log
    assert "Traceback" not in log, log
    down = [line for line in log.splitlines() if "the database is unavailable" in line]
    assert len(down) == 1 and down[0].startswith("claritybot worker: "), log
    assert "the database is back after" in log, log
    with Session(engine) as session:
        gaps = session.exec(select(func.count()).select_from(DayGap)).one()
        open_slots = session.exec(
            select(func.count()).select_from(QuotaCall).where(col(QuotaCall.outcome).is_(None))
        ).one()
    assert gaps == 0 and open_slots == 0
    assert 5 <= calls <= 6  # at most the call cut off in flight is spent again
    print(
        f"\npostgres outage: {OUTAGE.total_seconds():g} s cut ({proxy.refused} connections "
        f"refused); day complete {done_at - restored_at} after the restore (lease {LEASE} s); "
        f"{calls} calls for 5 groups; the one outage line: {down[0]!r}"
    )
