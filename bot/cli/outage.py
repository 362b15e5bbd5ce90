"""Waiting out a database outage: back off, say so in one line, never exit or print a traceback."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TextIO

if TYPE_CHECKING:  # raised and caught by the worker, which imports SQLAlchemy itself
    from sqlalchemy.exc import DBAPIError

MAX_WAIT: Final = 60.0  # seconds between attempts at most, however long the outage
DATABASE_DOWN: Final = "the database is unavailable"


def describe(exc: DBAPIError) -> str:
    """One line naming the fault, never the statement or its parameters (they may hold data)."""
    first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else ""
    return f"{DATABASE_DOWN} ({type(exc.orig or exc).__name__}: {first[:200]})"


class Outage:
    """Tracks one outage: when to try again, and whether it was announced."""

    def __init__(
        self, err: TextIO, first_wait: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._err, self._first, self._now = err, max(first_wait, 1.0), monotonic
        self._failures, self._since, self._next = 0, 0.0, 0.0

    @property
    def active(self) -> bool:
        """True while the database is known to be away."""
        return self._failures > 0

    def due(self) -> bool:
        """True when the next attempt may be made."""
        return self._now() >= self._next

    def failed(self, exc: DBAPIError) -> None:
        """Count a failed attempt, wait longer before the next (doubling, up to MAX_WAIT)."""
        if not self._failures:
            self._since = self._now()
        wait = min(self._first * 2**self._failures, MAX_WAIT)
        self._failures += 1
        self._next = self._now() + wait
        if self._failures == 1:  # one line per outage, however many attempts it takes
            self._say(f"{describe(exc)}; retrying in {wait:g} s.")

    def recovered(self) -> None:
        """The database answered again: say after how long, once."""
        if self._failures:
            self._say(f"the database is back after {self._now() - self._since:.0f} s.")
        self._failures = 0

    def _say(self, text: str) -> None:
        self._err.write(f"claritybot worker: {text}\n")
        self._err.flush()
