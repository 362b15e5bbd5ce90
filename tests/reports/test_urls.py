from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.urls import clarity_dashboard_url, normalize_url, url_path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://WWW.Example.com/Pricing/?utm_source=x#top", "https://www.example.com/Pricing"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com/?gclid=1", "https://example.com/"),
        ("https://example.com:443/a//", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a/", "http://example.com:8080/a"),
        ("HTTPS://A.B/p?x", "https://a.b/p"),
        ("/relative/path/?q=1", "/relative/path"),
        ("{campaignname}", "{campaignname}"),
        ("", ""),
        (None, None),
    ],
)
def test_urls_are_normalised_with_one_trailing_slash_rule(raw, expected):
    assert normalize_url(raw) == expected


@given(st.text(max_size=60))
def test_normalisation_never_crashes_and_is_idempotent(raw):
    once = normalize_url(raw)
    assert once is not None and normalize_url(once) == once


def test_paths_for_display():
    assert url_path("https://x.com/checkout/?step=2") == "/checkout"
    assert url_path("https://x.com") == "/"


@pytest.mark.parametrize(
    ("project_id", "expected"),
    [
        ("k2x9abc", "https://clarity.microsoft.com/projects/view/k2x9abc/dashboard"),
        (" k2x9abc ", "https://clarity.microsoft.com/projects/view/k2x9abc/dashboard"),
        (None, None),
        ("", None),
        ("../../evil.example/x", None),  # a crafted id never becomes a link elsewhere
        ("a b", None),
    ],
)
def test_the_clarity_dashboard_link_needs_a_plain_project_id(project_id, expected):
    assert clarity_dashboard_url(project_id) == expected
