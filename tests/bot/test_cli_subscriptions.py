from __future__ import annotations

import json

import pytest

SMTP = {"SMTP_URL": "smtp://127.0.0.1:2525", "MAIL_FROM": "bot@example.com"}


def test_subscribe_list_and_unsubscribe(cli, source, tmp_path):
    cli.environ |= SMTP
    args = ["--metric", "sessions", "--metric", "rage-click-rate", "--email", "ann@example.com",
            "--frequency", "weekly", "--weekday", "tue", "--at", "08:30",
            "--timezone", "Europe/Paris"]  # fmt: skip
    code, out, err = cli("subscribe", "--source", source, *args)
    assert code == 0, err
    sub_id = out.strip()
    assert sub_id.isdigit()
    assert "weekly on Tuesday at 08:30 Europe/Paris" in err
    code, out, _ = cli("subscriptions", "--json")
    (row,) = json.loads(out)
    assert row["metrics"] == ["sessions", "rage_click_rate"] and row["weekday"] == 1
    assert (row["destination_kind"], row["destination"], row["at"]) == (
        "email", "ann@example.com", "08:30")  # fmt: skip
    assert row["schedule"].startswith("weekly on Tuesday at 08:30 Europe/Paris; next Tue")
    code, out, _ = cli("subscriptions")
    assert f"{sub_id:>4}  source {source}  sessions, rage_click_rate → ann@example.com" in out
    assert cli("unsubscribe", sub_id)[0] == 0
    assert json.loads(cli("subscriptions", "--json")[1]) == []
    assert json.loads(cli("subscriptions", "--json", "--all")[1])[0]["active"] is False


def test_monthly_on_the_31st_and_an_outbox(cli, source, tmp_path):
    args = ["--metric", "digest", "--outbox", str(tmp_path / "out"), "--frequency", "monthly",
            "--day", "31"]  # fmt: skip
    code, out, err = cli("subscribe", "--source", source, *args)
    assert code == 0, err
    assert "monthly on the last day at 09:00 UTC" in err


def test_bad_subscriptions_are_refused_plainly(cli, source):
    cli.environ |= SMTP
    cases = [
        (["--metric", "sessionz", "--email", "a@b.co"], "Unknown metric 'sessionz'"),
        (["--metric", "sessions", "--email", "not-an-address"], "is not an email address"),
        (["--metric", "sessions", "--channel", "#general"], "is not a Slack channel id"),
        (["--metric", "sessions", "--email", "a@b.co", "--at", "25:00"], "is not HH:MM"),
        (["--metric", "sessions", "--email", "a@b.co", "--timezone", "Mars/Base"],
         "Unknown timezone"),
        (["--metric", "sessions", "--email", "a@b.co", "--frequency", "weekly", "--weekday",
          "funday"], "Unknown weekday"),
    ]  # fmt: skip
    for extra, message in cases:
        code, out, err = cli("subscribe", "--source", source, *extra)
        assert code == 2 and message in err and out == "", (extra, err)
    code, _, err = cli("subscribe", "--source", "99", "--metric", "sessions", "--email", "a@b.co")
    assert code == 2 and "no source 99" in err
    assert cli("unsubscribe", "5")[0] == 2


def test_alerts_add_list_remove(cli, source):
    code, out, err = cli("alerts", "add", "--source", source, "--metric", "dead_clicks",
                         "--change", "50", "--page", "https://shop.example/checkout?x=1",
                         "--email", "ux@example.com")  # fmt: skip
    assert code == 0, err
    rule_id = out.strip()
    assert "dead_clicks up 50 % vs the previous 7 days on /checkout" in err
    (row,) = json.loads(cli("alerts", "list", "--json")[1])
    assert (row["id"], row["condition"], row["page"], row["state"]) == (
        int(rule_id), "change", "/checkout", "unknown")  # fmt: skip
    assert "not evaluated yet" in cli("alerts", "list")[1]
    bad = cli("alerts", "add", "--source", source, "--metric", "sessions", "--anomaly", "30",
              "--page", "/x", "--channel", "C1")  # fmt: skip
    assert bad[0] == 2 and "whole site" in bad[2]
    assert cli("alerts", "remove", rule_id)[0] == 0
    assert json.loads(cli("alerts", "list", "--json")[1]) == []


@pytest.mark.parametrize("purge", [False, True])
def test_removing_a_source_stops_its_reports_and_alerts(cli, source, purge):
    cli.environ |= SMTP
    assert cli("subscribe", "--source", source, "--metric", "sessions", "--email", "a@b.co")[0] == 0
    assert cli("alerts", "add", "--source", source, "--metric", "sessions", "--below", "10",
               "--email", "a@b.co")[0] == 0  # fmt: skip
    code, out, _ = cli("sources", "remove", source, *(["--purge"] if purge else []))
    assert code == 0 and "subscriptions and alerts" in out
    assert json.loads(cli("subscriptions", "--json")[1]) == []
    assert json.loads(cli("alerts", "list", "--json")[1]) == []
    assert cli("tick", "--now", "2026-03-11T10:00:00Z")[0] in (0, 1)  # nothing left to trip on
