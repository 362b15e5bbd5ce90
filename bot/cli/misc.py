"""`claritybot demo`, `keygen`, `migrate`, `sandbox` and `serve`."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bot.cli.numbers import bounded_int
from bot.cli.runtime import Runtime
from reports.errors import ClaritybotError, UsageError

if TYPE_CHECKING:  # the Slack stack loads only for `serve`, like the imports in serve_command
    from slack_bolt import App

    from bot.slack.services import SlackServices
    from reports.settings import SlackSettings

DEMO_DAYS: Final = 14
DEMO_OUT: Final = "claritybot-demo"


def register(commands: Any) -> None:
    """Add the demo, keygen, migrate and sandbox subcommands."""
    demo = commands.add_parser("demo", help="sandbox + SQLite + N simulated nights, then a story")
    demo.add_argument(
        "--days", type=bounded_int(1, 400), default=DEMO_DAYS, help="simulated days (default 14)"
    )
    demo.add_argument("--out", default=DEMO_OUT, help="folder for the demo's files")
    demo.add_argument("--timezone", default="Europe/London", help="demo workspace timezone")
    demo.add_argument(
        "--details",
        action="store_true",
        help="after the story, every table: daily totals, run log, pages, devices, quota, charts",
    )
    demo.set_defaults(handler=demo_command)

    keygen = commands.add_parser("keygen", help="print a new CLARITYBOT_SECRET_KEY")
    keygen.set_defaults(handler=keygen_command)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(handler=migrate_command)

    sandbox = commands.add_parser("sandbox", help="run the built-in Clarity sandbox server")
    sandbox.add_argument("--port", type=bounded_int(0, 65535), default=8765)
    sandbox.set_defaults(handler=sandbox_command)

    serve = commands.add_parser("serve", help="run the Slack app (HTTP or Socket Mode)")
    serve.set_defaults(handler=serve_command)


def serve_command(_args: argparse.Namespace, rt: Runtime) -> int:
    """Run the Slack app until interrupted."""
    from bot.slack.serve import serve_http, serve_socket_mode
    from bot.slack.unsubscribe import Unsubscribe

    slack = rt.settings.slack.for_serving()
    services = rt.slack_services(pooled=True)  # charts drawn where acks never wait
    # One workspace shares the CLI's projects: `sources add` shows in `/clarity status`.
    services.single_workspace = not slack.multi_workspace
    # Email digests' one-click unsubscribe links land here (HTTP mode).
    unsubscribe = Unsubscribe(engine=rt.engine, links=rt.links, clock=rt.clock)
    if slack.multi_workspace:
        app = multi_workspace_app(services, slack)
    else:
        app = single_workspace_app(services, slack)

    def announce(line: str) -> None:
        rt.out.write(line + "\n")
        rt.out.flush()

    if slack.app_token:
        serve_socket_mode(app, slack.app_token, announce)
    else:
        serve_http(
            app, host=slack.host, port=slack.port, unsubscribe=unsubscribe, announce=announce
        )
    return 0


def single_workspace_app(services: SlackServices, slack: SlackSettings) -> App:
    """The Slack app for one workspace, with SLACK_BOT_TOKEN (checked by Bolt at start)."""
    from bot.slack.app import create_app
    from bot.slack.posting import web_client

    client = web_client(slack.bot_token, slack.api_url)
    try:  # Bolt checks the token with auth.test before serving anything
        return create_app(
            services,
            signing_secret=slack.signing_secret or "socket-mode",
            client=client,
            verify_requests=not slack.socket_mode,
        )
    except Exception as exc:
        raise ClaritybotError(
            f"Slack did not accept SLACK_BOT_TOKEN or could not be reached at {slack.api_url} "
            f"({type(exc).__name__}). Check the token, SLACK_API_URL and the network."
        ) from None


def multi_workspace_app(services: SlackServices, slack: SlackSettings) -> App:
    """The Slack app installed over OAuth: each workspace's bot token is read from the database."""
    from bot.slack.app import create_app
    from bot.slack.oauth import oauth_settings
    from bot.slack.posting import web_client

    settings = oauth_settings(
        services.engine,
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        cipher=services.cipher,
    )
    # No token: nothing to check at start. The code exchange and each request's auth.test go
    # through this client, so they honour SLACK_API_URL too.
    client = web_client(None, slack.api_url)
    return create_app(
        services, signing_secret=slack.signing_secret, client=client, oauth_settings=settings
    )


def demo_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Run the demo and print its story (and, with --details, every table behind it)."""
    # Imported here, not at the top: `tick` and `worker` start faster without the sandbox.
    from bot.cli.demo import run_demo
    from bot.cli.demo_story import render_story
    from bot.cli.demo_text import render_details

    if not 1 <= args.days <= 400:
        raise UsageError("--days must be between 1 and 400.")
    run = run_demo(out_dir=Path(args.out), days=args.days, now=rt.clock(), timezone=args.timezone)
    # The story says where the demo-only key is: stderr stays for what went wrong.
    rt.out.write(render_story(run, again=details_command(args)))
    if args.details:
        rt.out.write("\n" + render_details(run))
    complete = all(result.complete for result in run.results)
    return 0 if complete else 1


def details_command(args: argparse.Namespace) -> str:
    """The command that prints this demo's tables again (no calls: its days are stored)."""
    words = ["claritybot demo --details"]
    if args.out != DEMO_OUT:
        words.append(f"--out {shlex.quote(args.out)}")
    if args.days != DEMO_DAYS:
        words.append(f"--days {args.days}")
    return " ".join(words)


def keygen_command(_args: argparse.Namespace, rt: Runtime) -> int:
    """Print a fresh encryption key."""
    from store.crypto import generate_key

    rt.out.write(generate_key() + "\n")
    return 0


def migrate_command(_args: argparse.Namespace, rt: Runtime) -> int:
    """Upgrade the database to the newest schema."""
    from store.db import make_engine
    from store.migrate import upgrade

    engine = make_engine(rt.settings.database_url)
    upgrade(engine)
    engine.dispose()
    rt.out.write("Database schema is up to date.\n")
    return 0


def sandbox_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Serve the sandbox until SIGINT or SIGTERM."""
    from reports.clarity.sandbox import ClaritySandbox  # see demo_command

    with ClaritySandbox(port=args.port) as sandbox:
        rt.out.write(
            f"Clarity sandbox listening.\n  CLARITY_API_URL={sandbox.url}\n"
            f"  token: {sandbox.issue_token('demo')}\n(Ctrl-C to stop)\n"
        )
        rt.out.flush()
        sandbox.serve_until_signalled()
    return 0
