"""EDGE: email digests — a MIME message built from a Report, and SMTP to send it.

Structure: multipart/alternative [text/plain, multipart/related [text/html, image/png…]],
the charts inline by Content-ID so they show without remote images. The Message-ID is stable
per (subscription, period): a receiving server that sees it twice can drop the second.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Final

from reports.delivery.compose import Report
from reports.errors import DeliveryError
from reports.settings import SmtpSettings
from reports.templates import template_env
from reports.textfmt import visible
from store.crypto import TokenCipher
from store.models import Subscription

LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "::1"})
_LINE_BREAKS: Final = re.compile(r"[\r\n\t\u0085\u2028\u2029]+")


def _header(text: str) -> str:
    """The one escape for header text from our data (labels come from people).

    No line breaks (no header injection), no control, bidi or zero-width characters, bounded.
    """
    return visible(_LINE_BREAKS.sub(" ", text)).strip()[:200]


def domain_of(address: str) -> str:
    """The domain part of an address, for Message-IDs."""
    return address.rpartition("@")[2].strip(" >") or "claritybot.invalid"


def build_message(
    report: Report, *, mail_from: str, to: str, now: datetime, unsubscribe_url: str | None
) -> EmailMessage:
    """The digest as a MIME message, ready for SMTP or an outbox file."""
    domain = domain_of(mail_from)
    stem = f"s{report.subscription_id}.{report.period}"
    charts = report.email_charts
    cids = [f"chart{n}.{stem}@{domain}" for n in range(len(charts))]
    env = template_env()
    context = {
        "report": report,
        "charts": charts,
        "cids": cids,
        "unsubscribe_url": unsubscribe_url,
    }
    msg = EmailMessage()
    msg["Subject"] = _header(report.subject)
    msg["From"], msg["To"] = _header(mail_from), _header(to)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<claritybot.{stem}@{domain}>"
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    text = "email/alert.txt" if report.alert is not None else "email/report.txt"
    msg.set_content(env.get_template(text).render(context))
    msg.add_alternative(env.get_template("email/report.html").render(context), subtype="html")
    html = msg.get_payload()[1]  # type: ignore[index]
    assert isinstance(html, EmailMessage)
    for n, (chart, cid) in enumerate(zip(charts, cids, strict=True)):
        html.add_related(
            chart.png,
            "image",
            "png",
            cid=f"<{cid}>",
            disposition="inline",
            filename=f"chart-{n + 1}-{chart.key}.png",
        )
    return msg


class SmtpSender:
    """Sends one message per connection; maps SMTP's answers to transient or permanent."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, msg: EmailMessage) -> str:
        """Send; return the Message-ID. Raise DeliveryError (transient or not) on failure."""
        s = self.settings
        try:
            with self._connect() as smtp:
                if s.username:
                    smtp.login(s.username, s.password or "")
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"The mail server refused the recipient ({codes[0]}).",
                transient=all(400 <= c < 500 for c in codes),
            ) from None
        except smtplib.SMTPAuthenticationError:
            raise DeliveryError(
                "The mail server rejected SMTP_USERNAME / SMTP_PASSWORD.", transient=False
            ) from None
        except smtplib.SMTPNotSupportedError:  # login() on a server without AUTH
            raise DeliveryError(
                "The mail server does not support SMTP AUTH: unset SMTP_USERNAME and "
                "SMTP_PASSWORD for it, or use a server that offers AUTH.",
                transient=False,
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"The mail server answered {exc.smtp_code}.", transient=400 <= exc.smtp_code < 500
            ) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"The mail server could not be reached ({type(exc).__name__}).", transient=True
            ) from None
        if refused:
            raise DeliveryError("The mail server refused the recipient.", transient=False)
        return str(msg["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.tls == "ssl":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        elif s.username and s.host not in LOOPBACK:
            smtp.close()
            # A password must never cross the network in clear text.
            raise DeliveryError(
                "The mail server does not offer STARTTLS; use smtps:// or a server that does.",
                transient=False,
            )
        return smtp


class EmailSender:
    """The email destination: one digest per report over SMTP."""

    def __init__(self, smtp: SmtpSender) -> None:
        self.smtp = smtp

    def deliver(
        self, report: Report, sub: Subscription, now: datetime, unsubscribe_url: str | None
    ) -> str:
        """Send the digest to the subscription's address; return its Message-ID."""
        msg = build_message(
            report,
            mail_from=self.smtp.settings.mail_from,
            to=sub.destination,
            now=now,
            unsubscribe_url=unsubscribe_url,
        )
        return self.smtp.send(msg)

    def check(self, sub: Subscription, period: str) -> bool | None:
        """None: whether a mail handed to SMTP by a process that died arrived cannot be told."""
        return None


@dataclass(frozen=True)
class Links:
    """Signed one-click unsubscribe links, served by `claritybot serve` at PUBLIC_URL."""

    public_url: str
    cipher: TokenCipher

    def unsubscribe_url(self, subscription_id: int) -> str:
        """The link for one subscription (its signature is its only secret)."""
        sig = self.cipher.sign(f"unsubscribe:{subscription_id}")
        return f"{self.public_url.rstrip('/')}/unsubscribe?s={subscription_id}&t={sig}"

    def verify(self, subscription_id: int, signature: str) -> bool:
        """True when the link's signature is ours."""
        return self.cipher.verify(f"unsubscribe:{subscription_id}", signature)
