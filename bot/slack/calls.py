"""What a `/clarity` handler is given (a Call) and gives back (a Reply), and the guard around it.

Every handler takes the calling workspace's id and touches only that workspace's data.
"""

from __future__ import annotations

import json
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


class ProjectChoice(UsageError):
    """A command needs a project and there are several: the reply offers one button each."""

    def __init__(self, choices: list[tuple[int, str]]) -> None:
        names = ", ".join(f"`{sid}` {escape(label)}" for sid, label in choices)
        super().__init__(f"Which project? Pick one below, or add its id or label: {names}.")
        self.choices = choices


def find_source(
    services: SlackServices, workspace_id: int, ref: str, channel: str | None = None
) -> Source:
    """Resolve a project by id or label within this workspace; with one project, `ref` may be "".

    With a `channel`, a project that channel picked before stands in for a missing `ref`.
    """
    with session_scope(services.engine) as session:
        mine = list(repository.list_sources(session=session, workspace_id=workspace_id))
    if not mine:
        raise UsageError("No Clarity project is connected here yet. Run `/clarity connect`.")
    if not ref:
        if len(mine) == 1:
            return mine[0]
        picked = services.remembered(workspace_id, channel) if channel else None
        chosen = next((s for s in mine if picked is not None and s.id == picked), None)
        if chosen is not None:
            return chosen
        raise ProjectChoice([(s.id or 0, s.label) for s in mine])
    for source in mine:
        if ref == str(source.id) or ref.lower() == source.label.lower():
            return source
    raise UsageError(f"No project {escape(ref)!r} here. `/clarity status` lists them.")


PICK_ACTION = "pick_project"


def project_buttons(command: str, choices: list[tuple[int, str]]) -> list[dict[str, object]]:
    """ "Which project?" with one button per project; a click runs `command` for it."""
    buttons: list[dict[str, object]] = [
        {
            "type": "button",
            "action_id": f"{PICK_ACTION}_{sid}",
            "text": {"type": "plain_text", "text": label[:75] or f"Project {sid}"},
            "value": json.dumps({"s": sid, "c": command[:1500]}, separators=(",", ":")),
        }
        for sid, label in choices[:25]
    ]
    text = "Which project? This channel will remember your pick."
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "actions", "elements": buttons},
    ]


def safely(action: str, run: Callable[[], Reply], again: str = "") -> Reply:
    """Turn our errors into a reply; anything unexpected is logged and reported plainly.

    `again` is the command's text: a project button runs it once more for the project picked.
    """
    try:
        return run()
    except ProjectChoice as exc:
        return Reply(str(exc), project_buttons(again or action, exc.choices))
    except ClaritybotError as exc:
        return Reply(exc.slack_text)
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
