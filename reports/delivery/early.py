"""Reports sent as soon as their project's day is stored, while the tick's other projects fetch.

With 1,000 projects in one tick, waiting for the last snapshot before sending the first report
left the reports of early projects waiting for minutes, and the sending (history reads, Slack
uploads) a phase of its own after the calls. Here each project's reports go out on a few
threads of their own as soon as the scheduler says the project is done; the tick's dispatcher
pass afterwards sends what is left (and finds these in the ledger, so nothing goes twice).
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from reports.delivery.dispatch import Dispatcher


class EarlyDelivery:
    """The scheduler's `on_project` hook: sends a finished project's due reports at once."""

    def __init__(self, dispatcher: Dispatcher, now: datetime) -> None:
        self._dispatcher, self._now = dispatcher, now
        self._pool = ThreadPoolExecutor(
            max(1, dispatcher.concurrency), thread_name_prefix="claritybot-early"
        )
        self._lock = threading.Lock()
        self._futures: list[Future[Counter[str]]] = []
        self._chosen = False

    def __call__(self, source_ids: list[int]) -> None:
        """Queue the due reports of a project's sources (called from the scheduler's threads)."""
        with self._lock:
            if not self._chosen:  # decided once: where this tick's charts are drawn
                self._chosen, dispatcher = True, self._dispatcher
                # With many subscriptions a night sends many reports: charts then are drawn in
                # the render pool from the first, and this process loads no charting at all.
                self._dispatcher = (
                    dispatcher.drawing_elsewhere() if dispatcher.busy() else dispatcher
                )
            self._futures.append(
                self._pool.submit(self._dispatcher.send_for, source_ids, self._now)
            )

    def finish(self) -> Counter[str]:
        """Wait for every queued send; return how they ended (a database error is raised)."""
        self._pool.shutdown(wait=True)
        outcomes = Counter[str]()
        for future in self._futures:
            outcomes.update(future.result())
        return outcomes
