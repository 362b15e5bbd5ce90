"""`claritybot alerts mute ID [--hours N]`: a rule stays checked but is not told for a while."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from bot.cli import main

AT = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def run(cli, *argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), environ=cli.environ, out=out, err=err, clock=lambda: AT)
    return code, out.getvalue(), err.getvalue()


def add(cli, source):
    return run(
        cli,
        "alerts",
        "add",
        "--source",
        source,
        *"--metric sessions --below 100".split(),
        "--channel",
        "C1",
    )


def test_mute_for_a_day_then_unmute(cli, source):
    code, out, err = add(cli, source)
    assert code == 0, err
    rule_id = out.strip()
    code, out, _ = run(cli, "alerts", "mute", rule_id)
    assert code == 0
    assert out == f"Alert {rule_id} muted until 2026-03-11 09:30 UTC: still checked, not told.\n"
    (row,) = json.loads(run(cli, "alerts", "list", "--json")[1])
    assert row["muted_until"] == "2026-03-11T09:30:00+00:00"
    assert "→ C1 · muted until 2026-03-11 09:30 UTC" in run(cli, "alerts", "list")[1]
    assert "until 2026-03-10 11:30 UTC" in run(cli, "alerts", "mute", rule_id, "--hours", "2")[1]
    code, out, _ = run(cli, "alerts", "mute", rule_id, "--hours", "0")
    assert code == 0 and out == f"Alert {rule_id} unmuted: it is told again when it fires.\n"
    assert json.loads(run(cli, "alerts", "list", "--json")[1])[0]["muted_until"] is None


def test_mute_refuses_what_it_cannot_do(cli, source):
    assert run(cli, "alerts", "mute", "41")[0] == 2  # no such rule
    code, _, err = run(cli, "alerts", "mute", "1", "--hours", "-3")
    assert code == 2 and "whole number from 0" in err
    code, out, _ = add(cli, source)
    run(cli, "alerts", "remove", out.strip())
    code, _, err = run(cli, "alerts", "mute", out.strip())
    assert code == 2 and "was removed" in err


def test_a_change_of_zero_percent_is_refused_as_the_slack_form_refuses_it(cli, source):
    for change in ("0", "-0"):
        argv = ["--metric", "sessions", "--change", change, "--channel", "C1"]
        code, out, err = run(cli, "alerts", "add", "--source", source, *argv)
        assert (code, out) == (2, "")
        assert "A change is a percentage above 0" in err
    assert json.loads(run(cli, "alerts", "list", "--json")[1]) == []
    argv = ["--metric", "sessions", "--change", "-20", "--direction", "down", "--channel", "C1"]
    code, out, _ = run(cli, "alerts", "add", "--source", source, *argv)
    assert code == 0 and out.strip().isdigit()
