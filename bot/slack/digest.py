"""`/clarity chart digest`: the digest report, built as a subscription's, posted here now.

It is built through the same path as a scheduled report, as of now, from stored history (no
Clarity call), and never touches the delivery ledger.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from bot.slack.calls import Reply, find_source
from bot.slack.deliver import report_post
from bot.slack.posting import Poster, SlackPostError
from bot.slack.services import SlackServices
from reports.delivery.sendnow import current_report
from reports.delivery.subscriptions import DIGEST
from reports.errors import UsageError
from store.models import Subscription
from store.vocab import DestinationKind, Frequency

# The digest as the report of this frequency shows it: its days are that report's window.
DIGEST_DAYS: Final[dict[int, Frequency]] = {30: Frequency.DAILY, 90: Frequency.MONTHLY}


def parse_digest_args(args: list[str]) -> tuple[Frequency, str]:
    """Return (frequency, project ref) from `digest [30|90] [project]`.

    Any other number is a project id: a project button adds the id picked to the command.
    """
    rest = args[1:]
    days = int(rest.pop(0)) if rest and rest[0] in ("30", "90") else 30
    return DIGEST_DAYS[days], " ".join(rest)


def digest(
    services: SlackServices, poster: Poster, workspace_id: int, channel: str, args: list[str]
) -> Reply:
    """Post the digest report in `channel`, as a subscription to it would show it now."""
    frequency, ref = parse_digest_args(args)
    try:
        source = find_source(services, workspace_id, ref, channel)
    except UsageError as exc:
        if not ref.isdigit():
            raise
        raise UsageError(
            f"{exc} The digest covers 30 or 90 days: `/clarity chart digest 90`."
        ) from None
    sub = Subscription(
        workspace_id=workspace_id,
        source_id=source.id or 0,
        metrics=[DIGEST],
        destination_kind=DestinationKind.SLACK,
        destination=channel,
        frequency=frequency,
    )
    report = current_report(services.delivery(), sub, services.clock())
    try:
        poster.post(channel, report_post(replace(report, title="Digest"), sub))
    except SlackPostError as exc:
        return Reply(str(exc))
    return Reply("")
