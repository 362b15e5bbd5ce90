"""A container restart: `claritybot worker` as PID 1 of a fresh PID namespace, killed and restarted.

The restarted worker is PID 1 again, so a claim's PID says nothing; the dead (or stopped) owner's
lease runs out and the new worker takes over. The worker clock runs at a quarter of real speed
(--speed), so a busy machine's seconds count four times less against the lease being measured;
waits are on observable state (rows, sandbox calls) and their bounds only catch a hang.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from select import select as readable

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, func, select

from reports.clarity.sandbox import ClaritySandbox
from reports.delivery.subscriptions import NewSubscription, subscribe
from store.crypto import generate_key
from store.ledger import FINAL
from store.models import Delivery, QuotaCall, RunLog, SnapshotClaim
from tests.bot.test_worker_processes import connect, stored_groups, wait_until
from tests.fakes.slack_api import FakeSlack

pytestmark = pytest.mark.soak
ROOT = Path(__file__).resolve().parents[2]
LEASE = 3.0  # worker seconds
SPEED = 0.25  # worker seconds per real second
DAY = date(2026, 3, 8)
CHANNEL = "C0RESTART"


@pytest.fixture(scope="module", autouse=True)
def namespaces() -> None:
    """Skip when this machine cannot make PID namespaces (not root, or seccomp forbids it)."""
    try:
        done = subprocess.run(
            ["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"unshare is not usable here: {exc}")
    if done.returncode != 0:
        pytest.skip(f"unshare --pid failed: {done.stderr.decode().strip()}")


class Timeline:
    """One simulated clock shared by the sandbox and every worker started on it."""

    def __init__(self, sandbox: ClaritySandbox, start: datetime) -> None:
        self.sandbox, self.start, self.wall = sandbox, start, time.time()
        sandbox.clock = self.now

    def now(self) -> datetime:
        """The workers' clock reading now."""
        return self.start + timedelta(seconds=(time.time() - self.wall) * SPEED)


class Container:
    """A worker as PID 1 of its own PID namespace; `pid` is its host PID (the namespace's init)."""

    started: list[Container] = []  # every container of the running test, for `reap_containers`

    def __init__(self, env: dict[str, str], line: Timeline) -> None:
        args = ["--now", line.start.isoformat(), "--wall-start", str(line.wall)]
        args += ["--speed", str(SPEED), "--interval", "0.2"]
        self.proc = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-m", "bot", "worker"]
            + args,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        assert wait_until(lambda: children.read_text().strip() != "", timeout=60)
        self.pid = int(children.read_text().split()[0])
        self.log = b""
        Container.started.append(self)

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)  # init of a namespace: its death ends the namespace, as in Docker

    def stopped(self) -> bool:
        """True once every thread of the worker has stopped (a SIGSTOP lands asynchronously)."""
        states = (t / "stat" for t in Path(f"/proc/{self.pid}/task").iterdir())
        return all(stat.read_text().rsplit(")", 1)[1].split()[0] == "T" for stat in states)

    def stop_between_writes(self, engine) -> None:
        """SIGSTOP the worker at a moment it holds no write transaction.

        A process stopped inside one keeps SQLite's write lock (or PostgreSQL's row locks) for as
        long as it stays stopped, and no lease can free that; the hang meant here is one between
        writes (mid-call, mid-compose), so a stop that lands inside a write is undone and retried.
        """
        for _ in range(500):
            self.signal(signal.SIGSTOP)
            assert wait_until(self.stopped, timeout=60)
            if not holds_a_write(engine):
                return
            self.signal(signal.SIGCONT)
            time.sleep(0.005)
        pytest.fail("the worker was inside a write transaction at every one of 500 stops")

    def wait_started(self) -> None:
        """Wait for the "started" line (before it PID 1 ignores SIGTERM: it has no handler yet)."""
        deadline = time.monotonic() + 300
        while b"started" not in self.log and time.monotonic() < deadline:
            ready, _, _ = readable([self.proc.stderr], [], [], 0.1)
            if ready and self.proc.stderr is not None:
                self.log += os.read(self.proc.stderr.fileno(), 4096)
        assert b"started" in self.log, self.log.decode()

    def up(self, line: Timeline) -> datetime:
        """Wait until the worker runs; return when (worker clock): its start-up is not ours."""
        self.wait_started()
        return line.now()

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.proc.communicate(timeout=300)

    def stop(self) -> str:
        """SIGTERM: the worker finishes its tick and leaves; return everything it logged."""
        self.wait_started()
        self.signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=300)
        log = (self.log + err).decode()
        assert self.proc.returncode == 0, log
        assert "Traceback" not in log, log
        return log


def holds_a_write(engine) -> bool:
    """Whether some other connection holds a write transaction open on the test database."""
    if engine.dialect.name == "sqlite":
        probe = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
    )
    with engine.connect() as conn:
        return bool(conn.execute(query).scalar_one())


@pytest.fixture(autouse=True)
def reap_containers() -> Iterator[None]:
    """Kill whatever a failed test left running, so its failure is the only one reported."""
    yield
    for container in Container.started:
        if container.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                container.signal(signal.SIGKILL)  # the init first: a stopped one ignores the rest
            container.proc.kill()
        container.proc.communicate(timeout=60)
    Container.started.clear()


@pytest.fixture
def world(engine, db_url, tmp_path):
    key = generate_key()
    slack = FakeSlack().start()
    with ClaritySandbox() as sandbox:
        source = connect(engine, sandbox, key, "shop", datetime(2026, 3, 8, 12, tzinfo=UTC))
        sandbox.timeout_seconds = 0.3  # every answer takes a while: kills land mid-call
        sandbox.fail_next("timeout", times=100_000)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": db_url,
            "CLARITYBOT_SECRET_KEY": key,
            "CLARITY_API_URL": sandbox.url,
            "CLARITY_MANUAL_RESERVE": "0",
            "CLARITY_TIMEOUT_SECONDS": "120",
            "CLARITYBOT_LEASE_SECONDS": str(LEASE),
            "SLACK_BOT_TOKEN": "xoxb-restart",
            "SLACK_API_URL": slack.url,
        }
        yield engine, env, sandbox, source, slack
    slack.stop()


def claim_owner(engine) -> str | None:
    with Session(engine) as session:
        row = session.exec(select(SnapshotClaim).where(SnapshotClaim.local_date == DAY)).first()
    return row.owner if row else None


def day_done_at(engine) -> datetime:
    """When (worker clock) the last of the day's runs finished."""
    with Session(engine) as session:
        query = select(func.max(RunLog.finished_at)).where(RunLog.local_date == DAY)
        done = session.exec(query).one()
    assert done is not None
    return done if done.tzinfo else done.replace(tzinfo=UTC)


def delivery(engine) -> Delivery | None:
    with Session(engine) as session:
        return session.exec(select(Delivery)).first()


def assert_calls(sandbox, kills: int) -> None:
    """Five groups stored; at most the call in flight lost per kill; no group called twice else."""
    groups = Counter(c.dimensions for c in sandbox.calls)
    assert len(groups) == 5
    assert 5 <= len(sandbox.calls) <= 5 + kills, groups
    assert sum(n - 1 for n in groups.values()) <= kills, groups


def assert_no_slot_in_flight(engine) -> None:
    with Session(engine) as session:
        query = select(func.count()).select_from(QuotaCall).where(col(QuotaCall.outcome).is_(None))
        assert session.exec(query).one() == 0


def posts(slack) -> int:
    return sum(c.params.get("channel") == CHANNEL for c in slack.called("chat.postMessage"))


def subscribe_digest(engine, source) -> None:
    request = NewSubscription(
        source_id=source, metrics=["digest"], kind="slack", destination=CHANNEL, timezone="UTC"
    )
    subscribe(engine, request, workspace_id=None, now=datetime(2026, 3, 9, 8, tzinfo=UTC))


def test_sigkill_mid_snapshot_and_mid_delivery_restart_as_pid_1(world):
    engine, env, sandbox, source, slack = world
    line = Timeline(sandbox, datetime(2026, 3, 9, 0, 2, tzinfo=UTC))  # 03-08 is due
    first = Container(env, line)
    assert wait_until(lambda: len(sandbox.calls) >= 2)  # the second call is in flight
    first.kill()
    killed_at = line.now()
    assert (claim_owner(engine) or "").split(":")[1] == "1"  # its claim was PID 1's
    second = Container(env, line)
    up = second.up(line)
    assert wait_until(lambda: stored_groups(engine, DAY) == 5)
    snapshot_recovery = day_done_at(engine) - max(killed_at, up)
    since_kill = day_done_at(engine) - killed_at
    second.stop()
    assert_calls(sandbox, kills=1)
    assert_no_slot_in_flight(engine)
    assert snapshot_recovery < timedelta(seconds=2 * LEASE)

    subscribe_digest(engine, source)
    line = Timeline(sandbox, datetime(2026, 3, 9, 9, 1, tzinfo=UTC))  # the 09:00 report is due
    third = Container(env, line)
    assert wait_until(lambda: (row := delivery(engine)) is not None and row.status == "claimed")
    third.kill()
    killed_at = line.now()
    row = delivery(engine)
    assert row is not None and (row.owner or "").split(":")[1] == "1"
    mid_compose = row.status == "claimed"  # the kill may land a moment later, mid-send
    fourth = Container(env, line)
    up = fourth.up(line)
    assert wait_until(lambda: (r := delivery(engine)) is not None and r.status in FINAL)
    fourth.stop()
    row = delivery(engine)
    assert row is not None
    if mid_compose:
        assert row.status == "sent" and posts(slack) == 1, (row, posts(slack))
        assert row.sent_at is not None
        sent_at = row.sent_at if row.sent_at.tzinfo else row.sent_at.replace(tzinfo=UTC)
        delivery_recovery = sent_at - max(killed_at, up)
        assert delivery_recovery < timedelta(seconds=2 * LEASE)
        print(f"\ncontainer restart: delivery sent {delivery_recovery} after restart or kill")
    else:
        assert row.status in ("sent", "unknown") and posts(slack) <= 1, (row, posts(slack))
    print(
        f"\ncontainer restart: 2 SIGKILLs of PID 1; day done {snapshot_recovery} after the "
        f"later of kill and restart, {since_kill} after the kill "
        f"(worker clock, lease {LEASE:g} s); {len(sandbox.calls)} calls for 5 groups"
    )


def test_sigstopped_pid_1_loses_its_lease_and_does_not_double_send(world):
    engine, env, sandbox, source, slack = world
    line = Timeline(sandbox, datetime(2026, 3, 9, 0, 2, tzinfo=UTC))
    hung = Container(env, line)
    assert wait_until(lambda: len(sandbox.calls) >= 2)
    hung.stop_between_writes(engine)  # alive, PID 1, holding its claim: renewing nothing
    stopped_at = line.now()
    other = Container(env, line)
    up = other.up(line)
    assert wait_until(lambda: stored_groups(engine, DAY) == 5)
    recovery = day_done_at(engine) - max(stopped_at, up)
    hung.signal(signal.SIGCONT)
    hung.stop()  # it finishes the tick it was in: the call it had in flight, nothing more
    other.stop()
    assert stored_groups(engine, DAY) == 5
    assert_calls(sandbox, kills=1)
    assert_no_slot_in_flight(engine)
    assert recovery < timedelta(seconds=2 * LEASE)

    subscribe_digest(engine, source)
    line = Timeline(sandbox, datetime(2026, 3, 9, 9, 1, tzinfo=UTC))
    hung = Container(env, line)
    assert wait_until(lambda: (row := delivery(engine)) is not None and row.status == "claimed")
    hung.stop_between_writes(engine)
    row = delivery(engine)
    assert row is not None
    mid_compose = row.status == "claimed"
    other = Container(env, line)
    assert wait_until(lambda: (r := delivery(engine)) is not None and r.status in FINAL)
    hung.signal(signal.SIGCONT)
    hung.stop()  # it wakes up mid-compose: its lease is gone, so it must not send
    other.stop()
    row = delivery(engine)
    assert row is not None
    if mid_compose:
        assert row.status == "sent" and posts(slack) == 1, (row, posts(slack))
    else:
        assert row.status in ("sent", "unknown") and posts(slack) <= 1, (row, posts(slack))
    print(
        f"\ncontainer SIGSTOP: day taken over {recovery} after the stop (worker clock); "
        f"{len(sandbox.calls)} calls for 5 groups; {posts(slack)} Slack post "
        f"(stopped mid-compose: {mid_compose})"
    )
