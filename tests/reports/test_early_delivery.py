"""Each project's reports go out as soon as its day is stored, not after the tick's last project."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.cli.scheduling import snapshots_and_reports
from reports.clarity.client import ClarityClient
from reports.clarity.sandbox import ClaritySandbox
from reports.delivery.dispatch import BULK_FROM, Dispatcher
from reports.delivery.early import EarlyDelivery
from reports.delivery.subscriptions import NewSubscription, subscribe
from reports.ingest.scheduler import Scheduler
from reports.ingest.snapshot import Snapshotter
from reports.render.charts import ChartMaker
from store import quota
from store.crypto import TokenCipher, generate_key
from tests.reports.test_scheduler import CREATED, MIDNIGHT_9, RecordingNotifier, make_source

NOW = MIDNIGHT_9 + timedelta(minutes=1, seconds=30)  # both days due, both 00:01 reports due
OWNER = "host-a:1:early"


class Recorder:
    """A destination noting each send; the first one opens the gate the second project waits at."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.first = threading.Event()

    def deliver(self, report, sub, now, unsubscribe_url):
        self.sent.append(sub.source_id)
        self.first.set()
        return f"msg-{sub.id}"

    def check(self, sub, period):
        return None


class HeldSecond(httpx.BaseTransport):
    """Clarity's edge: the second project's first call waits (up to 30 s) for the first report.

    Only a report sent while the tick still runs can open it; without early sending the wait
    runs out and `opened` stays False."""

    def __init__(self, inner: httpx.BaseTransport, second_token: str, gate: threading.Event):
        self._inner, self._token, self._gate = inner, second_token, gate
        self.opened: bool | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.opened is None and request.headers["authorization"].endswith(self._token):
            self.opened = self._gate.wait(30)
        return self._inner.handle_request(request)


@pytest.fixture
def world(engine):
    cipher = TokenCipher(generate_key())
    with ClaritySandbox() as sandbox:
        sandbox.set_now(NOW)
        ids = [make_source(engine, cipher, sandbox, project=f"p{i}") for i in range(2)]
        for source_id in ids:
            request = NewSubscription(
                source_id=source_id,
                metrics=["sessions"],
                kind="outbox",
                destination="early",
                frequency="daily",
                send_at="00:01",
            )
            subscribe(engine, request, workspace_id=None, now=CREATED)
        yield cipher, sandbox, ids


def parts(engine, cipher, sandbox, transport, recorder):
    http = httpx.Client(transport=transport, timeout=10)
    client = ClarityClient(http=http, base_url=sandbox.url)
    snap = Snapshotter(engine=engine, client=client, cipher=cipher, owner=OWNER)
    scheduler = Scheduler(
        engine=engine,
        snapshotter=snap,
        policy=quota.QuotaPolicy(),
        owner=OWNER,
        notifier=RecordingNotifier(),
        concurrency=1,  # the projects strictly one after the other
    )
    dispatcher = Dispatcher(
        engine=engine, senders={"outbox": recorder}, owner=OWNER, charts=ChartMaker()
    )
    return scheduler, dispatcher


def test_a_projects_report_goes_out_while_the_next_project_fetches(engine, world):
    cipher, sandbox, ids = world
    recorder = Recorder()
    transport = HeldSecond(httpx.HTTPTransport(), sandbox.issue_token("p1"), recorder.first)
    scheduler, dispatcher = parts(engine, cipher, sandbox, transport, recorder)

    report, sent = snapshots_and_reports(scheduler, dispatcher, NOW)

    assert transport.opened is True  # the first project's report went out mid-tick
    assert [r.complete for r in report.results] == [True, True]
    assert sorted(recorder.sent) == sorted(ids)  # each once: the final pass found them sent
    assert sent["sent"] == 2
    assert dispatcher.tick(NOW + timedelta(minutes=1)).get("sent", 0) == 0


def test_a_failing_hook_leaves_the_tick_whole(engine, world, caplog):
    cipher, sandbox, ids = world
    recorder = Recorder()
    scheduler, _ = parts(engine, cipher, sandbox, httpx.HTTPTransport(), recorder)
    heard: list[list[int]] = []

    def hook(source_ids: list[int]) -> None:
        heard.append(source_ids)
        raise RuntimeError("the hook broke")

    with caplog.at_level(logging.ERROR):
        report = scheduler.tick(NOW, on_project=hook)
    assert [r.complete for r in report.results] == [True, True]
    assert sorted(heard) == [[ids[0]], [ids[1]]]
    assert "the hook broke" in caplog.text


def test_a_project_that_took_nothing_is_not_announced(engine, world):
    cipher, sandbox, _ = world
    scheduler, _ = parts(engine, cipher, sandbox, httpx.HTTPTransport(), Recorder())
    heard: list[list[int]] = []
    scheduler.tick(NOW, on_project=heard.append)
    again = datetime(2026, 3, 9, 0, 5, tzinfo=UTC)  # the same day: already stored
    scheduler.tick(again, on_project=heard.append)
    assert len(heard) == 2  # from the first tick only


class Sends:
    """A dispatcher's two faces as EarlyDelivery uses them: here, or drawing elsewhere."""

    concurrency = 2

    def __init__(self, subscriptions: int, where: str = "here") -> None:
        self.subscriptions, self.where = subscriptions, where

    def busy(self) -> bool:
        return self.subscriptions >= BULK_FROM

    def drawing_elsewhere(self) -> Sends:
        return Sends(self.subscriptions, "pool")

    def send_for(self, source_ids, now):
        return Counter({self.where: len(source_ids)})


@pytest.mark.parametrize(("subscriptions", "where"), [(BULK_FROM, "pool"), (BULK_FROM - 1, "here")])
def test_with_many_subscriptions_every_chart_is_drawn_in_the_pool(subscriptions, where):
    early = EarlyDelivery(Sends(subscriptions), NOW)  # type: ignore[arg-type]
    for source_id in range(1, 26):
        early([source_id])
    assert early.finish() == Counter({where: 25})


def test_busy_counts_the_active_subscriptions(engine, world):
    _, _, ids = world  # two subscriptions
    dispatcher = Dispatcher(engine=engine, senders={}, owner=OWNER, charts=ChartMaker())
    assert not dispatcher.busy()
    for _ in range(BULK_FROM - 2):
        request = NewSubscription(
            source_id=ids[0], metrics=["sessions"], kind="outbox", destination="more"
        )
        subscribe(engine, request, workspace_id=None, now=CREATED)
    assert dispatcher.busy()
