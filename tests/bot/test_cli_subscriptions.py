from __future__ import annotations

import json


def test_subscribe_list_and_unsubscribe(cli, source, tmp_path):
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
