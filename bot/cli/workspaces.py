"""`claritybot workspaces link`: one set of projects for the CLI and a Slack workspace."""

from __future__ import annotations

import argparse
import re
from typing import Any, Final

from bot.cli.runtime import Runtime
from reports.errors import UsageError

TEAM_ID: Final = re.compile(r"[TE][A-Z0-9]{2,20}")


def register(commands: Any) -> None:
    """Add the workspaces subcommand."""
    group = commands.add_parser("workspaces", help="attach the CLI's projects to a Slack workspace")
    sub = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    link = sub.add_parser(
        "link", help="move the CLI's projects, reports and alerts into a Slack workspace"
    )
    link.add_argument(
        "team", help="the Slack team id, e.g. T0123ABCD (Slack: About this workspace)"
    )
    link.set_defaults(handler=link_command)


def slack_workspace(team: str) -> str:
    """The stored name of a Slack workspace, from its team id; anything else is refused."""
    team = team.strip()
    if not TEAM_ID.fullmatch(team):
        raise UsageError(
            f"{team[:40]!r} is not a Slack team id: it looks like T0123ABCD "
            "(in Slack, open the workspace menu → Settings; or `/clarity doctor`)."
        )
    return f"slack:{team}"


def workspace_id_for(rt: Runtime, team: str | None) -> int | None:
    """Our workspace id for `--workspace TEAM`, created on first use; None for the CLI's own."""
    from store import repository
    from store.db import session_scope

    if not team:
        return None
    name = slack_workspace(team)
    with session_scope(rt.engine) as session:
        return repository.ensure_workspace(session=session, name=name).id or 0


def link_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Move the CLI's projects into the Slack workspace, so `/clarity status` shows them."""
    from store import repository
    from store.db import session_scope

    name = slack_workspace(args.team)
    with session_scope(rt.engine) as session:
        _target, moved = repository.link_workspace(session=session, name=name)
    rt.out.write(
        f"Moved {moved} project(s) into Slack workspace {args.team.strip()}: "
        "`/clarity status` there lists them. A single-workspace `claritybot serve` shares the "
        "CLI's projects without this step.\n"
    )
    return 0
