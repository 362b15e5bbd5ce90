"""`claritybot demo`, `keygen`, `migrate` and `sandbox`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bot.cli.runtime import Runtime
from reports.demo import render_summary, run_demo
from reports.errors import UsageError
from reports.sandbox import ClaritySandbox
from store.crypto import generate_key
from store.db import make_engine
from store.migrate import upgrade


def register(commands: Any) -> None:
    """Add the demo, keygen, migrate and sandbox subcommands."""
    demo = commands.add_parser("demo", help="sandbox + SQLite + N simulated days, then a summary")
    demo.add_argument("--days", type=int, default=14, help="simulated days (default 14)")
    demo.add_argument("--out", default="claritybot-demo", help="folder for the demo's files")
    demo.add_argument("--timezone", default="Europe/London", help="demo workspace timezone")
    demo.set_defaults(handler=demo_command)

    keygen = commands.add_parser("keygen", help="print a new CLARITYBOT_SECRET_KEY")
    keygen.set_defaults(handler=keygen_command)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(handler=migrate_command)

    sandbox = commands.add_parser("sandbox", help="run the built-in Clarity sandbox server")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.set_defaults(handler=sandbox_command)

    for name, what in (("serve", "the Slack app"), ("worker", "the nightly scheduler")):
        later = commands.add_parser(name, help=f"{what} (not in this version yet)")
        later.set_defaults(handler=_not_yet, what=what)


def _not_yet(args: argparse.Namespace, _rt: Runtime) -> int:
    raise UsageError(
        f"`claritybot {args.command}` ({args.what}) is not in this version yet. Meanwhile, run "
        "`claritybot snapshot --source ID` from cron shortly after local midnight."
    )


def demo_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Run the demo and print its summary."""
    if not 1 <= args.days <= 400:
        raise UsageError("--days must be between 1 and 400.")
    run = run_demo(out_dir=Path(args.out), days=args.days, now=rt.clock(), timezone=args.timezone)
    if run.key_created:
        rt.err.write(
            f"warning: generated a demo-only encryption key in {run.out_dir}/secret.key; "
            "set CLARITYBOT_SECRET_KEY for real use.\n"
        )
    rt.out.write(render_summary(run))
    complete = all(result.complete for result in run.results)
    return 0 if complete else 1


def keygen_command(_args: argparse.Namespace, rt: Runtime) -> int:
    """Print a fresh encryption key."""
    rt.out.write(generate_key() + "\n")
    return 0


def migrate_command(_args: argparse.Namespace, rt: Runtime) -> int:
    """Upgrade the database to the newest schema."""
    engine = make_engine(rt.settings.database_url)
    upgrade(engine)
    engine.dispose()
    rt.out.write("Database schema is up to date.\n")
    return 0


def sandbox_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Serve the sandbox until interrupted."""
    with ClaritySandbox(port=args.port) as sandbox:
        rt.out.write(
            f"Clarity sandbox listening.\n  CLARITY_API_URL={sandbox.url}\n"
            f"  token: {sandbox.issue_token('demo')}\n(Ctrl-C to stop)\n"
        )
        rt.out.flush()
        while True:
            time.sleep(3600)
