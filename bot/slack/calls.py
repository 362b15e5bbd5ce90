"""What a `/clarity` handler is given (a Call) and gives back (a Reply), and the guard around it.

Every handler takes the calling workspace's id and touches only that workspace's data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

from slack_bolt import BoltContext
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.slack.posting import Poster
from bot.slack.services import SlackServices
from bot.slack.text import escape
from reports.errors import ClaritybotError, UsageError
from store import repository
from store.db import session_scope
from store.models import Source

log = logging.getLogger(__name__)
DATABASE_DOWN: Final = "The database is unavailable, try again in a minute."


@dataclass(frozen=True)
class Reply:
    """What to tell the person who ran the command (ephemeral)."""

    text: str
    blocks: list[dict[str, object]] | None = None


@dataclass(frozen=True)
class Call:
    """One `/clarity` command as its handler sees it: who, where, and the words after it."""

    services: SlackServices
    client: WebClient
    poster: Poster
    context: BoltContext
    command: dict[str, Any]
    args: list[str]

    @cached_property
    def workspace(self) -> int:
        """Our workspace for the calling Slack team (created on first use)."""
        return self.services.workspace_id(self.context.team_id, self.context.enterprise_id)

    @property
    def user(self) -> str:
        """Who typed the command."""
        return str(self.command.get("user_id", ""))

    @property
    def channel(self) -> str:
        """Where the command was typed."""
        return str(self.command.get("channel_id", ""))

    @property
    def rest(self) -> str:
        """The arguments as one phrase (a project label may have spaces)."""
        return " ".join(self.args)


def find_source(services: SlackServices, workspace_id: int, ref: str) -> Source:
    """Resolve a project by id or label within this workspace; with one project, `ref` may be ""."""
    with session_scope(services.engine) as session:
        mine = list(repository.list_sources(session=session, workspace_id=workspace_id))
    if not mine:
        raise UsageError("No Clarity project is connected here yet. Run `/clarity connect`.")
    if not ref:
        if len(mine) == 1:
            return mine[0]
        names = ", ".join(f"`{s.id}` {escape(s.label)}" for s in mine)
        raise UsageError(f"Which project? Add its id or label: {names}.")
    for source in mine:
        if ref == str(source.id) or ref.lower() == source.label.lower():
            return source
    raise UsageError(f"No project {escape(ref)!r} here. `/clarity status` lists them.")


def safely(action: str, run: Callable[[], Reply]) -> Reply:
    """Turn our errors into a reply; anything unexpected is logged and reported plainly."""
    try:
        return run()
    except ClaritybotError as exc:
        return Reply(str(exc))
    except Exception as exc:
        if database_down(exc):
            log.warning("/clarity %s: the database is unavailable (%s)", action, _first_line(exc))
            return Reply(DATABASE_DOWN)
        log.exception("/clarity %s failed", action)
        return Reply(
            f"Something went wrong with `/clarity {action}`. It was logged; try again, "
            "or `/clarity status` to see where things stand."
        )


def database_down(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached (not that a query was wrong)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
