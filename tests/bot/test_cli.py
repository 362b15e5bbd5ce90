from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from bot.cli import main
from tests.bot.conftest import Cli

NOW = "2026-03-10T00:05:00Z"


def test_keygen_prints_a_usable_key():
    out = io.StringIO()
    assert main(["keygen"], environ={}, out=out, err=io.StringIO()) == 0
    Fernet(out.getvalue().strip().encode())


def test_sources_add_prints_only_the_id_and_list_shows_it(cli, source):
    assert source == "1"
    code, out, _ = cli("sources", "list", "--json")
    (row,) = json.loads(out)
    assert (row["id"], row["label"], row["status"], row["last_snapshot"]) == (
        1,
        "Shop",
        "connected",
        None,
    )
    code, out, _ = cli("sources", "list")
    assert "Shop" in out and "never" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [("not-a-token", "Invalid token"), ("", "empty"), ("a.b.c", "Invalid token")],
)
def test_malformed_tokens_are_refused_and_nothing_is_stored(
    cli, tmp_path, sandbox, content, message
):
    bad = tmp_path / "bad.txt"
    bad.write_text(content)
    code, out, err = cli("sources", "add", "--label", "X", "--token-file", str(bad))
    assert code == 2 and message in err and out == ""
    assert json.loads(cli("sources", "list", "--json")[1]) == []
    assert sandbox.calls == []


def test_a_missing_token_file_or_key_is_explained(cli, tmp_path, token_file):
    code, _, err = cli("sources", "add", "--label", "X", "--token-file", str(tmp_path / "nope"))
    assert code == 2 and "Cannot read the token file" in err
    no_key = Cli({k: v for k, v in cli.environ.items() if k != "CLARITYBOT_SECRET_KEY"})
    code, _, err = no_key("sources", "add", "--label", "X", "--token-file", str(token_file))
    assert code == 2 and "CLARITYBOT_SECRET_KEY is not set" in err and "keygen" in err


def test_the_same_token_cannot_be_connected_twice(cli, source, token_file):
    code, _, err = cli("sources", "add", "--label", "Again", "--token-file", str(token_file))
    assert code == 2 and "already connected as source 1" in err


def test_timezone_is_shown_set_and_validated(cli):
    assert cli("timezone")[1].strip() == "UTC"
    code, out, _ = cli("timezone", "America/New_York")
    assert code == 0 and "America/New_York" in out
    assert cli("timezone")[1].strip() == "America/New_York"
    code, _, err = cli("timezone", "Mars/Olympus")
    assert code == 2 and "Unknown timezone 'Mars/Olympus'" in err
    assert cli("timezone")[1].strip() == "America/New_York"


def test_snapshot_then_again_spends_calls_only_once(cli, source, sandbox):
    sandbox.set_now(datetime.fromisoformat(NOW))
    code, out, _ = cli("snapshot", "--source", source, "--now", NOW)
    assert code == 0, out
    assert "Snapshot of 2026-03-09" in out and out.count("stored") == 5
    assert len(sandbox.calls) == 5
    code, out, _ = cli("snapshot", "--source", source, "--now", NOW, "--json")
    result = json.loads(out)
    assert code == 0 and result["calls_spent"] == 0
    assert {g["status"] for g in result["groups"]} == {"already_stored"}
    assert len(sandbox.calls) == 5


def test_quota_reports_used_left_and_reset(cli, source, sandbox):
    sandbox.set_now(datetime.fromisoformat(NOW))
    cli("snapshot", "--source", source, "--now", NOW)
    code, out, _ = cli("quota", "--source", source, "--now", "2026-03-10T12:00:00Z", "--json")
    usage = json.loads(out)
    assert (usage["used"], usage["left"], usage["cap"], usage["manual_reserve"]) == (5, 5, 10, 2)
    assert usage["resets_at"] == "2026-03-11T00:00:00+00:00"
    code, out, _ = cli("quota", "--source", source, "--now", "2026-03-10T12:00:00Z")
    assert "left      5 of 10" in out and "in 12 h 00 min" in out


def test_export_jsonl_and_csv_have_the_documented_shape(cli, source, sandbox):
    sandbox.set_now(datetime.fromisoformat(NOW))
    cli("snapshot", "--source", source, "--now", NOW)
    code, out, err = cli("export", "--source", source)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and f"{len(lines)} row(s) exported" in err
    assert {"date", "group", "dimensions", "metrics"} <= set(lines[0])
    overall = [r for r in lines if r["group"] == "overall" and r["kind"] == "metrics"]
    assert len(overall) == 1 and overall[0]["dimensions"] == {}
    assert (
        overall[0]["metrics"]["sessions"] > 0
        and "rage_clicks_sessions_pct" in overall[0]["metrics"]
    )
    pages = [r for r in lines if r["group"] == "pages"]
    assert all(set(r["dimensions"]) == {"url", "url_raw"} for r in pages)
    assert any(r["dimensions"]["url_raw"] and "?" in r["dimensions"]["url_raw"] for r in pages)
    assert all("?" not in (r["dimensions"]["url"] or "") for r in pages)
    code, out, _ = cli("export", "--source", source, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(lines) and "rage_clicks" in rows[0]


def test_a_rejected_token_fails_the_run_disables_the_source_and_keeps_history(
    cli, source, sandbox, tmp_path
):
    sandbox.set_now(datetime.fromisoformat(NOW))
    cli("snapshot", "--source", source, "--now", NOW)
    sandbox.revoke("shop")
    later = "2026-03-11T00:05:00Z"
    sandbox.set_now(datetime.fromisoformat(later))
    code, out, _ = cli("snapshot", "--source", source, "--now", later)
    assert code == 1 and "FAILED" in out and "401" in out
    (row,) = json.loads(cli("sources", "list", "--json")[1])
    assert row["status"] == "token_rejected" and not row["enabled"]
    code, _, err = cli("snapshot", "--source", source, "--now", later)
    assert code == 2 and "set-token" in err
    assert (
        len(json.loads("[" + ",".join(cli("export", "--source", source)[1].splitlines()) + "]")) > 0
    )


def test_remove_keeps_history_unless_purged(cli, source, sandbox):
    sandbox.set_now(datetime.fromisoformat(NOW))
    cli("snapshot", "--source", source, "--now", NOW)
    assert cli("sources", "remove", source)[0] == 0
    assert json.loads(cli("sources", "list", "--json")[1]) == []
    assert cli("export", "--source", source)[1] != ""
    assert cli("sources", "remove", source, "--purge")[0] == 0
    code, _, err = cli("export", "--source", source)
    assert code == 2 and "no source 1" in err


def test_unknown_sources_and_bad_flags_get_clear_errors(cli):
    code, _, err = cli("snapshot", "--source", "9")
    assert code == 2 and "There is no source 9" in err
    code, _, err = cli("snapshot", "--source", "1", "--now", "yesterday")
    assert code == 2 and "ISO 8601" in err
    code, _, err = cli("export", "--source", "1", "--days", "0")
    assert code == 2 and "--days" in err


def test_the_token_never_appears_in_any_output_even_with_debug_logs(cli, source, sandbox, token):
    cli.environ["LOG_LEVEL"] = "DEBUG"
    sandbox.set_now(datetime.fromisoformat(NOW))
    outputs = [
        cli("snapshot", "--source", source, "--now", NOW),
        cli("sources", "list", "--json"),
        cli("export", "--source", source),
        cli("quota", "--source", source),
    ]
    sandbox.fail_next(401)
    outputs.append(cli("snapshot", "--source", source, "--now", "2026-03-11T00:05:00Z"))
    assert all(token not in out + err for _, out, err in outputs)


def test_demo_runs_and_a_second_run_spends_nothing(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert (
        main(["demo", "--days", "3", "--out", str(tmp_path / "d")], environ={}, out=out, err=err)
        == 0
    )
    # 3 nights of 5 fetch groups; the story says where the demo-only key is, stderr stays empty
    assert ": 15 calls," in out.getvalue() and "demo-only key" in out.getvalue()
    assert err.getvalue() == ""
    again = io.StringIO()
    args = ["demo", "--days", "3", "--out", str(tmp_path / "d")]
    assert main(args, environ={}, out=again, err=io.StringIO()) == 0
    assert "already stored in this folder: this run sent no calls" in again.getvalue()
    assert "demo-only key" not in again.getvalue()  # said once, when it was made


def test_demo_shows_a_late_and_a_recovered_day(tmp_path):
    out = io.StringIO()
    args = ["demo", "--days", "9", "--out", str(tmp_path / "d"), "--timezone", "America/New_York"]
    assert main([*args, "--details"], environ={}, out=out, err=io.StringIO()) == 0
    story, details = out.getvalue().split("\nDetails: every table behind the story\n")
    # The story says it in words, with the dates; the details have the run log's rows.
    assert "* late: " in story and "so its 24 h window is shifted" in story
    assert "~ rebuilt: " in story and "rebuilt its totals by subtraction" in story
    assert "stored (late)" in details and "recovered" in details and "gap" in details
    assert "~" in details and "*" in details and "Daily totals" not in story
    # Issue 7: a written summary and a fired alert (its message written to the outbox).
    assert "- Sessions: " in story and "Alerts: 1 of the demo's 2 rules fired:" in story
    assert "FIRED    sessions_with_rage_clicks above 1 % over 7d" in details
    assert "CLEAR    sessions below 100 over 7d" in details
    assert list((tmp_path / "d" / "outbox").glob("report-*-a*.eml"))


def tomorrow_0005():
    today = datetime.now(UTC).date()
    return datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        minutes=5
    )


def test_tick_takes_what_is_due_once_and_runs_shows_it(cli, source, sandbox):
    early = tomorrow_0005() - timedelta(minutes=10)
    code, out, _ = cli("tick", "--now", early.isoformat())
    assert code == 0 and "nothing due" in out and sandbox.calls == []
    now = tomorrow_0005()
    sandbox.set_now(now)
    code, out, _ = cli("tick", "--now", now.isoformat(), "--json")
    report = json.loads(out)
    assert code == 0 and report["calls"] == 5
    (snap,) = report["snapshots"]
    assert snap["complete"] and set(snap["groups"].values()) == {"stored"}
    assert json.loads(cli("tick", "--now", now.isoformat(), "--json")[1])["calls"] == 0
    code, out, _ = cli("runs", "--json")
    entries = json.loads(out)
    assert {e["group"] for e in entries} == {"overall", "pages", "devices", "channels", "sources"}
    assert {e["outcome"] for e in entries} == {"stored"} and all(e["calls"] == 1 for e in entries)
    code, out, _ = cli("runs", "--source", source)
    assert code == 0 and out.count("stored") == 5


def test_worker_ticks_until_told_to_stop(cli, source, sandbox):
    now = tomorrow_0005()
    sandbox.set_now(now)
    code, out, err = cli(
        "worker", "--now", now.isoformat(), "--interval", "0.1", "--max-ticks", "2"
    )
    assert code == 0 and "stopped" in err
    assert len(sandbox.calls) == 5 and "stored" in out


def test_metrics_metric_and_chart_from_stored_history(cli, source, sandbox, tmp_path):
    now = tomorrow_0005()
    sandbox.set_now(now)
    cli("tick", "--now", now.isoformat())
    code, out, _ = cli("metrics", "--json")
    keys = {m["key"]: m for m in json.loads(out)}
    assert keys["rage_click_rate"]["category"] == "frustration" and len(keys) >= 25
    assert "Frustration" in cli("metrics")[1]
    code, out, _ = cli("metric", "--source", source, "--metric", "sessions", "--days", "3",
                       "--now", now.isoformat(), "--json")  # fmt: skip
    days = json.loads(out)["days"]
    assert code == 0 and [d["value"] is not None for d in days] == [False, False, True]
    assert days[-1]["rows"]  # traceable to stored rows
    code, out, _ = cli("metric", "--source", source, "--metric", "top_channels", "--days", "1",
                       "--now", now.isoformat())  # fmt: skip
    assert code == 0 and "OrganicSearch" in out
    png = tmp_path / "c" / "rage.png"
    code, out, err = cli("chart", "--source", source, "--metric", "rage_click_rate", "--days",
                         "7", "--out", str(png), "--now", now.isoformat())  # fmt: skip
    assert (
        code == 0 and png.read_bytes()[:4] == b"\x89PNG" and "Rage clicks per 100 sessions" in out
    )
    assert "1 day of history so far" not in out  # the alt text states numbers instead
    code, _, err = cli("chart", "--source", source, "--digest", "--out", str(tmp_path / "d.png"),
                       "--now", now.isoformat())  # fmt: skip
    assert code == 0 and "Wrote" in err
    code, _, err = cli("metric", "--source", source, "--metric", "bounce_rate")
    assert code == 2 and "Unknown metric 'bounce_rate'" in err
