"""Charts drawn in worker processes, so drawing never holds the server's interpreter lock.

`serve` acknowledges Slack commands on request threads. Drawing a chart is tens of ms of
CPU that holds the GIL, so in the same process each ack queued behind it: `status` and
`chart` acked three times slower than `help` while charts were being drawn. Here the values
are read in the server and drawn in worker processes, which run at a lower CPU priority so a
busy machine serves the acks first. Each worker keeps one ChartMaker, so its figures are
built once; the PNG bytes are the same as drawn in-process.

This module sits outside `reports.render.charts` and imports nothing heavy at the top: a new
worker imports it before it can lower its priority, and matplotlib and the database layer
then load at that lower priority.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from reports.render.charts import ChartMaker
    from reports.render.charts.style import Chart

RENDER_NICE: Final = 5  # below the server (acks first), still a fair share of a busy machine
ORPHAN_CHECK_S: Final = 2.0  # how soon a worker whose server was killed exits

_maker: ChartMaker | None = None  # in a worker process: its own figures, reused


class RenderPool:
    """A few worker processes drawing charts; started on the first chart, not before."""

    def __init__(self, processes: int = 2, *, nice: int = RENDER_NICE) -> None:
        self._processes, self._nice = processes, nice
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def draw(self, kind: str, data: Any, **options: Any) -> Chart:
        """Draw in a worker; a worker that died (out of memory, killed) is replaced once."""
        for attempt in (1, 2):
            executor = self._running()
            try:
                return executor.submit(_draw, kind, data, options).result()
            except BrokenProcessPool:
                self._discard(executor)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Stop the workers (after the charts being drawn)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def _running(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # spawn: a fresh interpreter, not a fork of a server with threads and sockets.
                self._executor = ProcessPoolExecutor(
                    self._processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(os.getpid(), self._nice),
                )
                # Every worker now: one started on demand in a burst of commands would take
                # its second of start-up CPU just when the acks need it.
                for _ in range(self._processes):
                    self._executor.submit(_ready)
            return self._executor

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)


def _start_worker(parent: int, nice: int) -> None:
    """In a new worker: lower priority, leave Ctrl-C to the server, exit when it is gone,
    then build the figures (matplotlib loads here, at the lower priority)."""
    global _maker
    with contextlib.suppress(OSError):
        os.nice(nice)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    from reports.render.charts import ChartMaker

    _maker = ChartMaker()
    _maker.prepare("line", "bar")


def _ready() -> None:
    """A task that only makes the pool start a worker."""


def _exit_with(parent: int) -> None:
    """A server killed outright runs no clean-up, and a worker may hold both ends of its task
    pipe (so it never reads end-of-file): it must notice on its own."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_S)
    os._exit(0)


def _draw(kind: str, data: Any, options: dict[str, Any]) -> Chart:
    """In a worker: draw with this process's ChartMaker (built when the worker started)."""
    if _maker is None:
        raise RuntimeError("a render worker draws only after its start-up")
    return _maker.draw(kind, data, **options)
