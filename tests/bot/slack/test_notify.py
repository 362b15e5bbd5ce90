from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from bot.slack.clients import WorkspaceClients
from bot.slack.notify import SlackNotifier
from reports.clarity.client import ClarityClient
from reports.ingest import sources
from reports.ingest.scheduler import Scheduler
from reports.ingest.snapshot import Snapshotter
from store import quota
from store.crypto import TokenCipher, generate_key


def one_token(engine, fake_slack):
    return WorkspaceClients(engine, api_url=fake_slack.url, bot_token="xoxb")


def test_the_owner_is_told_in_a_dm_when_the_token_is_rejected(engine, fake_slack, sandbox):
    cipher = TokenCipher(generate_key())
    created = datetime(2026, 3, 8, 12, tzinfo=UTC)
    sid = sources.add_source(engine, cipher=cipher, label="<!channel> shop",
                             raw_token=sandbox.issue_token("shop"), now=created,
                             owner_user_id="UOWNER")  # fmt: skip
    sandbox.revoke("shop")
    notifier = SlackNotifier(engine=engine, clients=one_token(engine, fake_slack))
    with httpx.Client() as http:
        snap = Snapshotter(engine=engine, client=ClarityClient(http=http, base_url=sandbox.url),
                           cipher=cipher)  # fmt: skip
        scheduler = Scheduler(engine=engine, snapshotter=snap, policy=quota.QuotaPolicy(),
                              owner="h:1:x", notifier=notifier)  # fmt: skip
        now = datetime(2026, 3, 9, 0, 5, tzinfo=UTC)
        sandbox.set_now(now)
        scheduler.tick(now)
    (dm,) = fake_slack.called("chat.postMessage")
    assert dm.params["channel"] == "UOWNER"
    assert "paused" in dm.params["text"] and "401" in dm.params["text"]
    assert "&lt;!channel&gt;" in dm.params["text"] and "<!channel>" not in dm.params["text"]
    notifier.day_lost(sid, "x", date(2026, 3, 9), ("pages",), "no run happened")
    assert len(fake_slack.called("chat.postMessage")) == 2


def test_a_failed_delivery_is_told_to_whoever_set_it_up(engine, fake_slack, sandbox):
    cipher = TokenCipher(generate_key())
    token = sandbox.issue_token("shop")
    created = datetime(2026, 3, 8, tzinfo=UTC)
    sid = sources.add_source(engine, cipher=cipher, label="Shop", raw_token=token, now=created,
                             owner_user_id="UOWNER")  # fmt: skip
    notifier = SlackNotifier(engine=engine, clients=one_token(engine, fake_slack))
    notifier.delivery_failed(4, sid, "Shop", "2026-03-10", "<#C9>", "This channel is archived.",
                             "USETUP")  # fmt: skip
    notifier.delivery_failed(5, sid, "Shop", "2026-03-10", "a@b.co", "550 <b>", None)
    first, second = fake_slack.wait_for("chat.postMessage", 2)
    assert first.params["channel"] == "USETUP" and "archived" in first.params["text"]
    assert "`/clarity unsubscribe 4`" in first.params["text"]
    assert second.params["channel"] == "UOWNER" and "550 &lt;b&gt;" in second.params["text"]
