"""KERNEL: process identity and leases, for claims shared by many processes and hosts.

A claim belongs to an owner id that is unique per process start (a PID is not: a restarted
container's worker is PID 1 again). The owner renews its lease while it works; anyone may take
a claim over once its lease has expired, on this host or another — the only rule there is.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Final, TypeVar

log = logging.getLogger(__name__)

LEASE_ENV: Final = "CLARITYBOT_LEASE_SECONDS"
T = TypeVar("T")
DEFAULT_LEASE: Final = timedelta(minutes=10)  # longer than a day's calls at their timeout


def process_owner() -> str:
    """Return a name for this process start: host and PID for people, a uuid for uniqueness."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def lease_length(env: Mapping[str, str] | None = None) -> timedelta:
    """The claim lease: CLARITYBOT_LEASE_SECONDS when set (tests shorten it), else 10 min."""
    text = (os.environ if env is None else env).get(LEASE_ENV, "").strip()
    if not text:
        return DEFAULT_LEASE
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 1 <= seconds <= 86_400:
        raise ValueError(f"{LEASE_ENV} must be a number of seconds from 1 to 86400")
    return timedelta(seconds=seconds)


def elapsed_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that reads `start` now and moves with the monotonic clock (never the wall)."""
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


def wall_clock() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)


class Renewer:
    """Calls `renew` every `every` seconds in a daemon thread while the `with` block runs.

    A hung (stopped) process renews nothing, so its lease runs out and others take over.
    """

    def __init__(self, renew: Callable[[], object], every: float) -> None:
        self._renew, self._every = renew, max(every, 0.005)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-renewer", daemon=True)

    def __enter__(self) -> Renewer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._renew()
            except Exception as exc:  # the database may be away: the next renewal tries again
                log.warning("could not renew a lease: %s", type(exc).__name__)


def run_all(jobs: Sequence[Callable[[], T]], at_once: int, name: str) -> list[T]:
    """Each job's result, in order, with up to `at_once` running on threads.

    The first error is raised once the jobs already running have ended; the rest never start.
    """
    if at_once <= 1 or len(jobs) <= 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(min(at_once, len(jobs)), thread_name_prefix=name) as pool:
        futures = [pool.submit(job) for job in jobs]
        try:
            return [f.result() for f in futures]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
