"""Clarity's dimensions: the name sent in the query, the key rows carry, the column we store."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from reports.errors import UsageError

MAX_DIMENSIONS: Final = 3  # Clarity accepts at most three dimensions per call.


@dataclass(frozen=True, slots=True)
class Dimension:
    """One Clarity dimension."""

    column: str  # our stored column, e.g. "url"
    api_name: str  # sent as dimensionN=..., e.g. "URL"
    row_keys: tuple[str, ...]  # normalised keys rows may carry it under ("url" matches "Url")


_NOT_KEY: Final = re.compile(r"[^a-z0-9]")


@functools.lru_cache(maxsize=1024)  # every row repeats its block's few keys; bounded for junk
def norm_key(name: str) -> str:
    """Lower-case a key and keep letters and digits only, so `Url`, `URL` and `u-r-l` match."""
    return _NOT_KEY.sub("", name.lower())


# "Country/Region" is the documented name, but every real integration found sends "Country"
# (API.md §1), so we send that and accept both spellings from users and in row keys.
DIMENSIONS: Final[tuple[Dimension, ...]] = (
    Dimension("browser", "Browser", ("browser",)),
    Dimension("device", "Device", ("device",)),
    Dimension("country", "Country", ("country", "countryregion")),
    Dimension("os", "OS", ("os",)),
    Dimension("source", "Source", ("source",)),
    Dimension("medium", "Medium", ("medium",)),
    Dimension("campaign", "Campaign", ("campaign",)),
    Dimension("channel", "Channel", ("channel",)),
    Dimension("url", "URL", ("url",)),
)

_BY_ALIAS: Final = {
    alias: dim for dim in DIMENSIONS for alias in (*dim.row_keys, norm_key(dim.api_name))
}


def resolve_dimensions(names: Sequence[str]) -> tuple[Dimension, ...]:
    """Validate user- or plan-given dimension names; raise UsageError before any call is made."""
    if len(names) > MAX_DIMENSIONS:
        raise UsageError(f"Clarity accepts at most {MAX_DIMENSIONS} dimensions, got {len(names)}.")
    resolved: list[Dimension] = []
    for name in names:
        dim = _BY_ALIAS.get(norm_key(name))
        if dim is None:
            known = ", ".join(d.api_name for d in DIMENSIONS)
            raise UsageError(f"Unknown Clarity dimension {name!r}. Use one of: {known}.")
        if dim in resolved:
            raise UsageError(f"Dimension {dim.api_name} is listed twice.")
        resolved.append(dim)
    return tuple(resolved)
