"""The `claritybot` command line. Names, flags and output formats here are stable contracts.

The parser is built from every command module, so those modules import only light things at
the top; the database, HTTP, Slack, AI and chart libraries are imported inside the handlers
that use them (tests/bot/test_cli_startup.py checks `--help` loads none of them).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TextIO

from bot.cli import alerts, charts, data, misc, scheduling, sources, subscriptions
from bot.cli.redact import RedactSecrets
from bot.cli.runtime import Runtime
from reports.errors import ClaritybotError, ClarityError, UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="claritybot",
        description="Keeps a daily history of Microsoft Clarity data and reports on it.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sources.register(commands)
    data.register(commands)
    scheduling.register(commands)
    charts.register(commands)
    subscriptions.register(commands)
    alerts.register(commands)
    misc.register(commands)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Run one command; return its exit status (0 ok, 1 failed, 2 bad input or config)."""
    runtime = Runtime(
        environ=os.environ if environ is None else environ,
        out=out or sys.stdout,
        err=err or sys.stderr,
    )
    if clock is not None:
        runtime.clock = clock
    parser = build_parser()
    try:
        with contextlib.redirect_stderr(runtime.err):  # usage errors go where ours go
            args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on bad flags
        return int(exc.code or 0)
    handler = _log_to(runtime)
    try:
        return int(args.handler(args, runtime))
    except (UsageError, ClarityError, ClaritybotError) as exc:
        runtime.err.write(f"claritybot: {exc}\n")
        return EXIT_USAGE if not isinstance(exc, ClarityError) else EXIT_FAILED
    except KeyboardInterrupt:
        runtime.err.write("claritybot: interrupted\n")
        return 130
    finally:
        runtime.close()
        logging.getLogger().removeHandler(handler)


def _log_to(runtime: Runtime) -> logging.Handler:
    """Send logs to this run's stderr at LOG_LEVEL; removed again when the command ends."""
    from reports.settings import log_level  # settings load the database layer: after --help

    name = log_level(runtime.environ)
    handler = logging.StreamHandler(runtime.err)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())  # no token in any log line, slack-sdk's DEBUG included
    root = logging.getLogger()
    root.setLevel(getattr(logging, name, logging.WARNING))
    root.addHandler(handler)
    return handler
