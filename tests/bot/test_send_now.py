"""`claritybot subscriptions send ID`: the current report at once, the ledger untouched."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, create_engine, select

from store.models import Delivery
from tests.fakes.slack_api import FakeSlack
from tests.reports.test_mail import Inbox, free_port


@pytest.fixture
def smtp():
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def fake_slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def ledger_rows(cli) -> list[Delivery]:
    engine = create_engine(cli.environ["DATABASE_URL"])
    with Session(engine) as session:
        rows = list(session.exec(select(Delivery)))
    engine.dispose()
    return rows


def test_send_delivers_once_to_each_destination_and_leaves_the_ledger(
    cli, source, tmp_path, smtp, fake_slack
):
    inbox, port = smtp
    cli.environ |= {"SMTP_URL": f"smtp://127.0.0.1:{port}", "MAIL_FROM": "bot@example.com",
                    "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake_slack.url}  # fmt: skip
    outbox = tmp_path / "out"
    ids = {}
    for kind, flag, dest in [("email", "--email", "ann@example.com"),
                             ("slack", "--channel", "C0123"),
                             ("outbox", "--outbox", str(outbox))]:  # fmt: skip
        code, out, err = cli("subscribe", "--source", source, "--metric", "digest", flag, dest)
        assert code == 0, err
        ids[kind] = out.strip()
    fake_slack.reset()
    for kind, sub_id in ids.items():
        code, out, err = cli("subscriptions", "send", sub_id)
        assert code == 0, (kind, err)
        assert f"Sent subscription {sub_id}'s report" in out
    assert len(inbox.messages) == 1 and inbox.messages[0]["To"] == "ann@example.com"
    posts = fake_slack.called("chat.postMessage") + fake_slack.called(
        "files.completeUploadExternal"
    )
    assert len(fake_slack.called("files.completeUploadExternal")) <= 1 and posts
    assert len(list(outbox.glob("*.eml"))) == 1
    assert ledger_rows(cli) == []
    # --to another address of the same kind; a wrong kind of address is refused plainly.
    assert cli("subscriptions", "send", ids["email"], "--to", "bob@example.com")[0] == 0
    assert inbox.messages[-1]["To"] == "bob@example.com" and len(inbox.messages) == 2
    code, _, err = cli("subscriptions", "send", ids["email"], "--to", "C0123")
    assert code == 2 and "is not an email address" in err
    assert cli("subscriptions", "send", "999")[0] == 2
    assert ledger_rows(cli) == []


def test_email_without_smtp_is_refused_with_what_to_set(cli, source):
    code, out, err = cli("subscribe", "--source", source, "--metric", "digest",
                         "--email", "ann@example.com")  # fmt: skip
    assert code == 2 and out == ""
    assert "SMTP_URL" in err and "MAIL_FROM" in err
