"""Clarity project ids for "Open in Clarity" links: from the token's claims, or set by hand."""

from __future__ import annotations

import json

import pytest

from tests.fakes.tokens import fake_token

DASHBOARD = "https://clarity.microsoft.com/projects/view/{}/dashboard"


def listed(cli) -> dict[str, str | None]:
    return {
        r["label"]: r["clarity_project_id"] for r in json.loads(cli("sources", "list", "--json")[1])
    }


def add(cli, tmp_path, label, token, *extra):
    path = tmp_path / f"{label}.txt"
    path.write_text(token)
    return cli("sources", "add", "--label", label, "--token-file", str(path), *extra)


def test_the_project_id_comes_from_the_tokens_claim_or_the_flag(cli, tmp_path, sandbox):
    assert add(cli, tmp_path, "Claimed", sandbox.issue_token("shop42"))[0] == 0
    assert add(cli, tmp_path, "Given", fake_token("p2"), "--project-id", "k3f9x2ab1c")[0] == 0
    assert add(cli, tmp_path, "Other claim", fake_token("abc9", claim="pid"))[0] == 0
    # A claim is untrusted text: one that is not id-shaped is ignored, never cleaned into a link.
    assert add(cli, tmp_path, "Odd", fake_token("../../evil?x=<b>"))[0] == 0
    assert add(cli, tmp_path, "None", fake_token("p5", claim="sub"))[0] == 0
    assert listed(cli) == {
        "Claimed": "shop42",
        "Given": "k3f9x2ab1c",
        "Other claim": "abc9",
        "Odd": None,
        "None": None,
    }


@pytest.mark.parametrize("bad", ["../evil", "a b", "x" * 33, "", "ab/cd", "<script>"])
def test_a_project_id_that_is_not_id_shaped_is_refused_and_nothing_changes(cli, source, bad):
    code, out, err = cli("sources", "set-project-id", source, bad)
    assert code == 2 and out == "" and "1 to 32 letters and digits" in err
    assert "Traceback" not in err
    assert listed(cli) == {"Shop": "shop"}  # the sandbox token's own claim stays


def test_set_project_id_prints_the_link_and_a_new_token_keeps_it(cli, source, tmp_path, sandbox):
    code, out, _ = cli("sources", "set-project-id", source, "k3f9x2ab1c")
    assert code == 0 and out == f"Source 1 links to {DASHBOARD.format('k3f9x2ab1c')}\n"
    rekey = tmp_path / "new.txt"
    rekey.write_text(sandbox.issue_token("other"))
    assert cli("sources", "set-token", source, "--token-file", str(rekey))[0] == 0
    assert listed(cli) == {"Shop": "k3f9x2ab1c"}  # set by hand: a claim does not replace it
    code, _, err = cli("sources", "set-project-id", "99", "abc")
    assert code != 0 and "99" in err and "Traceback" not in err


def test_add_refuses_a_bad_project_id_before_storing_anything(cli, tmp_path, sandbox):
    code, out, err = add(cli, tmp_path, "Shop", sandbox.issue_token("s"), "--project-id", "a/b")
    assert code == 2 and out == "" and "letters and digits" in err
    assert listed(cli) == {}


def test_an_import_line_can_carry_its_project_id(cli, tmp_path, sandbox):
    lines = [
        {"label": "A", "token": sandbox.issue_token("a"), "project_id": "given1"},
        {"label": "B", "token": sandbox.issue_token("fromclaim")},
        {"label": "C", "token": sandbox.issue_token("c"), "project_id": "not ok"},
    ]
    path = tmp_path / "import.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, out, _ = cli("sources", "import", str(path))
    assert code == 2 and "line 3: C: not added: A Clarity project id is 1 to 32" in out
    assert listed(cli) == {"A": "given1", "B": "fromclaim"}
