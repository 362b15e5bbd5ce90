"""kill -9 at random points of real `claritybot tick` runs: no report is ever sent twice.

Counted where it lands: on a real SMTP server (aiosmtpd), the loopback Slack fake and the
outbox folder. Each period ends sent exactly once, or `unknown` (cut off mid-send: at most once).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlmodel import Session, select

from bot.cli.demo import run_demo
from reports.delivery.subscriptions import NewSubscription, subscribe
from store.db import make_engine
from store.ledger import FINAL
from store.models import Delivery
from tests.fakes.slack_api import FakeSlack
from tests.reports.test_mail import Inbox, free_port

pytestmark = pytest.mark.soak
ROOT = Path(__file__).resolve().parents[2]
HISTORY_NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
# The days ticks run on, as many as the kills need: three with stored history (09:00 London
# passed), then later ones past the 3 h grace, whose reports go out saying their day is not in.
DAYS = [datetime(2026, 3, d, 10, 0, tzinfo=UTC) for d in (18, 19, 20)]
DAYS += [datetime(2026, 3, d, 13, 0, tzinfo=UTC) for d in range(21, 31)]
KILLS = 20
KILLS_PER_DAY = 8


@pytest.fixture
def world(tmp_path):
    run = run_demo(out_dir=tmp_path / "demo", days=9, now=HISTORY_NOW, timezone="Europe/London")
    engine = make_engine(f"sqlite:///{run.db_path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM delivery")
        conn.exec_driver_sql("DELETE FROM subscription")
    inbox, port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    slack = FakeSlack().start()
    targets = [("email", f"user{n}@example.com") for n in range(4)]
    targets += [("slack", f"C0KILL{n}") for n in range(3)]
    targets += [("outbox", str(tmp_path / f"outbox{n}")) for n in range(2)]
    subs = [subscribe(engine, NewSubscription(source_id=run.source_id, metrics=["digest"],
                                              kind=kind, destination=where),
                      workspace_id=None, now=DAYS[0].replace(hour=8))  # fmt: skip
            for kind, where in targets]  # fmt: skip
    env = {
        "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{run.db_path}",
        "CLARITYBOT_SECRET_KEY": (tmp_path / "demo" / "secret.key").read_text().strip(),
        "CLARITY_API_URL": f"http://127.0.0.1:{free_port()}/",  # snapshots fail fast, locally
        "SMTP_URL": f"smtp://127.0.0.1:{port}", "MAIL_FROM": "reports@example.com",
        "SLACK_BOT_TOKEN": "xoxb-kill", "SLACK_API_URL": slack.url,
    }  # fmt: skip
    yield engine, env, subs, inbox, slack
    smtp.stop()
    slack.stop()
    engine.dispose()


def tick(env, now):
    return subprocess.Popen([sys.executable, "-m", "bot", "tick", "--now", now.isoformat()],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip


def touched(engine, pid):
    """Return how many ledger rows the process `pid` has claimed or taken over so far."""
    with engine.connect() as conn:
        query = text("SELECT count(*) FROM delivery WHERE owner LIKE :owner")
        return conn.execute(query, {"owner": f"%:{pid}:%"}).scalar_one()


def settled(engine, subs, period):
    """Has every subscription's report for `period` reached a final state?"""
    with Session(engine) as session:
        rows = session.exec(select(Delivery).where(Delivery.period == period)).all()
    return {r.subscription_id for r in rows if r.status in FINAL} == {s.id for s in subs}


def wait_until(condition, timeout=300.0):
    """Poll `condition` until true; the timeout only bounds a hang, it is never a race."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_twenty_kills_never_send_a_report_twice(world):
    engine, env, subs, inbox, slack = world
    rng = random.Random(20261122)
    kills, days = 0, []
    # Counted, not timed: ticks are killed until KILLS of them were killed alive, each at a
    # random point of its delivery work, however fast or slow the machine is.
    for day in DAYS:
        if kills >= KILLS:
            break
        days.append(day)
        for _ in range(KILLS_PER_DAY):
            if settled(engine, subs, f"{day:%Y-%m-%d}"):
                break
            proc = tick(env, day)
            # After it claimed its first or second report: mid-compose, mid-send or between.
            target = rng.randint(1, 2)
            wait_until(lambda p=proc, t=target: p.poll() is not None or touched(engine, p.pid) >= t)
            time.sleep(rng.uniform(0, 0.5))
            if proc.poll() is None:
                kills += 1
            proc.kill()
            proc.wait()
        assert tick(env, day).wait(timeout=300) in (0, 1)  # a clean run finishes the day
    assert tick(env, days[-1] + timedelta(hours=2)).wait(timeout=300) in (0, 1)  # retries due
    assert kills >= KILLS

    with Session(engine) as session:
        rows = {(r.subscription_id, r.period): r for r in session.exec(select(Delivery)).all()}
    periods = [f"{d:%Y-%m-%d}" for d in days]
    assert set(rows) == {(s.id, p) for s in subs for p in periods}
    statuses = Counter(r.status for r in rows.values())
    assert set(statuses) <= {"sent", "unknown"}, statuses

    mail_ids = Counter(m["Message-ID"] for m in inbox.messages)
    posts = Counter((c.params["channel"], c.params["text"].split("\n")[0])
                    for c in slack.called("chat.postMessage"))  # fmt: skip
    assert max(mail_ids.values(), default=1) == 1 and max(posts.values(), default=1) == 1
    for sub in subs:
        for period in periods:
            row = rows[(sub.id, period)]
            if sub.destination_kind == "email":
                landed = mail_ids[f"<claritybot.s{sub.id}.{period}@example.com>"]
            elif sub.destination_kind == "slack":
                landed = _slack_count(posts, sub, period)
            else:
                landed = int(Path(sub.destination, f"report-{sub.id}-{period}.eml").is_file())
            assert landed == 1 if row.status == "sent" else landed <= 1, (sub.id, period, row)
    print(
        f"\ndelivery kills: {kills} kills; ledger {dict(statuses)}; "
        f"{sum(mail_ids.values())} mails, {sum(posts.values())} Slack posts, no duplicates"
    )


def _slack_count(posts, sub, period):
    day = datetime.fromisoformat(period) - timedelta(days=1)  # a report describes the day before
    label = f"{day:%a %-d %b %Y}"
    return sum(n for (channel, head), n in posts.items()
               if channel == sub.destination and label in head)  # fmt: skip
