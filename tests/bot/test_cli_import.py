"""`claritybot sources import`: many projects in one process, each line reported on its own."""

from __future__ import annotations

import json

from reports.clarity.sandbox import make_token


def test_a_csv_connects_every_good_line_and_reports_the_bad_ones(cli, tmp_path):
    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "b.txt").write_text(make_token("b") + "\n")
    csv_file = tmp_path / "clients.csv"
    csv_file.write_text(
        "label,token,token_file,timezone,workspace\n"
        f"Client A,{make_token('a')},,,\n"
        "Client B,,tokens/b.txt,Europe/Paris,T0123ABC\n"
        "Client C,not-a-token,,,\n"
        f"Client A again,{make_token('a')},,,\n"
        f"\x00Client\u202e D,{make_token('d')},,Mars/Olympus,\n"
        f",{make_token('e')},,,\n"
    )
    code, out, err = cli("sources", "import", str(csv_file), "--json")
    assert code == 2, err
    rows = {r["line"]: r for r in json.loads(out)}
    assert rows[2]["id"] is not None and rows[3]["id"] is not None
    assert "token" in rows[4]["error"].lower() and rows[4]["id"] is None
    assert "already connected" in rows[5]["error"]
    assert "Mars/Olympus" in rows[6]["error"] and rows[6]["label"] == "Client D"
    assert "label" in rows[7]["error"]
    assert err.strip() == "Connected 2 of 6 projects."
    code, out, _ = cli("sources", "list", "--json")
    assert code == 0
    zones = {s["label"]: s["timezone"] for s in json.loads(out)}
    assert zones == {"Client A": "UTC", "Client B": "Europe/Paris"}  # B in Slack team T0123ABC


def test_json_lines_with_a_broken_line_and_a_clean_run(cli, tmp_path):
    jsonl = tmp_path / "clients.jsonl"
    jsonl.write_text(
        json.dumps({"label": "One", "token": make_token("one")})
        + "\n\n[1, 2]\n"
        + json.dumps({"label": "Two", "token": make_token("two"), "colour": "red"})
        + "\n"
    )
    code, out, _ = cli("sources", "import", str(jsonl))
    assert code == 2
    assert out.splitlines() == [
        f"line 1: One: source {1}",
        "line 3: (no label): not added: not a JSON object",
        "line 4: Two: not added: unknown column(s) colour",
    ]
    good = tmp_path / "more.jsonl"
    good.write_text(json.dumps({"label": "Three", "token": make_token("three")}) + "\n")
    assert cli("sources", "import", str(good))[0] == 0


def test_an_unreadable_or_empty_file_is_a_clear_error(cli, tmp_path):
    code, _, err = cli("sources", "import", str(tmp_path / "missing.csv"))
    assert code == 2 and "Cannot read the import file" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("label,token\n")
    code, _, err = cli("sources", "import", str(empty))
    assert code == 2 and "no projects" in err
