from __future__ import annotations

import dataclasses

import pytest

from reports.ingest.fetch_plan import (
    CATALOGUE_NEEDS,
    CLARITY_DAILY_LIMIT,
    DEFAULT_PLAN,
    MAX_PLAN_CALLS,
    FetchGroup,
    FetchPlan,
    validate_plan,
)
from store.quota import QuotaPolicy


def test_default_plan_fits_in_five_calls_and_leaves_a_reserve():
    validate_plan(DEFAULT_PLAN)
    assert len(DEFAULT_PLAN) <= MAX_PLAN_CALLS == 5
    policy = QuotaPolicy()
    automatic = policy.limit_for("scheduled")
    # After the nightly plan: room for retries/recovery, plus the untouched manual reserve.
    assert automatic - len(DEFAULT_PLAN) >= 3
    assert CLARITY_DAILY_LIMIT - automatic == policy.manual_reserve == 2


def test_default_plan_covers_the_whole_metric_catalogue():
    assert DEFAULT_PLAN.covers() >= CATALOGUE_NEEDS


def test_totals_and_name_lists_come_from_the_first_dimensionless_group():
    first = DEFAULT_PLAN.groups[0]
    assert first.name == "overall" and first.dimensions == ()
    assert {"totals", "top_browsers", "top_oses", "top_countries", "popular_pages"} <= first.covers
    assert all(g.dimensions for g in DEFAULT_PLAN.groups[1:])
    assert all(g.num_days == 1 for g in DEFAULT_PLAN.groups)


@pytest.mark.parametrize(
    "bad",
    [
        FetchPlan(DEFAULT_PLAN.groups + (FetchGroup("medium", ("Medium",), frozenset()),)),
        FetchPlan((FetchGroup("x", (), frozenset()), FetchGroup("x", ("URL",), frozenset()))),
        FetchPlan((FetchGroup("four", ("URL", "Device", "OS", "Browser"), frozenset()),)),
        FetchPlan((dataclasses.replace(DEFAULT_PLAN.groups[0], num_days=4),)),
    ],
)
def test_plans_that_break_api_rules_or_the_budget_are_rejected(bad):
    with pytest.raises(Exception):  # noqa: B017 - ValueError or UsageError, both refuse
        validate_plan(bad)
