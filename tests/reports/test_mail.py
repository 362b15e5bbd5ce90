"""Email digests through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import email
import socket
from datetime import UTC, date, datetime
from email import policy

import pytest
from aiosmtpd.controller import Controller

from reports.delivery.compose import Report, ReportChart
from reports.delivery.email import EmailSender, SmtpSender, build_message
from reports.errors import ConfigError, DeliveryError
from reports.settings import Settings, SmtpSettings
from store.models import Subscription

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


class Inbox:
    """aiosmtpd handler: keeps every message; can refuse a recipient."""

    def __init__(self):
        self.messages, self.refuse = [], set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def report(label="Shop", line="Sessions: 738 (▼ 12 % vs Tue 3 Mar)"):
    charts = (
        ReportChart("digest", "Key metrics", PNG, "Six small charts.", ""),
        ReportChart("top_pages_by_sessions", "Top pages", PNG, f"Top page {HOSTILE}", line),
    )
    return Report(7, "2026-03-10", label, "Daily report", "Mon 9 Mar 2026", date(2026, 3, 9),
                  charts, line, (f"Page title {HOSTILE} changed",), True)  # fmt: skip


def sub(destination="ann@example.com"):
    return Subscription(id=7, workspace_id=1, source_id=1, metrics=["digest"],
                        destination_kind="email", destination=destination,
                        frequency="daily")  # fmt: skip


def sender(port, **kw):
    settings = SmtpSettings("127.0.0.1", port, "starttls", None, None, "reports@example.com", 5)
    return EmailSender(SmtpSender(settings))


def test_a_digest_arrives_with_text_html_and_inline_pngs(smtp):
    inbox, port = smtp
    url = "https://bot.example.com/unsubscribe?s=7&t=abc"
    message_id = sender(port).deliver(report(), sub(), NOW, url)
    (msg,) = inbox.messages
    assert msg["Message-ID"] == message_id == "<claritybot.s7.2026-03-10@example.com>"
    assert msg["Subject"].startswith("Shop: Daily report, Mon 9 Mar 2026 — Sessions: 738")
    assert msg["List-Unsubscribe"] == f"<{url}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    text, related = msg.get_payload()
    assert text.get_content_type() == "text/plain" and "Sessions: 738" in text.get_content()
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    body = html_part.get_content()
    cids = {i["Content-ID"].strip("<>") for i in images}
    assert len(images) == 2 and all(i.get_content_type() == "image/png" for i in images)
    assert all(i.get_content_disposition() == "inline" for i in images)
    assert {c for c in cids if f'src="cid:{c}"' in body} == cids
    assert all(i.get_content() == PNG for i in images)


def test_hostile_titles_arrive_as_text(smtp):
    inbox, port = smtp
    sender(port).deliver(report(label=HOSTILE, line=f"Top page {HOSTILE}"), sub(), NOW, None)
    (msg,) = inbox.messages
    body = msg.get_payload()[1].get_payload()[0].get_content()
    assert "<script>" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "onerror=&#34;alert(2)&#34;" in body or "onerror=&quot;alert(2)&quot;" in body
    assert "List-Unsubscribe" not in msg  # no PUBLIC_URL, no link


def test_the_message_id_is_stable_per_period():
    first = build_message(report(), mail_from="r@example.com", to="a@b.co", now=NOW,
                          unsubscribe_url=None)  # fmt: skip
    again = build_message(report(), mail_from="r@example.com", to="a@b.co", now=NOW,
                          unsubscribe_url=None)  # fmt: skip
    assert first["Message-ID"] == again["Message-ID"]


def test_a_refused_recipient_is_permanent_and_an_outage_transient(smtp):
    inbox, port = smtp
    inbox.refuse.add("gone@example.com")
    with pytest.raises(DeliveryError) as refused:
        sender(port).deliver(report(), sub("gone@example.com"), NOW, None)
    assert not refused.value.transient and "550" in str(refused.value)
    with pytest.raises(DeliveryError) as outage:
        sender(free_port()).deliver(report(), sub(), NOW, None)
    assert outage.value.transient and "could not be reached" in str(outage.value)
    assert inbox.messages == []


def smtp_settings(env):
    return Settings.from_env(env).smtp


def test_smtp_settings_from_the_environment():
    assert smtp_settings({}) is None
    s = smtp_settings({"SMTP_URL": "smtps://u%40x:p%3Aw@mail.example.com",
                               "MAIL_FROM": "r@example.com"})  # fmt: skip
    assert (s.host, s.port, s.tls, s.username, s.password) == (
        "mail.example.com", 465, "ssl", "u@x", "p:w")  # fmt: skip
    s = smtp_settings({"SMTP_URL": "smtp://mail.example.com", "MAIL_FROM": "r@e.com",
                               "SMTP_USERNAME": "me", "SMTP_PASSWORD": "pw"})  # fmt: skip
    assert (s.port, s.tls, s.username, s.password) == (587, "starttls", "me", "pw")
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        smtp_settings({"SMTP_URL": "smtp://mail.example.com"})
    with pytest.raises(ConfigError, match="SMTP_URL"):
        smtp_settings({"SMTP_URL": "http://mail.example.com", "MAIL_FROM": "r@e.com"})


def test_secrets_stay_out_of_reprs():
    settings = smtp_settings({"SMTP_URL": "smtps://me:hunter2@mail.example.com",
                                      "MAIL_FROM": "r@example.com"})  # fmt: skip
    assert settings.password == "hunter2" and "hunter2" not in repr(settings)


def test_a_server_without_auth_is_reported_as_such(smtp):
    inbox, port = smtp  # aiosmtpd as started here offers no AUTH
    settings = SmtpSettings("127.0.0.1", port, "starttls", "ann", "pw", "reports@example.com", 5)
    with pytest.raises(DeliveryError) as failed:
        EmailSender(SmtpSender(settings)).deliver(report(), sub(), NOW, None)
    assert "does not support SMTP AUTH" in str(failed.value) and not failed.value.transient
    assert "could not be reached" not in str(failed.value) and inbox.messages == []
