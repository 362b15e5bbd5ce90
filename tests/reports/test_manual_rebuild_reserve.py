"""Issue 12, point 7: a manual snapshot's rebuild calls stay inside what tonight's run leaves.

A snapshot taken within the hour after midnight is on time, so storing its day's totals also
rebuilds the missed days before it (2- and 3-day calls). Those calls are the manual snapshot's
too: here the project's other source (Kolkata) still has its night run before the UTC reset,
and the Tokyo snapshot's rebuilds must not take its calls. Counted on the sandbox and the
ledger's rows; the windows are worked out here with zoneinfo.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import Session, select

from reports.clarity.client import ClarityClient
from reports.clarity.sandbox import ClaritySandbox
from reports.ingest.calls import GuardedCaller
from reports.ingest.scheduler import Scheduler
from reports.ingest.snapshot import Snapshotter
from reports.ingest.sources import add_source
from store import quota, repository
from store.crypto import TokenCipher, generate_key
from store.models import QuotaCall, Snapshot
from store.vocab import Purpose

TOKYO, KOLKATA = ZoneInfo("Asia/Tokyo"), ZoneInfo("Asia/Kolkata")
MANUAL_AT = datetime(2026, 12, 2, 0, 30, tzinfo=TOKYO)  # 30 min after Tokyo's midnight: on time
KOLKATA_RUN = datetime(2026, 12, 2, 0, 1, tzinfo=KOLKATA)  # its 1 Dec run, before the UTC reset
AUTOMATIC = 8  # Clarity's 10 a day, less the 2 the default policy keeps for manual use
GROUPS = 5


def workspace(engine, name: str, zone: ZoneInfo) -> int:
    with Session(engine) as session:
        found = repository.ensure_workspace(session=session, name=name)
        found.timezone = zone.key
        session.add(found)
        session.commit()
        return found.id or 0


@pytest.fixture
def world(engine):
    cipher = TokenCipher(generate_key())
    with ClaritySandbox() as box, httpx.Client(timeout=10) as http:
        client = ClarityClient(http=http, base_url=box.url)
        snap = Snapshotter(engine=engine, client=client, cipher=cipher, owner="h:1:manual")
        tokyo = add_source(
            engine,
            cipher=cipher,
            label="Tokyo shop",
            raw_token=box.issue_token("shop"),
            now=datetime(2026, 11, 29, 9, tzinfo=TOKYO),  # 29 and 30 Nov were never taken
            workspace_id=workspace(engine, "tokyo", TOKYO),
        )
        kolkata = add_source(
            engine,
            cipher=cipher,
            label="Kolkata shop",
            raw_token=box.issue_token("shop"),  # the same Clarity project, and quota
            now=datetime(2026, 12, 1, 9, tzinfo=KOLKATA),  # only 1 Dec to take tonight
            workspace_id=workspace(engine, "kolkata", KOLKATA),
        )
        yield box, client, snap, tokyo, kolkata


def calls_on(engine, utc_day: date) -> Counter[str]:
    with Session(engine) as session:
        rows = session.exec(select(QuotaCall).where(QuotaCall.utc_day == utc_day))
        return Counter(r.purpose for r in rows)


def groups_stored(engine, source_id: int, day: date) -> int:
    with Session(engine) as session:
        query = select(Snapshot.fetch_group).where(
            Snapshot.source_id == source_id, Snapshot.local_date == day
        )
        return len(set(session.exec(query)))


def test_rebuild_calls_of_a_manual_snapshot_leave_the_night_run_its_calls(engine, world):
    box, client, snap, tokyo, kolkata = world
    utc_day = MANUAL_AT.astimezone(UTC).date()
    assert KOLKATA_RUN.astimezone(UTC).date() == utc_day  # both on 1 Dec UTC: one budget
    box.set_now(MANUAL_AT)
    caller = GuardedCaller(engine=engine, client=client, policy=quota.QuotaPolicy())
    with Session(engine) as session:
        source = repository.get_source(session=session, source_id=tokyo)
    token = box.issue_token("shop")
    for _ in range(2):  # two manual looks earlier that UTC day
        result = caller.call(
            source=source,
            call=client.prepare(token, 1, ()),
            group="look",
            purpose=Purpose.MANUAL,
            now=MANUAL_AT,
        )
        assert result.reply is not None
    # Kolkata's run needs 5 of the 8 automatic slots: manual work may reach slot 3, and the
    # two looks took 2 of them, so the snapshot gets one call (its totals) and no rebuilds.
    leaves = AUTOMATIC - GROUPS

    result = snap.take_yesterday(tokyo, now=MANUAL_AT, purpose=Purpose.MANUAL)

    assert result.local_date == date(2026, 12, 1)
    assert {r.day for r in result.recovered} == {date(2026, 11, 29), date(2026, 11, 30)}
    assert all(r.status == "refused" for r in result.recovered), result.recovered
    spent = calls_on(engine, utc_day)
    assert sum(spent.values()) == leaves, spent
    assert len(box.calls) == leaves

    box.set_now(KOLKATA_RUN)
    scheduler = Scheduler(
        engine=engine, snapshotter=snap, policy=quota.QuotaPolicy(), owner="h:2:night"
    )
    scheduler.tick(KOLKATA_RUN.astimezone(UTC))
    # The night run gets the 5 calls it was promised (Tokyo's 4 refused parts, taken first,
    # and one of Kolkata's: the 5 the run needs are more than a day has left after manual use).
    assert calls_on(engine, utc_day)["scheduled"] == GROUPS
    assert (
        groups_stored(engine, tokyo, date(2026, 12, 1))
        + groups_stored(engine, kolkata, date(2026, 12, 1))
        == 1 + GROUPS
    )
