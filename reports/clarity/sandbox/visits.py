"""Synthetic visits (sessions) of the demo shop, drawn from a seeded RNG. Pure, no I/O."""

from __future__ import annotations

import bisect
import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache

from reports.clarity.sandbox.site import Acquisition, Page, SiteProfile

# Odds that a page view has >=1 event, in block order: dead, excessive scroll, rage, quick back,
# script error, error click. Tuned to the real sample (dead ~22% of sessions, rage ~1-2%).
_EVENT_ODDS = (0.1, 0.0012, 0.006, 0.085, 0.004, 0.002)
_MOBILE_HOTSPOT = 4.0  # rage odds on the incident path for Mobile
_INCIDENT = 7.0  # and again on incident days
_SECOND_CHANNELS = ("Direct", "OrganicSearch", "Referral", "Other")
_BOT_CHANNELS = (("Direct",), ("Other",))


@dataclass(frozen=True, slots=True)
class PageView:
    """One page view: full URL, raw title, scroll depth, and event counts in block order."""

    url: str
    title: str
    scroll: float
    events: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Visit:
    """One session (human or bot) with everything a dimension or metric can ask about."""

    bot: bool
    device: str
    os: str
    browser: str
    country: str
    source: str | None
    medium: str | None
    channels: tuple[str, ...]
    campaigns: tuple[str | None, ...]
    referrer: str | None
    pages: tuple[PageView, ...]
    urls: tuple[str, ...]  # distinct page URLs, in visit order
    total_time: int
    active_time: int


def unit(*parts: object) -> float:
    """Return a stable pseudo-random number in [0, 1) for the given parts (not Python's hash)."""
    text = "\x1f".join(str(part) for part in parts)
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True, slots=True)
class _Table:
    """Cumulative weights for fast weighted picks."""

    cum: tuple[float, ...]

    @staticmethod
    def of(weights: list[float]) -> _Table:
        """Build from plain weights."""
        total, cum = 0.0, []
        for weight in weights:
            total += weight
            cum.append(total)
        return _Table(tuple(cum))

    def pick(self, rng: random.Random) -> int:
        """Return a weighted random index."""
        return bisect.bisect_right(self.cum, rng.random() * self.cum[-1])


@dataclass(frozen=True, slots=True)
class Tables:
    """Per-profile lookup tables, built once (hashing a profile is not free)."""

    platforms: _Table
    countries: _Table
    acquisitions: _Table
    entries: _Table
    views: _Table
    hourly_total: float
    first_campaign: str | None  # what a returning click later in a session carries


@lru_cache(maxsize=16)
def tables(profile: SiteProfile) -> Tables:
    """Return the lookup tables of a profile."""
    return Tables(
        platforms=_Table.of([p.weight for p in profile.platforms]),
        countries=_Table.of([w for _, w in profile.countries]),
        acquisitions=_Table.of([a.weight for a in profile.acquisitions]),
        entries=_Table.of([p.entry_weight for p in profile.pages]),
        views=_Table.of([p.view_weight for p in profile.pages]),
        hourly_total=sum(profile.hourly),
        first_campaign=next((a.campaign for a in profile.acquisitions if a.campaign), None),
    )


@lru_cache(maxsize=4096)
def _variant_base(path: str) -> int:
    """Return a Shopify-looking variant id base for a product path."""
    return 40_000_000_000 + int(unit("variant", path) * 1e9)


def _geometric(rng: random.Random, more: float, cap: int) -> int:
    extra = 0
    while extra < cap and rng.random() < more:
        extra += 1
    return extra


class HourBuilder:
    """Draws the visits of one UTC hour; the draw order is fixed, so the result is too."""

    def __init__(
        self, profile: SiteProfile, rng: random.Random, *, project: str, day: int, incident: bool
    ) -> None:
        self.profile, self.rng, self.project = profile, rng, project
        self.day, self.incident = day, incident
        self.tables = tables(profile)
        self._odds_cache: dict[tuple[int, str], tuple[float, ...]] = {}

    def human(self) -> Visit:
        """Draw one human session."""
        rng, profile = self.rng, self.profile
        platform = profile.platforms[self.tables.platforms.pick(rng)]
        country = profile.countries[self.tables.countries.pick(rng)][0]
        acq_index = self.tables.acquisitions.pick(rng)
        acq = profile.acquisitions[acq_index]
        channels: tuple[str, ...] = (acq.channel,)
        if rng.random() < profile.extra_channel_share:
            # Clarity counts a session under every channel it touched: slices sum above total.
            channels = (acq.channel, rng.choice([c for c in _SECOND_CHANNELS if c != acq.channel]))
        pages = self._pages(platform.device, acq, self._click_id(acq_index, acq))
        total = max(4, round(rng.gauss(45 + 62 * len(pages), 55)))
        if platform.device == "Mobile":
            total = max(4, round(total * 0.8))
        return Visit(
            bot=False,
            device=platform.device,
            os=platform.os,
            browser=platform.browser,
            country=country,
            source=acq.source,
            medium=acq.medium,
            channels=channels,
            campaigns=self._campaigns(acq),
            referrer=rng.choice(acq.referrers),
            pages=pages,
            urls=tuple(dict.fromkeys(p.url for p in pages)),
            total_time=total,
            active_time=round(total * rng.uniform(0.3, 0.7)),
        )

    def _campaigns(self, acq: Acquisition) -> tuple[str | None, ...]:
        # Later page views without (or with) utm tags put one session under two campaign values.
        draw = self.rng.random()
        if acq.campaign is not None:
            return (
                (acq.campaign, None)
                if draw < self.profile.extra_campaign_share
                else (acq.campaign,)
            )
        returning = self.tables.first_campaign
        return (None, returning) if returning and draw < 0.2 else (None,)

    def _click_id(self, acq_index: int, acq: Acquisition) -> str:
        if self.profile.click_id_pool <= 0:
            token = self.rng.getrandbits(88).to_bytes(11, "big")
        else:
            slot = self.rng.randrange(self.profile.click_id_pool)
            text = f"{self.project}|{self.day}|{acq_index}|{slot}"
            token = hashlib.blake2b(text.encode(), digest_size=11).digest()
        # Real gclids start "Cj0KCQjw", fbclids "IwAR"; only the look matters here.
        return ("IwAR" if "fbclid=" in acq.query else "Cj0KCQjw") + token.hex()

    def _pages(self, device: str, acq: Acquisition, click: str) -> tuple[PageView, ...]:
        views: list[PageView] = []
        for position in range(1 + _geometric(self.rng, 0.64, 11)):
            table = self.tables.entries if position == 0 else self.tables.views
            index = table.pick(self.rng)
            page = self.profile.pages[index]
            url = self._landing_url(page, acq, click) if position == 0 else self._inner_url(page)
            views.append(self._page_view(index, url, device))
        return tuple(views)

    def _landing_url(self, page: Page, acq: Acquisition, click: str) -> str:
        path = page.path
        if path != "/" and self.rng.random() < self.profile.slash_variant_share:
            path += "/"
        query = acq.query.replace("{click}", click)
        return self.profile.base_url + path + ("?" + query if query else "")

    def _inner_url(self, page: Page) -> str:
        url = self.profile.base_url + page.path
        if (
            page.path.startswith("/products/")
            and self.rng.random() < self.profile.variant_query_share
        ):
            url += f"?variant={_variant_base(page.path) + self.rng.randrange(3)}"
        return url

    def _odds(self, index: int, device: str) -> tuple[float, ...]:
        """Return the per-metric event odds of a page view (cached: this is the hot path)."""
        odds = self._odds_cache.get((index, device))
        if odds is None:
            page = self.profile.pages[index]
            rage = page.friction
            if page.path == self.profile.incident_path:
                rage *= _MOBILE_HOTSPOT if device == "Mobile" else 1.0
                rage *= _INCIDENT if self.incident else 1.0
            factors = (page.friction, 1.0, rage, 1.0, 1.0, 1.0)
            odds = tuple(base * f for base, f in zip(_EVENT_ODDS, factors, strict=True))
            self._odds_cache[(index, device)] = odds
        return odds

    def _page_view(self, index: int, url: str, device: str) -> PageView:
        rng = self.rng
        draw = rng.random
        events = tuple(
            [_burst(rng, m) if draw() < p else 0 for m, p in enumerate(self._odds(index, device))]
        )
        page = self.profile.pages[index]
        shift = -5.0 if device == "Mobile" else 4.0 if device == "PC" else 0.0
        scroll = min(100.0, max(3.0, rng.gauss(page.scroll + shift, 12)))
        return PageView(url, page.title, round(scroll, 2), events)

    def bot(self) -> Visit:
        """Draw one bot session."""
        # Bots are counted only in Traffic, so their odd values (Device "Other", Campaign "", no
        # URL at all) become the Traffic-only rows the real API shows.
        rng, profile = self.rng, self.profile
        kind = rng.random()
        device, os, browser = (
            ("Other", "Other", "Other")
            if kind < 0.62
            else ("PC", "Linux", "HeadlessChrome")
            if kind < 0.88
            else ("Mobile", "Android", "ChromeMobile")
        )
        pages: tuple[PageView, ...] = ()
        if rng.random() < 0.7:
            page = profile.pages[self.tables.views.pick(rng)]
            view = PageView(profile.base_url + page.path, page.title, 0.0, (0,) * 6)
            pages = (view,) * (1 + _geometric(rng, 0.3, 4))
        return Visit(
            bot=True,
            device=device,
            os=os,
            browser=browser,
            country=profile.countries[self.tables.countries.pick(rng)][0],
            source=None,
            medium=None,
            channels=rng.choice(_BOT_CHANNELS),
            campaigns=("",) if rng.random() < 0.4 else (None,),
            referrer=None,
            pages=pages,
            urls=tuple(dict.fromkeys(p.url for p in pages)),
            total_time=0,
            active_time=0,
        )


def _burst(rng: random.Random, metric: int) -> int:
    """Return how many events a page view with >=1 event of this metric has."""
    if metric == 0:
        return 1 + _geometric(rng, 0.62, 30)  # dead clicks come in bunches (~2.9 per view)
    if metric == 2:
        return 3 + _geometric(rng, 0.25, 20)  # a rage click is >=3 rapid clicks
    if metric in (4, 5):
        return 1 + _geometric(rng, 0.35, 10)
    return 1  # excessive scroll and quick back: one per page view
