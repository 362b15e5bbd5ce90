"""Every number the CLI takes is bounded, dates too: bad input is exit 2 and a sentence."""

from __future__ import annotations

import pytest

ALERT = ["alerts", "add", "--source", "1", "--metric", "sessions", "--channel", "C1"]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([*ALERT, "--above", "nan"], "--above"),
        ([*ALERT, "--below", "-inf"], "--below"),
        ([*ALERT, "--change", "inf"], "--change"),
        ([*ALERT, "--anomaly", "-5"], "--anomaly"),
        ([*ALERT, "--above", "3", "--cooldown", "-5"], "--cooldown"),
        ([*ALERT, "--above", "3", "--days", "0"], "--days"),
        (["export", "--source", "1", "--days", "999999999"], "--days"),
        (["export", "--source", "1" * 5000], "--source"),
        (["worker", "--interval", "nan"], "--interval"),
        (["worker", "--speed", "inf"], "--speed"),
        (["worker", "--max-ticks", "-1"], "--max-ticks"),
        (["alerts", "remove", "0"], "id"),
        (["sources", "remove", "²"], "id"),
        (["tick", "--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_numbers_and_flags_exit_2_with_usage(cli, argv, says):
    code, out, err = cli(*argv)
    assert code == 2 and out == ""
    assert says in err and "usage: claritybot" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1970-01-01"])
def test_a_date_out_of_range_is_a_clear_error(cli, when):
    code, out, err = cli("tick", "--now", when)
    assert code == 2 and "--now must be between the years 2000 and 2199" in err
    assert "Traceback" not in err


def test_a_label_over_200_characters_is_refused_clearly(cli, sandbox, tmp_path):
    token = tmp_path / "token"
    token.write_text(sandbox.issue_token("a"))
    code, _, err = cli("sources", "add", "--token-file", str(token), "--label", "x" * 201)
    assert code == 2 and "at most 200 characters; this one has 201" in err
