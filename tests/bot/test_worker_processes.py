"""Real `claritybot worker` processes against one database: exactly once, also through kill -9."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from select import select as readable

import pytest
from sqlmodel import Session, func, select

from reports.clarity.sandbox import ClaritySandbox
from reports.ingest import sources
from store import repository
from store.crypto import TokenCipher, generate_key
from store.models import DayGap, MetricRow, QuotaCall, Snapshot

ROOT = Path(__file__).resolve().parents[2]
SIM_START = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
# A killed worker's claim is taken over when its lease runs out (its PID says nothing): the kill
# test's restarts wait out a 5 s lease, not the default 10 minutes.
KILL_LEASE = "5"


def worker(db_url, key, sandbox, *args, reserve="2", extra=None):
    env = {
        **(extra or {}),
        "CLARITY_MANUAL_RESERVE": reserve,
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": db_url,
        "CLARITYBOT_SECRET_KEY": key,
        "CLARITY_API_URL": sandbox.url,
        "CLARITY_TIMEOUT_SECONDS": "120",  # a busy machine never turns a call into a failure
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "worker", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def connect(engine, sandbox, key, project, created):
    with Session(engine) as session:
        repository.default_workspace(session=session)
        session.commit()
    token = sandbox.issue_token(project)
    cipher = TokenCipher(key)
    return sources.add_source(engine, cipher=cipher, label=project, raw_token=token, now=created)


def wait_until(condition, timeout=300.0):
    """Poll `condition` until true; the timeout only bounds a hang, it is never a race."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def wait_started(proc, timeout=300.0):
    """Wait for the worker's "started" line: before it, SIGTERM would hit Python's default."""
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline and b"started" not in seen and proc.poll() is None:
        ready, _, _ = readable([proc.stderr], [], [], 0.1)
        if ready:
            seen += os.read(proc.stderr.fileno(), 4096)
    assert b"started" in seen, seen.decode()


def stop(proc):
    wait_started(proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()


def start_at(sandbox, db_url, key, sim_now, *, count=1, reserve="2", lease=None):
    """Start `count` workers whose clock (and the sandbox's) reads `sim_now` now, at real speed."""
    # The test sets the instant; a busy machine only makes a tick later by the seconds it is
    # slow, never by the hours the scheduler's rules are about.
    wall = time.time()
    sandbox.clock = lambda: sim_now + timedelta(seconds=time.time() - wall)
    args = ["--now", sim_now.isoformat(), "--wall-start", str(wall), "--interval", "0.2"]
    extra = {"CLARITYBOT_LEASE_SECONDS": lease} if lease else {}
    return [worker(db_url, key, sandbox, *args, reserve=reserve, extra=extra) for _ in range(count)]


@pytest.mark.soak
def test_two_workers_over_three_simulated_days_take_each_snapshot_once(engine, db_url):
    key = generate_key()
    with ClaritySandbox() as sandbox:
        for project in ("shop", "blog"):
            connect(engine, sandbox, key, project, SIM_START)
        # The test steps the clock: before the first midnight, then just after each of three
        # (past every source's spread). At each step two workers start together and compete
        # for the night's snapshots until both sources' five groups are stored.
        nights = [datetime(2026, 3, d, 0, 10, tzinfo=UTC) for d in (9, 10, 11)]
        for step in [SIM_START, *nights]:
            workers = start_at(sandbox, db_url, key, step, count=2)
            day = (step - timedelta(days=1)).date()
            expected = 0 if step == SIM_START else 2 * 5
            assert wait_until(lambda d=day, n=expected: stored_groups(engine, d) == n)
            for proc in workers:
                stop(proc)  # each has ticked at least once: its first tick runs before SIGTERM
            if step == SIM_START:
                assert sandbox.calls == []  # both ticked before midnight: nothing was due
        calls = Counter((c.project, c.at.date(), c.dimensions) for c in sandbox.calls)
    assert len(sandbox.calls) == 2 * 3 * 5
    assert set(calls.values()) == {1}  # no (project, day, group) was called twice
    with Session(engine) as session:
        days = Counter((s.source_id, s.local_date) for s in session.exec(select(Snapshot)))
        assert session.exec(select(func.count()).select_from(DayGap)).one() == 0
    assert sorted(days.values()) == [5] * 6


def stored_groups(engine, day):
    with Session(engine) as session:
        query = select(func.count()).select_from(Snapshot).where(Snapshot.local_date == day)
        return session.exec(query).one()


@pytest.mark.soak
def test_kill_9_at_random_points_loses_at_most_the_call_in_flight(engine, db_url):
    key, rng = generate_key(), random.Random(20261122)
    day = datetime(2026, 3, 8).date()
    sim_now = datetime(2026, 3, 9, 0, 2, tzinfo=UTC)  # 03-08 is due
    kills = kills_today = 0
    with ClaritySandbox() as sandbox:
        connect(engine, sandbox, key, "shop", datetime(2026, 3, 8, 12, tzinfo=UTC))
        sandbox.timeout_seconds = 0.15  # every answer takes a while: kills land mid-call
        sandbox.fail_next("timeout", times=100_000)
        while kills < 20:
            remaining = 5 - stored_groups(engine, day)
            if remaining == 0:
                day += timedelta(days=1)
                sim_now = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
                sim_now += timedelta(minutes=2)
                kills_today = 0
                continue
            before = len(sandbox.calls)
            # No manual reserve here: all 10 calls of a day are the scheduler's, so up to five
            # kills (five wasted calls) fit in one day's quota.
            (proc,) = start_at(sandbox, db_url, key, sim_now, reserve="0", lease=KILL_LEASE)
            if kills_today == 5:  # the day's quota has room for no more waste: let it finish
                assert wait_until(lambda d=day: stored_groups(engine, d) == 5)
                stop(proc)
            else:
                target = before + rng.randint(1, remaining)
                assert wait_until(lambda t=target: len(sandbox.calls) >= t)
                time.sleep(rng.uniform(0, 0.3))  # mid-call, mid-store or between calls
                proc.send_signal(signal.SIGKILL)
                proc.communicate(timeout=300)
                kills, kills_today = kills + 1, kills_today + 1
            sim_now = sandbox.clock()
        # A restart finishes every day that was due, without calling anything twice.
        (proc,) = start_at(sandbox, db_url, key, sim_now, reserve="0", lease=KILL_LEASE)
        assert wait_until(lambda: stored_groups(engine, day) == 5)
        time.sleep(0.5)
        stop(proc)
        calls = len(sandbox.calls)
    with Session(engine) as session:
        snaps = session.exec(select(Snapshot)).all()
        gaps = session.exec(select(DayGap)).all()
        abandoned = session.exec(select(QuotaCall).where(QuotaCall.outcome == "abandoned")).all()
        rows = Counter(session.exec(select(MetricRow.snapshot_id)).all())
    per_day = Counter(s.local_date for s in snaps)
    assert set(per_day.values()) == {5} and len(per_day) >= 5  # every due day complete
    assert len({(s.local_date, s.fetch_group) for s in snaps}) == len(snaps)  # no duplicates
    assert all(rows[s.id] == s.row_count for s in snaps)  # rows match what each snapshot said
    assert gaps == []  # nothing lost that could be taken
    assert len(snaps) <= calls <= len(snaps) + kills  # at most the call in flight per kill
    assert len(abandoned) <= kills
