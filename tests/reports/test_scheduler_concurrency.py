"""A tick runs different projects at once, each project's calls one after another, each once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, select

from reports.clarity.client import ClarityClient
from reports.clarity.sandbox import ClaritySandbox
from reports.ingest.due import SPREAD_SECONDS, spread
from reports.ingest.scheduler import Scheduler
from reports.ingest.snapshot import Snapshotter
from store import quota
from store.crypto import TokenCipher, generate_key
from store.models import Snapshot, SnapshotClaim
from tests.reports.test_scheduler import MIDNIGHT_9, RecordingNotifier, make_source

PROJECTS = 12
WORKERS = 4


class InFlight(httpx.BaseTransport):
    """The network edge, counting requests in flight overall and per token.

    The first request waits (up to 10 s) for a second one to arrive, which only a concurrent
    tick can send: concurrency is shown by an event, not by timing.
    """

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner, self._lock = inner, threading.Lock()
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.second_arrived = threading.Event()
        self.total = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "")
        with self._lock:
            self.total += 1
            if self.total >= 2:
                self.second_arrived.set()
            for key in (token, "*"):
                self.now[key] += 1
                self.peak[key] = max(self.peak[key], self.now[key])
        try:
            if self.total == 1:
                self.second_arrived.wait(10)
            return self._inner.handle_request(request)
        finally:
            with self._lock:
                self.now[token] -= 1
                self.now["*"] -= 1


@pytest.fixture
def sandbox():
    with ClaritySandbox() as box:
        yield box


def test_projects_run_concurrently_each_project_one_call_at_a_time(engine, sandbox):
    cipher = TokenCipher(generate_key())
    ids = [make_source(engine, cipher, sandbox, project=f"p{i}") for i in range(PROJECTS)]
    transport = InFlight(httpx.HTTPTransport())
    with httpx.Client(transport=transport, timeout=10) as http:
        client = ClarityClient(http=http, base_url=sandbox.url)
        snap = Snapshotter(engine=engine, client=client, cipher=cipher, owner="host-a:1:a")
        sched = Scheduler(
            engine=engine,
            snapshotter=snap,
            policy=quota.QuotaPolicy(),
            owner="host-a:1:a",
            notifier=RecordingNotifier(),
            concurrency=WORKERS,
        )
        now = MIDNIGHT_9 + timedelta(seconds=SPREAD_SECONDS)
        sandbox.set_now(now)
        report = sched.tick(now)
    assert transport.second_arrived.is_set()
    assert 2 <= transport.peak["*"] <= WORKERS
    assert all(n == 1 for key, n in transport.peak.items() if key != "*")
    assert report.calls == 5 * PROJECTS == len(sandbox.calls)
    assert [r.source_id for r in report.results] == sorted(ids)  # report in source order
    for i in range(PROJECTS):
        assert len(sandbox.calls_for(f"p{i}")) == 5
    with Session(engine) as session:
        assert len(session.exec(select(Snapshot)).all()) == 5 * PROJECTS
        assert session.exec(select(SnapshotClaim)).all() == []


def test_the_stagger_is_seconds_and_spreads_sources():
    offsets = {spread(i) for i in range(1, 61)}
    assert len(offsets) == SPREAD_SECONDS
    assert max(offsets) < timedelta(minutes=1)
