"""`claritybot sources ...` and `claritybot timezone`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli import workspaces
from bot.cli.numbers import ID
from bot.cli.runtime import Runtime
from reports.errors import UsageError
from reports.ingest import importfile
from reports.timezones import parse_timezone


def register(commands: Any) -> None:
    """Add the sources and timezone subcommands."""
    group = commands.add_parser("sources", help="connect, list and remove Clarity projects")
    sub = group.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = sub.add_parser("add", help="connect a Clarity project; prints the new source id")
    add.add_argument("--label", required=True, help="a name people will recognise")
    add.add_argument("--token-file", required=True, help="file holding the API token, or -")
    add.add_argument(
        "--workspace", metavar="TEAM", help="a Slack team id (T0123…): the project shows there"
    )
    add.add_argument(
        "--project-id",
        metavar="ID",
        help="Clarity's project id, for 'Open in Clarity' links (default: from the token)",
    )
    add.set_defaults(handler=add_source)
    _register_changes(sub)

    workspaces.register(commands)
    tz = commands.add_parser("timezone", help="show or set the workspace timezone")
    tz.add_argument("name", nargs="?", help="an IANA name such as Europe/London")
    tz.set_defaults(handler=timezone)


def _register_changes(sub: Any) -> None:
    """Add import, list, remove, set-token and set-project-id under `sources`."""
    bulk = sub.add_parser("import", help="connect many projects from a CSV or JSON Lines file")
    bulk.add_argument(
        "file", help="columns label, token or token_file, [timezone], [workspace], [project_id]"
    )
    bulk.add_argument("--format", choices=importfile.FORMATS, help="default: from the ending")
    bulk.add_argument("--json", action="store_true", help="machine-readable output")
    bulk.set_defaults(handler=import_sources)

    listing = sub.add_parser("list", help="list sources and their status")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--all", action="store_true", help="include removed sources")
    listing.set_defaults(handler=list_sources)

    remove = sub.add_parser("remove", help="forget a source's token (history is kept)")
    remove.add_argument("id", type=ID)
    remove.add_argument("--purge", action="store_true", help="also delete its stored history")
    remove.set_defaults(handler=remove_source)

    rekey = sub.add_parser("set-token", help="replace a source's token and enable it again")
    rekey.add_argument("id", type=ID)
    rekey.add_argument("--token-file", required=True, help="file holding the API token, or -")
    rekey.set_defaults(handler=set_token)

    link = sub.add_parser(
        "set-project-id", help="set a source's Clarity project id (for 'Open in Clarity' links)"
    )
    link.add_argument("id", type=ID)
    link.add_argument("project_id", metavar="PROJECT_ID", help="as in the dashboard's address")
    link.set_defaults(handler=set_project_id)


def read_token_file(name: str, what: str = "token file") -> str:
    """Read a token (or another file argument) from a file or stdin, without ever echoing it."""
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
        raise UsageError(f"Cannot read the {what} {name}: {reason}.") from None


def add_source(args: argparse.Namespace, rt: Runtime) -> int:
    """Store a new source and print its id (alone on stdout, for scripts)."""
    from reports.ingest import sources

    token = read_token_file(args.token_file)
    workspace_id = workspaces.workspace_id_for(rt, args.workspace)
    source_id = sources.add_source(
        rt.engine,
        cipher=rt.cipher,
        label=args.label,
        raw_token=token,
        now=rt.clock(),
        workspace_id=workspace_id,
        project_id=args.project_id,
    )
    rt.out.write(f"{source_id}\n")
    rt.err.write(
        f"Connected source {source_id} ({args.label.strip()}). Take yesterday's snapshot with "
        f"`claritybot snapshot --source {source_id}`.\n"
    )
    return 0


def import_sources(args: argparse.Namespace, rt: Runtime) -> int:
    """Connect every good line of an import file; report each line; exit 2 if any was bad."""
    from reports.ingest import bulk as bulk_import

    name = args.file
    text = read_token_file(name, "import file")
    lines = importfile.read_lines(text, importfile.format_of(name, args.format))
    base = Path(name).resolve().parent if name != "-" else Path.cwd()
    results = bulk_import.import_sources(
        rt.engine, cipher=rt.cipher, lines=lines, base=base, now=rt.clock()
    )
    if args.json:
        rows = [
            {"line": r.number, "label": r.label, "id": r.source_id, "error": r.error}
            for r in results
        ]
        rt.out.write(json.dumps(rows, indent=2) + "\n")
    else:
        for r in results:
            what = f"source {r.source_id}" if r.error is None else f"not added: {r.error}"
            rt.out.write(f"line {r.number}: {r.label or '(no label)'}: {what}\n")
    bad = sum(1 for r in results if r.error is not None)
    rt.err.write(f"Connected {len(results) - bad} of {len(results)} projects.\n")
    return 0 if bad == 0 else 2


def list_sources(args: argparse.Namespace, rt: Runtime) -> int:
    """Print sources as a table or JSON."""
    from reports.ingest import sources

    views = sources.list_sources(rt.engine, include_removed=args.all)
    if args.json:
        rows = [
            {
                "id": v.id,
                "label": v.label,
                "status": v.status,
                "enabled": v.enabled,
                "status_reason": v.status_reason,
                "token_fingerprint": v.token_fingerprint,
                "timezone": v.timezone,
                "last_snapshot": v.last_snapshot.isoformat() if v.last_snapshot else None,
                "created_at": v.created_at.isoformat(),
                "clarity_project_id": v.clarity_project_id,
            }
            for v in views
        ]
        rt.out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not views:
        rt.out.write("No sources yet: `claritybot sources add --label L --token-file F`.\n")
        return 0
    rt.out.write(f"{'id':>4}  {'status':<16} {'last snapshot':<13}  label\n")
    for v in views:
        last = v.last_snapshot.isoformat() if v.last_snapshot else "never"
        rt.out.write(f"{v.id:>4}  {v.status:<16} {last:<13}  {v.label}\n")
        if v.status_reason:
            rt.out.write(f"      ↳ {v.status_reason}\n")
    return 0


def remove_source(args: argparse.Namespace, rt: Runtime) -> int:
    """Remove a source (token wiped), optionally with its history."""
    from reports.ingest import sources

    sources.remove_source(rt.engine, source_id=args.id, purge=args.purge, now=rt.clock())
    what = (
        "and its history, subscriptions and alerts were deleted"
        if args.purge
        else "was removed; its subscriptions and alerts stop, its history is kept"
    )
    rt.out.write(f"Source {args.id} {what}.\n")
    return 0


def set_token(args: argparse.Namespace, rt: Runtime) -> int:
    """Replace a source's token."""
    from reports.ingest import sources

    token = read_token_file(args.token_file)
    sources.set_token(
        rt.engine, cipher=rt.cipher, source_id=args.id, raw_token=token, now=rt.clock()
    )
    rt.out.write(f"Source {args.id} has a new token and is enabled.\n")
    return 0


def set_project_id(args: argparse.Namespace, rt: Runtime) -> int:
    """Set the Clarity project id that reports link to."""
    from reports.ingest import sources
    from reports.urls import clarity_dashboard_url

    found = sources.set_project_id(
        rt.engine, source_id=args.id, project_id=args.project_id, now=rt.clock()
    )
    rt.out.write(f"Source {args.id} links to {clarity_dashboard_url(found)}\n")
    return 0


def timezone(args: argparse.Namespace, rt: Runtime) -> int:
    """Show or set the default workspace's timezone."""
    from store import repository
    from store.db import session_scope

    with session_scope(rt.engine) as session:
        workspace = repository.default_workspace(session=session)
        if args.name is None:
            rt.out.write(f"{workspace.timezone}\n")
            return 0
        zone = parse_timezone(args.name)
        workspace.timezone = str(zone)
        session.add(workspace)
    local = rt.clock().astimezone(zone)
    rt.out.write(
        f"Workspace timezone set to {zone} (local time now {local:%Y-%m-%d %H:%M %Z}). "
        "Snapshots of each day are taken after its local midnight.\n"
    )
    return 0
