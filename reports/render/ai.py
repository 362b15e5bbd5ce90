"""EDGE: optional AI phrasing of computed facts — checked number by number, never trusted.

The model gets aggregate numbers and labels only (never a token), website strings as quoted
JSON data. Every number in its answer must match a fact; if one does not, or the call fails,
times out or refuses, the deterministic summary is used instead and the reason is logged.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from reports.render.facts import Facts
from reports.render.summary import deterministic_all
from reports.settings import DEFAULT_MODEL, AiSettings
from reports.templates import template_env
from reports.textfmt import visible

if TYPE_CHECKING:  # openai loads only when a key is set: most installs never need it
    from openai import OpenAI

log = logging.getLogger(__name__)
# A number as people write it: 1,234 · 2.9 · 1.2k · -12 (the sign is dropped: "down 12 %").
PROMPT_TEXT_MAX: Final = 200  # a label or URL longer than this says nothing more to a model
_NUMBER: Final = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(k\b)?")


class SummarySource(StrEnum):
    """Who wrote a summary (shown on a report, never stored)."""

    AI = "ai"
    TEMPLATE = "template"  # the deterministic text: no AI set up, or its answer was not usable


@dataclass(frozen=True)
class Summary:
    """What goes under a chart, and where it came from."""

    text: str
    source: SummarySource
    reason: str | None = None  # why the AI text was not used


# How each rule combines days, in words the model can repeat without inventing a definition.
RULE_WORDS: Final = {
    "sum": "total of the days",
    "weighted": "average weighted by sessions",
    "users": "distinct users per day (never summed: the window value is a daily average)",
    "rate": "per 100 sessions, from the summed counts",
}


def prompt_text(text: str | None) -> str:
    """The one escape for website or user text in a prompt: visible characters only, bounded.

    JSON quoting keeps it data; the system prompt says never to follow it.
    """
    return visible(text)[:PROMPT_TEXT_MAX]


def facts_payload(facts: Sequence[Facts]) -> list[dict[str, Any]]:
    """The facts as JSON-able data: aggregate numbers and labels, nothing else."""
    return [_fact_payload(f) for f in facts]


def _r(value: float | None) -> float | None:
    """A number rounded for the prompt; a gap stays None, never a zero."""
    return None if value is None else round(value, 2)


def _fact_payload(f: Facts) -> dict[str, Any]:
    """One metric's facts, in the key order the prompt has always had."""
    return {
        "project": prompt_text(f.source_label),
        "metric": f.metric.label,
        "unit": f.metric.unit,
        "higher_is_better": f.metric.higher_is_better,
        "latest": {
            "day": f.latest_day.isoformat() if f.latest_day else None,
            "value": _r(f.latest),
        },
        "combined_by": RULE_WORDS[f.metric.rule],
        **_windows_payload(f),
        "caveats": _caveats_payload(f),
        "movers": _movers_payload(f),
    }


def _windows_payload(f: Facts) -> dict[str, Any]:
    """Last week, the last and previous 7 days and the 7- and 28-day averages."""
    return {
        "same_weekday_last_week": _r(f.week_ago),
        "change_vs_last_week_pct": _r(f.change_week_pct),
        "change_vs_last_week_points": _r(f.change_week) if f.in_points else None,
        "last_7_days": _r(f.period.value),
        "last_7_days_is": "daily average" if f.period.per_day else "combined",
        "last_7_days_days_with_data": f.period.days_with_data,
        "previous_7_days": _r(f.previous_period),
        "change_vs_previous_7_days_pct": _r(f.change_period_pct),
        "change_vs_previous_7_days_points": _r(f.change_period) if f.in_points else None,
        "average_7_days": _r(f.baseline_7.value),
        "average_28_days": _r(f.baseline_28.value),
        "average_28_days_days_with_data": f.baseline_28.days_with_data,
    }


def _caveats_payload(f: Facts) -> dict[str, Any]:
    """How complete the data behind the numbers is."""
    return {
        "days_looked_at": f.days,
        "days_without_data": f.days_missing,
        "estimated_days": f.estimated_days,
        "late_snapshots": f.late_days,
        "days_with_data": f.days_with_data,
        "short_or_long_days": [
            {"day": day.isoformat(), "hours": hours} for day, hours in f.odd_days
        ],
    }


def _movers_payload(f: Facts) -> list[dict[str, Any]]:
    """The pages or segments that moved most, labels escaped for the prompt."""
    return [
        {
            "kind": m.kind,
            "label": prompt_text(m.label),
            "value": _r(m.value),
            "change_pct": _r(m.change_pct),
            "change": _r(m.change),
        }
        for m in f.movers
    ]


def cited_numbers(text: str, facts: Sequence[Facts]) -> list[tuple[float, float]]:
    """The numbers an answer cites, with how precisely each was written (its tolerance).

    Labels are taken out first: a page called /2024-sale is not a claim about 2024 sessions.
    """
    labels = {m.label for f in facts for m in f.movers} | {f.source_label for f in facts}
    for label in sorted((x for x in labels if x), key=len, reverse=True):
        text = text.replace(label, " ")
    found = []
    for whole, decimals, thousands in _NUMBER.findall(text):
        value = float(whole.replace(",", "") + (f".{decimals}" if decimals else ""))
        step = 10.0 ** -len(decimals) if decimals else 1.0
        if thousands:
            value, step = value * 1000, step * 1000
        found.append((value, step / 2))
    return found


def unmatched(text: str, facts: Sequence[Facts]) -> list[float]:
    """Numbers in `text` that match no fact (within the rounding they were written with)."""
    known = [abs(n) for f in facts for n in f.numbers()]
    known += [p for f in facts for n in f.numbers() for p in _minutes_and_seconds(f, n)]

    def matches(value: float, tolerance: float) -> bool:
        return any(abs(value - k) <= max(tolerance, 0.01 * k) + 1e-9 for k in known)

    return [v for v, tol in cited_numbers(text, facts) if not matches(v, tol)]


def _minutes_and_seconds(f: Facts, value: float) -> list[float]:
    """`1 min 38 s` cites 1 and 38 for 98 seconds."""
    if f.metric.unit != "seconds" or value < 60:
        return []
    return [float(int(abs(value) // 60)), float(int(abs(value) % 60))]


def openai_client(settings: AiSettings) -> OpenAI:
    """The one OpenAI client of a process, built by the composition root when a key is set."""
    from openai import OpenAI

    # No retries: a summary that is late is replaced by the template, not waited for.
    return OpenAI(
        api_key=settings.api_key,
        base_url=settings.base_url,
        timeout=settings.timeout,
        max_retries=0,
    )


class Summarizer:
    """Writes the summary: the template always works; the model only phrases, when set up."""

    def __init__(self, client: OpenAI | None, *, model: str = DEFAULT_MODEL) -> None:
        self.client, self.model = client, model

    def summarize(self, facts: Sequence[Facts]) -> Summary:
        """Summarize; never raises, never waits longer than the client's timeout."""
        fallback = deterministic_all(facts)
        if self.client is None or not facts:
            return Summary(fallback, SummarySource.TEMPLATE)
        try:
            answer = self._ask(self.client, facts).strip()
        except Exception as exc:  # timeouts, HTTP errors, refusals: the template is there
            reason = f"the AI call failed ({type(exc).__name__})"
            log.warning("AI summary not used: %s", reason)
            return Summary(fallback, SummarySource.TEMPLATE, reason)
        wrong = unmatched(answer, facts)
        if not answer or wrong:
            reason = (
                (
                    f"the AI answer cited {', '.join(f'{w:g}' for w in wrong[:5])}, which "
                    "no computed fact says"
                )
                if wrong
                else "the AI answer was empty"
            )
            log.warning("AI summary not used: %s", reason)
            return Summary(fallback, SummarySource.TEMPLATE, reason)
        return Summary(answer, SummarySource.AI)

    def _ask(self, client: OpenAI, facts: Sequence[Facts]) -> str:
        env = template_env()
        payload = json.dumps(facts_payload(facts), ensure_ascii=True, indent=1)
        reply = client.chat.completions.create(
            model=self.model,
            temperature=0.2,
            max_tokens=200,
            messages=[
                {"role": "system", "content": env.get_template("ai/summary_system.txt").render()},
                {
                    "role": "user",
                    "content": env.get_template("ai/summary_user.txt").render(facts_json=payload),
                },
            ],
        )
        message = reply.choices[0].message
        if getattr(message, "refusal", None):
            raise RuntimeError("the model refused")
        return message.content or ""
