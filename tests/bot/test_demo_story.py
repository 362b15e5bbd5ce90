"""Issue 15: `claritybot demo` tells a short story, and its email says what the terminal says."""

from __future__ import annotations

import email
import io
import re
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.cli import main
from reports.clarity.sandbox import DEMO_PROFILE
from reports.clarity.sandbox.data import window_visits
from store.db import make_engine
from store.models import Snapshot

SEED = 7  # the sandbox's default seed
DIGEST_LABELS = (
    "Sessions",
    "Active time",
    "Scroll depth",
    "Sessions with rage clicks",
    "Sessions with dead clicks",
    "Sessions with quick backs",
)
KEY_LINE = re.compile(r"^    (\S.*?)  +(\S.*?)  +(\S.*)$")


def run_demo(out_dir: Path, at: datetime, *extra: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["demo", "--days", "9", "--out", str(out_dir), *extra]
    assert main(argv, environ={}, out=out, err=err, clock=lambda: at) == 0, err.getvalue()
    return out.getvalue(), err.getvalue()


def eml_text(path: Path) -> str:
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    body = msg.get_body(("plain",))
    assert isinstance(body, email.message.EmailMessage)
    return str(body.get_content())


def email_keys(text: str) -> dict[str, tuple[str, str]]:
    """`Sessions: 863 (▲ 21 % vs Mon 2 Mar)` lines of the email's text part, by label."""
    found = {}
    for line in text.splitlines():
        label, _, rest = line.partition(": ")
        if label in DIGEST_LABELS and rest.endswith(")") and " (" in rest:
            value, _, change = rest[:-1].partition(" (")
            found[label] = (value, change)
    return found


def story_keys(story: str) -> dict[str, tuple[str, str]]:
    """The story's key-number lines: label, value and change in columns."""
    return {
        m.group(1): (m.group(2), m.group(3))
        for m in map(KEY_LINE.match, story.splitlines())
        if m and m.group(1) in DIGEST_LABELS
    }


def email_bullets(text: str) -> list[str]:
    """The email's summary bullets and the lines under them."""
    return [
        line.removeprefix("* ").removeprefix("    - ")
        for line in text.splitlines()
        if line.startswith(("* ", "    - "))
    ]


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 3, 10, 7, 0, tzinfo=UTC),  # before 09:00: the digest once covered Sun 8
        datetime(2026, 3, 10, 13, 0, tzinfo=UTC),
    ],
)
def test_the_story_and_the_emailed_digest_say_the_same_day_and_numbers(tmp_path, at):
    story, err = run_demo(tmp_path / "d", at)
    (eml,) = (tmp_path / "d" / "outbox").glob("report-1-2*.eml")
    text = eml_text(eml)
    day = "Mon 9 Mar 2026"  # the last simulated night took Monday: both say Monday
    assert text.splitlines()[0] == f"Demo shop (sandbox) · Daily report · {day}"
    assert f"  {day}, each against the same weekday a week before" in story
    assert f"– {day})" in story
    keys = story_keys(story)
    assert list(keys) == list(DIGEST_LABELS)
    assert keys == email_keys(text)
    flat = " ".join(story.split())
    bullets = email_bullets(text)
    assert len(bullets) >= 3 and all(" ".join(b.split()) in flat for b in bullets)
    assert str(eml) in story and err == ""


def test_the_story_s_sessions_are_the_sandbox_s_visitors(tmp_path):
    at = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    story, _ = run_demo(tmp_path / "d", at)
    engine = make_engine(f"sqlite:///{tmp_path / 'd' / 'claritybot.db'}")
    with Session(engine) as session:
        ends = {
            s.local_date.day: s.window_end.replace(tzinfo=UTC)
            for s in session.exec(select(Snapshot).where(Snapshot.fetch_group == "overall"))
        }
    engine.dispose()
    humans = {d: window_visits(DEMO_PROFILE, "demo", SEED, ends[d], 1)[0] for d in (9, 2)}
    monday, week_before = len(humans[9]), len(humans[2])
    change = round(100 * (monday - week_before) / week_before)
    arrow = "▲" if change > 0 else "▼"
    assert story_keys(story)["Sessions"] == (f"{monday}", f"{arrow} {abs(change)} % vs Mon 2 Mar")


def test_the_story_is_short_and_the_details_keep_every_table(tmp_path):
    at = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    story, err = run_demo(tmp_path / "d", at)
    assert len(story.splitlines()) <= 40 and err == ""  # no log lines, no key warning
    heads = [line for line in story.splitlines() if line and not line.startswith(" ")]
    assert heads[1:] == [
        "What happened",
        "What the history looks like (Sun 1 Mar – Mon 9 Mar 2026)",  # 9 nights
        "Open first",
    ]
    assert "claritybot demo --details --out " in story and "Daily totals" not in story
    again, _ = run_demo(tmp_path / "d", at, "--details")
    assert again.index("Open first") < again.index("\nDetails: every table behind the story\n")
    # A second run sends nothing new: its story reads the same sent digest back.
    assert "this run sent no calls" in again and story_keys(again) == story_keys(story)
    for title in (
        "Daily totals",
        "Run log",
        "Popular pages",
        "Top page titles",
        "Frustration by device",
        "Channels",
        "Clarity calls per UTC day",
        "Charts (PNG",
        "Alert rules",
    ):
        assert f"\n{title}" in again, title
    assert again.count(".png\n      ") == 5  # each chart with its text alternative
