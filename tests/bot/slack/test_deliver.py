from __future__ import annotations

from datetime import date

import pytest

from bot.slack.clients import WorkspaceClients
from bot.slack.deliver import SlackSender
from reports.delivery.compose import Report, ReportChart
from reports.errors import DeliveryError
from store.crypto import TokenCipher, generate_key
from store.models import Subscription
from tests.bot.slack.conftest import NOW

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def report(label="<!here> Shop"):
    chart = ReportChart("sessions", "Sessions", PNG, "Sessions, daily.", "Sessions: 738 <b>")
    return Report(3, "2026-03-10", label, "Daily report", "Mon 9 Mar 2026", date(2026, 3, 9),
                  (chart,), "Sessions: 738", ("Mon 9 Mar is not in yet <x>",), True)  # fmt: skip


def sub():
    return Subscription(id=3, workspace_id=1, source_id=1, metrics=["sessions"],
                        destination_kind="slack", destination="C1", frequency="daily")  # fmt: skip


def test_a_report_is_one_message_with_escaped_text_and_buttons(engine, fake_slack):
    sender = SlackSender(WorkspaceClients(engine, api_url=fake_slack.url, bot_token="xoxb"))
    assert sender.deliver(report(), sub(), NOW, None).startswith("C1:")
    (message,) = fake_slack.called("chat.postMessage")
    head, caption, image, buttons = message.params["blocks"]
    assert head["text"]["text"].startswith("*&lt;!here&gt; Shop* · Daily report · Mon 9 Mar 2026")
    assert "\n> Mon 9 Mar is not in yet &lt;x&gt;" in head["text"]["text"]
    assert caption["text"]["text"] == "Sessions: 738 &lt;b&gt;"
    assert image["slack_file"]["id"] == "F1" and buttons["type"] == "actions"


@pytest.mark.parametrize(("error", "transient"),
                         [("is_archived", False), ("channel_not_found", False),
                          ("invalid_auth", False), ("internal_error", True),
                          ("something_new", True)])  # fmt: skip
def test_slack_errors_are_permanent_or_worth_a_retry(engine, fake_slack, error, transient):
    fake_slack.fail("chat.postMessage", error)
    sender = SlackSender(WorkspaceClients(engine, api_url=fake_slack.url, bot_token="xoxb"))
    with pytest.raises(DeliveryError) as failed:
        sender.deliver(report(), sub(), NOW, None)
    assert failed.value.transient is transient
    if not transient:  # what to do, in words, not Slack's error code
        assert error not in str(failed.value)


def test_a_workspace_without_an_install_is_a_permanent_failure(engine, fake_slack):
    sender = SlackSender(
        WorkspaceClients(
            engine, api_url=fake_slack.url, client_id="1.2", cipher=TokenCipher(generate_key())
        )
    )
    with pytest.raises(DeliveryError, match="not installed") as failed:
        sender.deliver(report(), sub(), NOW, None)
    assert not failed.value.transient and fake_slack.calls == []


def test_the_written_summary_goes_under_the_header_escaped_as_short_lines(engine, fake_slack):
    from dataclasses import replace

    sender = SlackSender(WorkspaceClients(engine, api_url=fake_slack.url, bot_token="xoxb"))
    summary = "Sessions: 738, down 12 %. Biggest mover: page /<!channel>. Note: 1 late; 2 gaps."
    written = replace(report(), summary=summary, summary_labels=("Sessions",))
    sender.deliver(written, sub(), NOW, None)
    (message,) = fake_slack.called("chat.postMessage")
    head = message.params["blocks"][0]["text"]["text"]
    # A metric's line with the sentence about it under it, then the note's parts.
    assert head.endswith(
        "\n• Sessions: 738, down 12 %.\n    ◦ Biggest mover: page /&lt;!channel&gt;."
        "\n• Note\n    ◦ 1 late.\n    ◦ 2 gaps."
    )


def test_a_known_project_links_to_its_clarity_dashboard(engine, fake_slack):
    from dataclasses import replace

    sender = SlackSender(WorkspaceClients(engine, api_url=fake_slack.url, bot_token="xoxb"))
    url = "https://clarity.microsoft.com/projects/view/k3f9x2ab1c/dashboard"
    sender.deliver(replace(report(), clarity_url=url), sub(), NOW, None)
    (message,) = fake_slack.called("chat.postMessage")
    head = message.params["blocks"][0]["text"]["text"]
    assert f"\n<{url}|Open in Clarity>" in head
