"""Issue 12, points 6 and 7 and the demo's "Done when" (the map of all ten points is in
test_numbers_trust.py): manual snapshots keep the 12-hour rule, manual calls never take the
calls tonight's run needs, and the demo's digest shows Clarity's dashboard figures.

Every instant below is stated in local time and its UTC day worked out here with zoneinfo;
the calls are counted on the sandbox and in the quota ledger, never through our quota code.
"""

from __future__ import annotations

import email
import io
import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import Session, select

from bot.cli import main
from bot.slack.commands import connect
from bot.slack.services import SlackServices
from reports.clarity.client import ClarityClient
from reports.clarity.sandbox import DEMO_PROFILE, ClaritySandbox
from reports.clarity.sandbox.data import window_visits
from reports.ingest.live import RefreshRefused, live_look
from store import quota, repository
from store.crypto import TokenCipher, generate_key
from store.db import make_engine
from store.models import QuotaCall, Snapshot, Source

LA, TOKYO = ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Tokyo")
GROUPS = 5  # the default plan: overall, pages, devices, channels, sources
AUTOMATIC = 10 - 2  # Clarity's 10 a day, less the 2 the default policy keeps for manual use


class World:
    """A database, the sandbox and the CLI, all at the instant a step says."""

    def __init__(self, tmp_path, box: ClaritySandbox, http: httpx.Client) -> None:
        self.key, self.box, self.tmp = generate_key(), box, tmp_path
        url = f"sqlite:///{tmp_path / 'trust.db'}"
        self.env = {
            "DATABASE_URL": url,
            "CLARITYBOT_SECRET_KEY": self.key,
            "CLARITY_API_URL": box.url,
            "CLARITY_TIMEOUT_SECONDS": "5",
        }
        self.client = ClarityClient(http=http, base_url=box.url)
        self.engine = None

    def cli(self, *argv: str, at: datetime) -> tuple[int, str, str]:
        self.box.set_now(at)
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), environ=self.env, out=out, err=err, clock=lambda: at)
        return code, out.getvalue(), err.getvalue()

    def db(self):
        self.engine = self.engine or make_engine(self.env["DATABASE_URL"])
        return self.engine

    def add_shop(self, zone: ZoneInfo, created: datetime) -> None:
        (self.tmp / "token.txt").write_text(self.box.issue_token("shop") + "\n")
        self.zone(zone, created)
        token = str(self.tmp / "token.txt")
        assert (
            self.cli("sources", "add", "--label", "Shop", "--token-file", token, at=created)[0] == 0
        )

    def zone(self, zone: ZoneInfo, at: datetime) -> None:
        assert self.cli("timezone", zone.key, at=at)[0] == 0

    def connect(self, project: str, at: datetime) -> str:
        self.box.set_now(at)
        services = SlackServices(
            engine=self.db(), cipher=TokenCipher(self.key), clarity=self.client, clock=lambda: at
        )
        with Session(self.db()) as session:
            workspace = repository.default_workspace(session=session).id or 0
        return connect(services, workspace, "U1", self.box.issue_token(project), project).text

    def ledger(self, label: str = "Shop") -> Counter:
        """(UTC day, purpose) → calls of a source's Clarity project, as the ledger has them."""
        with Session(self.db()) as session:
            key = session.exec(select(Source.project_key).where(Source.label == label)).first()
            rows = session.exec(select(QuotaCall).where(QuotaCall.project_key == key))
            return Counter((r.utc_day, r.purpose) for r in rows)

    def stored(self, day: date, label: str = "Shop") -> set[str]:
        with Session(self.db()) as session:
            sid = session.exec(select(Source.id).where(Source.label == label)).one()
            rows = session.exec(
                select(Snapshot.fetch_group).where(
                    Snapshot.source_id == sid, Snapshot.local_date == day
                )
            )
            return set(rows)


@pytest.fixture
def world(tmp_path):
    with ClaritySandbox() as box, httpx.Client(timeout=10) as http:
        made = World(tmp_path, box, http)
        yield made
        if made.engine is not None:
            made.engine.dispose()


def test_point6_past_now_is_refused_without_a_call(world):
    now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    world.add_shop(ZoneInfo("UTC"), now - timedelta(days=2))
    code, _, err = world.cli("snapshot", "--source", "1", "--now", "2026-11-28T09:00:00Z", at=now)
    assert code == 2 and "is not the current time" in err and "cannot fetch the past" in err
    assert world.box.calls == [] and world.ledger() == Counter()


def test_point6_and_7_la_at_8pm_manual_calls_leave_the_night_run_its_calls(world):
    evening = datetime(2026, 12, 2, 20, tzinfo=LA)
    midnight = datetime(2026, 12, 3, 0, 5, tzinfo=LA)  # tonight's run, for 2 Dec
    # West of UTC the quota day turns at 16:00 local: 20:00 and the coming midnight share it.
    utc_day = date(2026, 12, 3)
    assert evening.astimezone(UTC).date() == midnight.astimezone(UTC).date() == utc_day
    assert datetime(2026, 12, 4, tzinfo=UTC).astimezone(LA).hour == 16
    world.add_shop(LA, datetime(2026, 12, 2, 9, tzinfo=LA))

    # The snapshot and /clarity connect: 1 Dec's window now holds 20 h of 2 Dec; no call.
    code, _, err = world.cli("snapshot", "--source", "1", at=evening)
    assert code == 2 and "can no longer be taken directly" in err and "no call was spent" in err
    reply = world.connect("cafe", evening)
    assert reply.startswith("Connected") and "can no longer be taken directly" in reply
    assert world.box.calls == []

    # Live looks take only what the night leaves: 8 - 5 = 3, then a refusal saying when.
    with Session(world.db()) as session:
        shop = session.exec(select(Source).where(Source.label == "Shop")).one()
    answers = []
    for _ in range(AUTOMATIC):
        try:
            live_look(
                world.db(),
                client=world.client,
                cipher=TokenCipher(world.key),
                policy=quota.QuotaPolicy(),
                source=shop,
                now=evening,
            )
            answers.append("ok")
        except RefreshRefused as exc:
            answers.append(str(exc))
    assert answers.count("ok") == AUTOMATIC - GROUPS
    assert "00:01 UTC (16:01 on Thu 3 Dec in America/Los_Angeles)" in answers[-1]

    assert world.cli("tick", "--now", midnight.astimezone(UTC).isoformat(), at=midnight)[0] == 0
    assert world.stored(date(2026, 12, 2)) == {"overall", "pages", "devices", "channels", "sources"}
    assert world.ledger() == Counter({(utc_day, "manual"): 3, (utc_day, "scheduled"): 5})


@pytest.mark.parametrize("how", ["snapshot", "connect"])
def test_point7_a_manual_snapshot_takes_only_what_tonight_leaves(world, how):
    """East of UTC (Tokyo) a morning snapshot of yesterday passes the 12-hour rule and shares
    its UTC day with tonight's run: it takes 8 - 5 = 3 calls and says when calls free up."""
    morning = datetime(2026, 12, 2, 10, tzinfo=TOKYO)
    midnight = datetime(2026, 12, 3, 0, 5, tzinfo=TOKYO)
    utc_day = date(2026, 12, 2)
    assert morning.astimezone(UTC).date() == midnight.astimezone(UTC).date() == utc_day
    if how == "snapshot":
        world.add_shop(TOKYO, datetime(2026, 12, 1, 9, tzinfo=TOKYO))
        code, out, _ = world.cli("snapshot", "--source", "1", "--json", at=morning)
        found = json.loads(out)
        assert code == 1 and found["calls_spent"] == AUTOMATIC - GROUPS
        text = " ".join(g["message"] or "" for g in found["groups"])
        label = "Shop"
    else:
        world.zone(TOKYO, morning)
        text = world.connect("shop", morning)
        assert "3 of 5 parts stored" in text
        label = "shop"
    assert "tonight's run still needs 5 of the 8" in text
    assert "Calls free up at 00:00 UTC (09:00 on Thu 3 Dec in Asia/Tokyo)" in text
    assert world.stored(date(2026, 12, 1), label) == {"overall", "pages", "devices"}

    world.cli("tick", "--now", midnight.astimezone(UTC).isoformat(), at=midnight)
    assert len(world.stored(date(2026, 12, 2), label)) == GROUPS  # tonight got every call
    purpose = "connect" if how == "connect" else "manual"
    assert world.ledger(label) == Counter({(utc_day, purpose): 3, (utc_day, "scheduled"): 5})


# -- the demo: Clarity's dashboard figures, and nothing before it was connected ---------------

SIGNALS = {
    "sessions_with_rage_clicks": 2,
    "sessions_with_dead_clicks": 0,
    "sessions_with_quick_backs": 3,
}  # index in a page view's events


def _truth(end: datetime, signal: int) -> float:
    """Clarity's dashboard figure for one 24 h window: % of human sessions with the event."""
    humans, _ = window_visits(DEMO_PROFILE, "demo", 7, end, 1)
    return 100 * sum(1 for v in humans if any(p.events[signal] for p in v.pages)) / len(humans)


def _digest_text(run) -> str:
    msg = email.message_from_bytes(run.digest.read_bytes())
    parts = [
        p.get_payload(decode=True).decode()
        for p in msg.walk()
        if p.get_content_type() == "text/plain"
    ]
    return str(msg["Subject"]) + "\n" + "\n".join(parts)


def test_done_when_the_demo_digest_shows_dashboard_rates(demo_history):
    run = demo_history
    engine = make_engine(f"sqlite:///{run.db_path}")
    with Session(engine) as session:
        overall = Snapshot.fetch_group == "overall"
        last = session.exec(
            select(Snapshot).where(overall, Snapshot.local_date == date(2026, 3, 19))
        ).one()
    engine.dispose()
    text = _digest_text(run)
    for key, signal in SIGNALS.items():
        label = "Sessions with " + key.removeprefix("sessions_with_").replace("_", " ")
        share = _truth(last.window_end.replace(tzinfo=UTC), signal)
        shown = f"{share:.1f} %" if share < 10 else f"{share:.0f} %"
        assert f"{label}: {shown} (" in text, (label, shown)
        # a change of a share is in points, never relative
        assert re.search(rf"{label}: [\d.]+ % \((?:[▲▼] [\d.]+|±0) pp vs", text), label
    assert "per 100 sessions %" not in text


def test_done_when_the_demo_digest_says_nothing_before_it_was_connected(demo_history):
    run = demo_history
    connected = date(2026, 3, 11)  # nine nights to Fri 20 Mar: the first stored day
    text = _digest_text(run)
    claims = [int(m) for m in re.findall(r"of (?:the last )?(\d+) days", text)]
    assert claims, text  # the digest does speak of days…
    assert max(claims) <= (date(2026, 3, 19) - connected).days + 1  # …never of days before
