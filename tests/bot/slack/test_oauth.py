"""Multi-workspace installs over OAuth, served over real HTTP against the loopback Slack API."""

from __future__ import annotations

import base64
import json
import re
import threading
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, func, select, text

from bot.cli.misc import multi_workspace_app
from bot.slack.clients import WorkspaceClients
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH, SCOPES, installation_store
from bot.slack.serve import make_server, shutdown
from bot.slack.services import SlackServices
from bot.slack.text import HELP
from reports.clarity.client import ClarityClient
from reports.delivery.subscriptions import NewSubscription, list_subscriptions, subscribe
from reports.ingest.sources import SourceView, add_source, list_sources
from store.crypto import TokenCipher, generate_key
from store.errors import ConfigError
from tests.bot.slack.conftest import NOW, SECRET, signed_headers, slack_settings
from tests.fakes.slack_api import FakeSlack

CLIENT_ID, CLIENT_SECRET = "111.222", "client-secret"
MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[3] / "bot/manifest.yml").read_text())
KEY = generate_key()
SLACK_TABLES = {"slack_installations", "slack_bots", "slack_oauth_states"}
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ7fSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


class Served:
    """The multi-workspace app behind waitress, and what a browser and Slack would send it."""

    def __init__(self, url: str, services: SlackServices, fake: FakeSlack) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)
        self.services, self.fake = services, fake
        self.installs = installation_store(services.engine, CLIENT_ID, services.cipher)

    def install_page(self) -> tuple[httpx.Response, str]:
        page = self.http.get(INSTALL_PATH)
        found = re.search(r'<a href="([^"]+)"', page.text)
        assert found, page.text
        return page, unescape(found.group(1))

    def install(self, team: str, code: str) -> httpx.Response:
        """Open the install page, then come back from Slack's consent page with `code`."""
        self.fake.team_id = team  # the fake's oauth.v2.access installs into this team
        _, link = self.install_page()
        state = parse_qs(urlsplit(link).query)["state"][0]
        back = self.redirect(code, state, cookie=f"slack-app-oauth-state={state}")
        self.fake.team_id = "T1"
        return back

    def redirect(self, code: str, state: str, *, cookie: str = "") -> httpx.Response:
        # The state cookie is `Secure`: an http:// client would not send it back by itself.
        return self.http.get(REDIRECT_PATH, params={"code": code, "state": state},
                             headers={"cookie": cookie} if cookie else {})  # fmt: skip

    def command(self, text: str, *, team: str) -> httpx.Response:
        body = urlencode({"team_id": team, "user_id": "U1", "command": "/clarity", "text": text,
                          "channel_id": "C1", "response_url": self.fake.response_url,
                          "trigger_id": "trigger-1", "api_app_id": "A1"})  # fmt: skip
        return self.http.post("/slack/events", content=body, headers=flat(signed_headers(body)))

    def event(self, event: dict[str, Any], *, team: str, secret: str = SECRET) -> httpx.Response:
        body = json.dumps({"type": "event_callback", "team_id": team, "api_app_id": "A1",
                           "event": event, "event_id": f"Ev{team}", "event_time": 1})  # fmt: skip
        headers = flat(signed_headers(body, secret=secret)) | {"content-type": "application/json"}
        return self.http.post("/slack/events", content=body, headers=headers)

    def bot_token(self, team: str) -> str | None:
        found = self.installs.find_installation(enterprise_id=None, team_id=team)
        bot = self.installs.find_bot(enterprise_id=None, team_id=team)
        assert (found is None) == (bot is None)  # both tables tell the same story
        return found.bot_token if found else None

    def add_source(self, team: str, label: str) -> int:
        return add_source(self.services.engine, cipher=self.services.cipher, label=label,
                          raw_token=TOKEN, now=NOW,
                          workspace_id=self.services.workspace_id(team))  # fmt: skip

    def sources(self, team: str) -> list[SourceView]:
        return list_sources(self.services.engine, include_removed=True,
                            workspace_id=self.services.workspace_id(team))  # fmt: skip


def flat(headers: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in headers.items()}


@pytest.fixture
def served(engine, fake_slack):
    env = {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET,
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake_slack.url}  # fmt: skip
    with httpx.Client(timeout=60) as http:
        services = SlackServices(engine=engine, cipher=TokenCipher(KEY),
                                 clarity=ClarityClient(http=http, base_url="http://127.0.0.1:9"),
                                 clock=lambda: NOW)  # fmt: skip
        # The same wiring as `claritybot serve`, SLACK_API_URL included.
        app = multi_workspace_app(services, slack_settings(env))
        server = make_server(app, host="127.0.0.1", port=0)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        client = Served(f"http://127.0.0.1:{server.effective_port}", services, fake_slack)
        yield client
        client.http.close()
        shutdown(server)
        thread.join(timeout=60)
        assert not thread.is_alive()


def test_the_install_page_links_to_slack_with_our_scopes_and_a_stored_state(served):
    page, link = served.install_page()
    assert page.status_code == 200 and served.fake.calls == []  # nothing asked of Slack yet
    url = urlsplit(link)
    query = parse_qs(url.query)
    assert (url.netloc, url.path) == ("slack.com", "/oauth/v2/authorize")
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"][0].split(",") == list(SCOPES)
    state = query["state"][0]
    assert f"slack-app-oauth-state={state}" in page.headers["set-cookie"]
    # The state is in our database, so any web process can finish the install.
    states = SQLAlchemyOAuthStateStore(expiration_seconds=60, engine=served.services.engine)
    with served.services.engine.connect() as conn:
        stored = conn.execute(select(states.oauth_states.c.state)).scalars().all()
    assert stored == [state]


def test_the_redirect_exchanges_the_code_at_slack_api_url_and_stores_the_install(served):
    back = served.install("T1", "code-1")
    assert back.status_code == 200
    (exchange,) = served.fake.called("oauth.v2.access")
    assert exchange.params["code"] == "code-1"
    basic = base64.b64decode(exchange.token.removeprefix("Basic ")).decode()
    assert basic == f"{CLIENT_ID}:{CLIENT_SECRET}"
    assert served.bot_token("T1") == "xoxb-T1-code-1"
    assert served.bot_token("T2") is None


def test_a_state_works_once_and_only_from_the_browser_that_asked(served):
    _, link = served.install_page()
    state = parse_qs(urlsplit(link).query)["state"][0]
    assert served.redirect("code-1", state).status_code == 400  # no cookie: another browser
    cookie = f"slack-app-oauth-state={state}"
    assert served.redirect("code-1", "forged", cookie="slack-app-oauth-state=forged").status_code \
        == 401  # fmt: skip
    assert served.redirect("code-1", state, cookie=cookie).status_code == 200
    assert served.redirect("code-2", state, cookie=cookie).status_code == 401  # replayed
    assert [c.params["code"] for c in served.fake.called("oauth.v2.access")] == ["code-1"]


def test_a_command_from_an_installed_team_runs_with_that_teams_stored_token(served):
    served.install("T1", "code-1")
    served.install("T2", "code-2")
    served.fake.reset()
    answer = served.command("help", team="T2")
    assert answer.status_code == 200 and HELP.split("\n")[0] in answer.text
    assert [c.token for c in served.fake.called("auth.test")] == ["xoxb-T2-code-2"]


def test_a_team_that_never_installed_is_not_authorized(served):
    served.install("T1", "code-1")
    served.fake.reset()
    answer = served.command("help", team="T9")
    assert answer.status_code == 200 and HELP.split("\n")[0] not in answer.text
    (apology,) = served.fake.wait_for("respond")
    assert "reinstall" in apology.params["text"]
    assert served.fake.called("auth.test") == []  # no token of another team was tried


def test_uninstalling_forgets_that_team_only_and_keeps_its_history(served):
    served.install("T1", "code-1")
    served.install("T2", "code-2")
    mine, theirs = served.add_source("T1", "Mine"), served.add_source("T2", "Theirs")
    subs = {team: subscribe(served.services.engine, NewSubscription(
        source_id=source, metrics=["sessions"], kind="slack", destination="C1"),
        workspace_id=served.services.workspace_id(team), now=NOW).id
        for team, source in (("T1", mine), ("T2", theirs))}  # fmt: skip
    assert served.event({"type": "app_uninstalled"}, team="T2").status_code == 200
    active = {s.id for s in list_subscriptions(served.services.engine)}
    assert active == {subs["T1"]}  # T2's reports stop with it
    assert served.bot_token("T2") is None
    (gone,) = served.sources("T2")
    assert (gone.id, gone.status, gone.enabled) == (theirs, "removed", False)
    assert "uninstalled" in (gone.status_reason or "")
    with served.services.engine.connect() as conn:  # the row stays, only its token is wiped
        rows = conn.exec_driver_sql(
            "SELECT id, token_encrypted FROM source ORDER BY id").all()  # fmt: skip
    assert rows[0][0] == mine and rows[0][1] != "" and rows[1] == (theirs, "")
    assert served.bot_token("T1") == "xoxb-T1-code-1"
    (kept,) = served.sources("T1")
    assert (kept.status, kept.enabled) == ("connected", True)
    served.fake.reset()
    assert HELP.split("\n")[0] not in served.command("help", team="T2").text  # must reinstall


def test_a_revoked_bot_token_is_forgotten_for_that_team_only(served):
    served.install("T1", "code-1")
    served.install("T2", "code-2")
    served.add_source("T2", "Theirs")
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    assert served.event(revoked, team="T2").status_code == 200
    assert served.bot_token("T2") is None and served.bot_token("T1") == "xoxb-T1-code-1"
    (still,) = served.sources("T2")  # Clarity tokens are not Slack's to revoke
    assert still.status == "connected"


def test_lifecycle_events_with_a_bad_signature_are_rejected(served):
    served.install("T2", "code-2")
    served.add_source("T2", "Theirs")
    forged = served.event({"type": "app_uninstalled"}, team="T2", secret="not-the-secret")
    assert forged.status_code == 401
    assert served.bot_token("T2") == "xoxb-T2-code-2"
    assert [s.status for s in served.sources("T2")] == ["connected"]


def test_migration_0004_builds_exactly_slack_sdks_tables(engine):
    theirs = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(theirs, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(theirs, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, "slack_oauth_states")
    assert set(theirs.tables) == SLACK_TABLES

    def only_slack(_obj, name, type_, _reflected, _compare_to):
        return type_ != "table" or name in SLACK_TABLES

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": only_slack, "compare_type": True}
        )
        assert compare_metadata(context, theirs) == []
        bots = select(func.count()).select_from(theirs.tables["slack_bots"])
        assert conn.execute(bots).scalar() == 0  # slack-sdk's own queries run on it


def test_the_manifest_asks_for_the_scopes_installs_ask_for_and_sends_lifecycle_events():
    assert list(SCOPES) == MANIFEST["oauth_config"]["scopes"]["bot"]
    (redirect,) = MANIFEST["oauth_config"]["redirect_urls"]
    assert redirect == f"https://YOUR-HOST{REDIRECT_PATH}"
    events = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(events)


def test_settings_for_a_multi_workspace_install():
    oauth = {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET}
    settings = slack_settings(oauth | {"SLACK_SIGNING_SECRET": "s"})
    assert settings.multi_workspace and not settings.socket_mode
    assert (settings.client_id, settings.client_secret, settings.bot_token) == (
        CLIENT_ID, CLIENT_SECRET, "")  # fmt: skip
    single = slack_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"})
    assert not single.multi_workspace
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        slack_settings(oauth)
    with pytest.raises(ConfigError, match="SLACK_CLIENT_SECRET is not set"):
        slack_settings({"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_SIGNING_SECRET": "s"})
    with pytest.raises(ConfigError, match="SLACK_CLIENT_ID is not set"):
        slack_settings({"SLACK_CLIENT_SECRET": CLIENT_SECRET, "SLACK_SIGNING_SECRET": "s"})
    with pytest.raises(ConfigError, match="not both"):
        slack_settings(oauth | {"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1"})
    with pytest.raises(ConfigError, match="unset SLACK_APP_TOKEN"):
        slack_settings(oauth | {"SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": "xapp-1"})
    with pytest.raises(ConfigError, match="SLACK_CLIENT_ID"):  # the way out is named too
        slack_settings({})


def test_the_worker_reaches_each_workspace_with_its_own_install(served):
    served.install("T1", "code-1")
    served.install("T2", "code-2")
    clients = WorkspaceClients(
        served.services.engine,
        api_url=served.fake.url,
        client_id=CLIENT_ID,
        cipher=served.services.cipher,
    )
    engine_ws = served.services.workspace_id
    assert clients.for_workspace(engine_ws("T2")).token == "xoxb-T2-code-2"
    assert clients.for_workspace(engine_ws("T1")).token == "xoxb-T1-code-1"
    assert clients.for_workspace(engine_ws("T3")) is None  # never installed
    served.event({"type": "app_uninstalled"}, team="T2")
    assert clients.for_workspace(engine_ws("T2")) is None


def test_slack_tokens_are_encrypted_at_rest_and_rotate(served):
    served.install("T1", "code-1")
    engine = served.services.engine
    with engine.connect() as conn:
        rows = [
            dict(r._mapping)
            for table in ("slack_installations", "slack_bots")
            for r in conn.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 (our names)
        ]
    assert rows and all("xoxb-T1-code-1" not in str(r) for r in rows)
    stored = {r["bot_token"] for r in rows}
    assert len(stored) >= 1 and all(t.startswith("gAAAA") for t in stored)
    # a second key first: new writes use it, old rows are still read with the old one
    new = generate_key()
    rotated = TokenCipher(f"{new},{KEY}")
    store = installation_store(engine, CLIENT_ID, rotated)
    assert store.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-T1-code-1"
    installed = store.find_installation(enterprise_id=None, team_id="T1")
    assert installed.bot_token == "xoxb-T1-code-1"
    store.save(installed)  # re-saved: encrypted with the new first key
    fresh = installation_store(engine, CLIENT_ID, TokenCipher(new))
    assert fresh.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-T1-code-1"


def test_no_token_reaches_the_log_at_debug(served, engine):
    import io
    import logging

    from bot.cli import _log_to
    from bot.cli.runtime import Runtime

    err = io.StringIO()
    runtime = Runtime(environ={"LOG_LEVEL": "DEBUG"}, out=io.StringIO(), err=err)
    handler = _log_to(runtime)
    try:
        served.install("T1", "code-1")  # slack-sdk logs oauth.v2.access's answer at DEBUG
        served.event({"type": "app_home_opened", "user": "U1", "tab": "home"}, team="T1")
        logging.getLogger("httpx").debug("a JWT %s and %s", TOKEN, "xapp-1-A1-secret")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    logged = err.getvalue()
    assert "DEBUG slack_sdk" in logged and "[redacted]" in logged  # it did log, and blanked
    for secret in ("xoxb-", "xapp-", TOKEN, CLIENT_SECRET):
        assert secret not in logged
