"""Manual live looks reserve atomically within what tonight's run leaves them, on every backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import Session, select

from reports.clarity.client import ClarityClient
from reports.clarity.sandbox import ClaritySandbox
from reports.ingest.live import RefreshRefused, live_look
from store import quota
from store.crypto import TokenCipher, generate_key
from store.models import QuotaCall, Source
from tests.reports.test_scheduler import make_source

# 09:00 UTC is 23:00 in Kiritimati (UTC+14): tonight's five calls run at 10:00 UTC, before the
# UTC reset, so of the 8 automatic slots a manual look may take only 8 - 5 = 3.
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
POLICY = quota.QuotaPolicy(daily_cap=10, manual_reserve=2)
ALLOWED = (POLICY.daily_cap - POLICY.manual_reserve) - 5


@pytest.mark.slow
@pytest.mark.soak
def test_50_concurrent_refreshes_never_exceed_the_manual_budget(engine):
    cipher = TokenCipher(generate_key())
    with ClaritySandbox() as sandbox, httpx.Client(timeout=10) as http:
        sandbox.set_now(NOW)
        sid = make_source(engine, cipher, sandbox, tz="Pacific/Kiritimati", created=NOW)
        with Session(engine) as session:
            source = session.get(Source, sid)
            session.expunge(source)
        client = ClarityClient(http=http, base_url=sandbox.url)

        def refresh(_: int) -> str:
            try:
                live_look(engine, client=client, cipher=cipher, policy=POLICY, source=source,
                          now=NOW)  # fmt: skip
            except RefreshRefused as exc:
                return str(exc)
            return "ok"

        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(refresh, range(50)))
        calls = len(sandbox.calls)
    with Session(engine) as session:
        manual = session.exec(select(QuotaCall).where(QuotaCall.purpose == "manual")).all()
    assert answers.count("ok") == ALLOWED == len(manual) == calls
    refused = [a for a in answers if a != "ok"]
    assert all("tonight's snapshot still needs 5" in a and "00:01 UTC" in a for a in refused)
