"""The web shop the sandbox pretends to measure: pages, titles, platforms, traffic sources."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the site: its path, raw <title>, and how often it is entered and viewed."""

    path: str
    title: str
    entry_weight: float = 1.0
    view_weight: float = 1.0
    scroll: float = 40.0
    friction: float = 1.0  # multiplies the odds of dead and rage clicks on this page


@dataclass(frozen=True, slots=True)
class Platform:
    """A device/OS/browser combination and its share of human sessions."""

    device: str
    os: str
    browser: str
    weight: float


@dataclass(frozen=True, slots=True)
class Acquisition:
    """A way sessions arrive: channel, source/medium/campaign, referrers, landing query string."""

    channel: str
    source: str | None
    medium: str | None
    campaign: str | None
    referrers: tuple[str | None, ...]
    weight: float
    # Appended to the landing URL; "{click}" becomes a click id (gclid, fbclid, msclkid).
    query: str = ""


@dataclass(frozen=True, slots=True)
class SiteProfile:
    """Everything that shapes the sandbox's data; frozen and hashable so results can be cached."""

    name: str
    base_url: str
    pages: tuple[Page, ...]
    platforms: tuple[Platform, ...]
    countries: tuple[tuple[str, float], ...]
    acquisitions: tuple[Acquisition, ...]
    daily_sessions: float = 700.0
    weekly: tuple[float, ...] = (1.04, 1.06, 1.02, 1.0, 0.93, 0.86, 1.09)  # Monday first
    hourly: tuple[float, ...] = (  # UTC hours; a shop in UTC+1 that peaks in the evening
        0.9,
        0.6,
        0.4,
        0.3,
        0.3,
        0.5,
        1.0,
        1.8,
        2.8,
        3.4,
        3.6,
        3.7,
        3.9,
        3.8,
        3.6,
        3.6,
        3.8,
        4.2,
        4.8,
        5.2,
        5.0,
        4.2,
        2.9,
        1.7,
    )
    growth_per_year: float = 0.25
    bot_share: float = 0.22
    # Distinct click ids per acquisition per UTC day; 0 makes every paid landing URL unique,
    # which is what blows the URL dimension past 1000 rows on a real site.
    click_id_pool: int = 3
    extra_channel_share: float = 0.35  # sessions also counted under a second channel
    extra_campaign_share: float = 0.6  # campaign sessions also counted under campaign null
    slash_variant_share: float = 0.08  # landings on "/path/" instead of "/path"
    variant_query_share: float = 0.15  # product views with "?variant=..."
    incident_every_days: int = 11
    incident_path: str = "/checkout"  # rage hotspot: worse on Mobile, spikes on incident days

    def __hash__(self) -> int:
        # Hashing every page on each cache lookup is slow for big profiles; equal profiles
        # still hash equal, which is all the contract asks.
        return hash((self.name, self.base_url, len(self.pages), self.daily_sessions))

    def with_page(
        self, path: str, title: str, *, entry_weight: float = 20.0, view_weight: float = 20.0
    ) -> SiteProfile:
        """Return a copy with one more page, e.g. a hostile <title> for escaping tests."""
        page = Page(path, title, entry_weight=entry_weight, view_weight=view_weight)
        return dataclasses.replace(self, pages=(*self.pages, page))


_BASE = "https://www.harborandpine.example"

_PAGES = (
    Page("/", "Harbor & Pine — Handmade Home Goods & Gifts", 30, 22, 33),
    Page(
        "/collections/lighting", "Lighting — Lamps, Pendants & Candles | Harbor & Pine", 9, 12, 44
    ),
    Page(
        "/collections/textiles", "Linen & Wool Throws, Cushions and Rugs | Harbor & Pine", 8, 10, 46
    ),
    Page("/collections/kitchen", "Kitchen & Dining | Harbor & Pine", 5, 7, 41),
    Page("/collections/sale", "Sale — Up to 40% Off Everything Cosy | Harbor & Pine", 12, 9, 52),
    Page("/products/oak-pendant-lamp", "Oak Pendant Lamp – Harbor & Pine", 6, 8, 48),
    Page(
        "/products/linen-throw-blanket", "Stonewashed Linen Throw Blanket – Harbor & Pine", 5, 7, 47
    ),
    Page("/products/speckled-mug-set", "Speckled Stoneware Mug Set (4) — Harbor & Pine", 4, 6, 45),
    Page("/products/jute-rug", "Hand-Woven Jute Rug 160×230 cm – Harbor & Pine", 3, 5, 43),
    Page("/cart", "Your Cart | Harbor & Pine", 1, 8, 38, friction=1.3),
    Page("/checkout", "Checkout | Harbor & Pine", 0.5, 5, 61, friction=2.0),
    Page("/pages/shipping-returns", "Shipping & Returns | Harbor & Pine", 1.5, 3, 58),
    Page("/pages/contact", "Contact Us | Harbor & Pine", 1, 2, 36, friction=1.4),
    Page(
        "/blogs/journal/reading-nook",
        "How to Style a Cosy Reading Nook — The Harbor & Pine Journal",
        5,
        3,
        62,
    ),
    Page("/search", "Search results | Harbor & Pine", 0.3, 4, 29, friction=1.6),
)

_PLATFORMS = (
    Platform("Mobile", "IOS", "MobileSafari", 30),
    Platform("Mobile", "Android", "ChromeMobile", 14),
    Platform("Mobile", "IOS", "GoogleApp", 3),
    Platform("Mobile", "IOS", "InstagramApp", 2),
    Platform("Mobile", "Android", "SamsungInternet", 1.5),
    Platform("Mobile", "IOS", "FacebookApp", 1.5),
    Platform("PC", "Windows", "Chrome", 21),
    Platform("PC", "Windows", "Edge", 8),
    Platform("PC", "MacOSX", "Safari", 7),
    Platform("PC", "MacOSX", "Chrome", 5),
    Platform("PC", "Windows", "Firefox", 1.5),
    Platform("PC", "Linux", "Firefox", 0.5),
    Platform("PC", "ChromeOS", "Chrome", 0.5),
    Platform("Tablet", "IOS", "MobileSafari", 2.5),
    Platform("Tablet", "Android", "Chrome", 1),
)

_COUNTRIES = (
    ("Germany", 38),
    ("Austria", 9),
    ("Switzerland", 8),
    ("Netherlands", 7),
    ("United Kingdom", 6),
    ("France", 5),
    ("United States", 5),
    ("Denmark", 3),
    ("Belgium", 3),
    ("Sweden", 2),
    ("Poland", 2),
    ("Italy", 1.5),
    ("Spain", 1),
    ("Viet Nam", 0.4),
    ("Türkiye", 0.4),
)

_GOOGLE = "https://www.google.com/"
_ACQUISITIONS = (
    Acquisition("OrganicSearch", "google", "organic", None, (_GOOGLE,), 31),
    Acquisition("OrganicSearch", "bing", "organic", None, ("https://www.bing.com/",), 4),
    Acquisition("OrganicSearch", "duckduckgo", "organic", None, ("https://duckduckgo.com/",), 1.5),
    Acquisition("Direct", None, None, None, (None,), 24),
    Acquisition(
        "PaidSearch",
        "google",
        "cpc",
        "spring_sale",
        (_GOOGLE,),
        12,
        "utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&gclid={click}",
    ),
    Acquisition(
        "PaidSearch",
        "bing",
        "cpc",
        "{campaignname}",  # an unfilled ad template, passed through as real sites have it
        ("https://www.bing.com/",),
        2,
        "utm_source=bing&utm_medium=cpc&utm_campaign={campaignname}&msclkid={click}",
    ),
    Acquisition(
        "Social",
        "facebook",
        "paid_social",
        "spring_sale",
        ("https://m.facebook.com/", "https://l.facebook.com/"),
        6,
        "utm_source=facebook&utm_medium=paid_social&utm_campaign=spring_sale&fbclid={click}",
    ),
    Acquisition("Social", "instagram", "social", None, ("https://l.instagram.com/",), 3),
    Acquisition(
        "Other",
        "newsletter",
        "email",
        "march_newsletter",
        (None,),
        5,
        "utm_source=newsletter&utm_medium=email&utm_campaign=march_newsletter",
    ),
    Acquisition("Referral", "pinterest.com", "referral", None, ("https://www.pinterest.com/",), 3),
    Acquisition(
        "Referral",
        "homeandnest.example",
        "referral",
        None,
        ("https://homeandnest.example/best-linen-throws-2026",),
        2,
    ),
    Acquisition(
        "AiPlatform",
        "chatgpt.com",
        "referral",
        None,
        ("https://chatgpt.com/",),
        1.5,
        "utm_source=chatgpt.com",
    ),
)

DEMO_PROFILE = SiteProfile(
    name="demo",
    base_url=_BASE,
    pages=_PAGES,
    platforms=_PLATFORMS,
    countries=_COUNTRIES,
    acquisitions=_ACQUISITIONS,
)


def _catalogue(count: int) -> tuple[Page, ...]:
    """Return `count` extra product pages for the big profile."""
    return tuple(
        Page(f"/products/item-{i:04d}", f"Item {i:04d} — Harbor & Pine", 0.2, 0.6, 40 + i % 15)
        for i in range(count)
    )


# A busy shop whose paid landing URLs are all unique: the URL dimension hits Clarity's
# 1000-row cap in every block, which the parse+store benchmark needs.
BIG_URL_PROFILE = dataclasses.replace(
    DEMO_PROFILE,
    name="big-url",
    pages=_PAGES + _catalogue(1200),
    daily_sessions=3000.0,
    click_id_pool=0,
)
