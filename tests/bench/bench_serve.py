"""Benchmark: ack latency of `claritybot serve` (HTTP mode) under concurrent slash commands.

Not part of the test suite. Run:
    python3 tests/bench/bench_serve.py [--requests N] [--clients N] [--text T]... [--idle-s S]
Against one `serve` process over a SQLite file holding one project with history, sends signed
`/clarity help`, `status` and `chart sessions 7` (or the --text given) from N clients and prints
p50/p99 of the time to the HTTP response, while the lazy work (the status lists, the charts
uploaded and posted to a loopback Slack fake in a process of its own) goes on behind the acks.
For charts it also prints how long until every chart was posted. Last, the CPU `serve` (with
its child processes) used while idle. One line per mode, then one for idle:
    serve (<text>): p50_ms=<ms> p99_ms=<ms> [charts=<n> charts_posted_s=<s>]
    serve idle: idle_cpu_pct=<% of one core>
"""

from __future__ import annotations

import argparse
import http.client
import math
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from store.crypto import generate_key  # noqa: E402
from tests.bench.procstat import cpu_split, idle_cpu_pct, machine_stall_ms, rss_mb  # noqa: E402
from tests.bot.slack.conftest import SECRET, signed_headers  # noqa: E402

MODES = ("help", "status", "chart sessions 7")
POSTS, RESPONDS, SERVING = 0, 1, 2  # slots of the counters shared with the fake's process
PROBE_GAP_S = 0.5  # while charts are drawn, each client sends a `help` or `status` this often


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_fake(counts: Any, port: Any) -> None:
    """In a process of its own: the loopback Slack fake, counting posts and responses.

    Its own process so that handling 500 uploads does not take the benchmark clients' GIL
    and show up as ack latency.
    """
    from tests.fakes.slack_api import FakeSlack

    class CountingSlack(FakeSlack):
        def answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
            slot = {"chat.postMessage": POSTS, "respond": RESPONDS}.get(method)
            if slot is not None:
                with counts.get_lock():
                    counts[slot] += 1
            return super().answer(method, params, token)

    fake = CountingSlack().start()
    port.value = fake.server.server_address[1]
    counts[SERVING] = 1
    threading.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--text", action="append", help=f"repeatable; default: {MODES}")
    parser.add_argument("--idle-s", type=float, default=30.0, help="idle CPU sample (0: skip)")
    parser.add_argument("--days", type=int, default=120, help="days of history of the project")
    args = parser.parse_args()
    counts, fake = start_fake()
    slack = f"http://127.0.0.1:{fake.port}"  # type: ignore[attr-defined]
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{tmp}/bench.db"
        seed(database, args.days)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database,
            "CLARITYBOT_SECRET_KEY": generate_key(),
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"{slack}/api/",
            "PORT": str(port),
        }
        # `claritybot serve` in its own process, as in production: the clients here do not
        # compete with it for the interpreter lock.
        server = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_healthy(f"http://127.0.0.1:{port}/healthz")
            url = f"http://127.0.0.1:{port}/slack/events"
            for text in args.text or MODES:
                bench_mode(url, f"{slack}/respond/1", text, args, counts, server.pid)
            print(f"peak RSS: {rss_mb(server.pid)}")
            if args.idle_s > 0:
                pct = idle_cpu_pct(server.pid, args.idle_s)
                print(f"serve idle: idle_cpu_pct={pct:.2f} (over {args.idle_s:.0f} s)")
        finally:
            server.terminate()
            server.wait(timeout=10)
            fake.terminate()
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"this machine paused a busy loop for up to {machine_stall_ms():.0f} ms in 3 s "
        "(steal or throttling: a floor under any p99 measured here)"
    )


def start_fake() -> tuple[Any, multiprocessing.process.BaseProcess]:
    """Start the Slack fake in a spawned process; return its counters and the process."""
    context = multiprocessing.get_context("spawn")
    counts, port = context.Array("l", 3), context.Value("l", 0)
    process = context.Process(target=serve_fake, args=(counts, port), daemon=True)
    process.start()
    deadline = time.monotonic() + 60
    while not counts[SERVING]:
        if time.monotonic() > deadline:
            raise SystemExit("the Slack fake did not start")
        time.sleep(0.05)
    process.port = port.value  # type: ignore[attr-defined]
    return counts, process


def seed(database: str, days: int) -> None:
    """One project in the CLI's workspace (a single-workspace `serve` shares it), with history."""
    from store.db import make_engine
    from store.migrate import ensure_schema
    from tests.bench.bench_history import fill

    engine = make_engine(database)
    ensure_schema(engine)
    fill(engine, 1, days)
    engine.dispose()


def bench_mode(
    url: str, respond_url: str, text: str, args: argparse.Namespace, counts: Any, pid: int
) -> None:
    """Warm up, time `args.requests` commands, then wait for their lazy work and print.

    For charts, while they are still being drawn and posted, `help` and `status` keep
    coming (each client one every PROBE_GAP_S): their acks show whether drawing delays them.
    """
    is_chart = text.startswith("chart")
    slot = POSTS if is_chart else RESPONDS
    before = counts[slot]
    run(url, respond_url, [text], 1, 20)  # warm-up: imports, the first chart's figure
    if text != "help":
        wait_count(counts, slot, before + 20)
    before, started, cpu = counts[slot], time.monotonic(), cpu_split(pid)
    latencies = run(url, respond_url, [text], args.clients, args.requests)
    p50, p99 = summary(f"{len(latencies)} signed `/clarity {text}`", latencies, args.clients)
    line = f"serve ({text}): p50_ms={p50:.1f} p99_ms={p99:.1f}"
    if is_chart:
        target, deadline = before + len(latencies), time.monotonic() + 1800
        probes = run(
            url,
            respond_url,
            ["help", "status"],
            args.clients,
            until=lambda: counts[slot] >= target or time.monotonic() > deadline,
            gap_s=PROBE_GAP_S,
        )
        _, probe_p99 = summary(
            "while the charts were drawn, `help` and `status`", probes, args.clients
        )
        wait_count(counts, slot, target, timeout=1)
        line += f" charts={len(latencies)} charts_posted_s={time.monotonic() - started:.1f}"
        line += f" acks_while_drawing_p99_ms={probe_p99:.1f}"
    elif text != "help":
        wait_count(counts, slot, before + len(latencies), timeout=1800)
        print(f"  all answered on the response_url after {time.monotonic() - started:.1f} s")
    own, workers = (after - first for first, after in zip(cpu, cpu_split(pid), strict=True))
    print(f"  CPU meanwhile: serve {own:.1f} s, its worker processes {workers:.1f} s")
    print(line)


def summary(what: str, latencies: list[float], clients: int) -> tuple[float, float]:
    """Print and return p50 and p99 of `latencies` (ms)."""
    ordered = sorted(latencies) or [math.nan]
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    p50 = statistics.median(ordered)
    print(
        f"{what} from {clients} clients: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {ordered[-1]:.1f} ms, n={len(latencies)} (load average {os.getloadavg()[0]:.2f})"
    )
    return p50, p99


def wait_count(counts: Any, slot: int, target: int, timeout: float = 300) -> None:
    """Wait until the fake has seen `target` posts (or responses)."""
    deadline = time.monotonic() + timeout
    while counts[slot] < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {counts[slot]} of {target} lazy results arrived")
        time.sleep(0.02)


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("claritybot serve did not come up")


def run(
    url: str,
    response_url: str,
    texts: list[str],
    clients: int,
    total: int = 0,
    until: Callable[[], bool] | None = None,
    gap_s: float = 0.0,
) -> list[float]:
    """Clients, each on one connection, send `total` commands between them (or, with
    `until`, one every `gap_s` each until it is true), timing each; client i sends
    texts[i % len(texts)].

    Each command names a channel of its own: Slack allows about one post per second per
    channel, and 500 charts in one channel would measure that pause, not the work.
    """
    target = urlsplit(url)
    latencies: list[float] = []
    lock = threading.Lock()

    def client(text: str, count: int) -> None:
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        i = 0
        while (i < count) if until is None else not until():
            body = command_body(text, response_url, i)
            headers = {k: v[0] for k, v in signed_headers(body).items()}
            start = time.perf_counter()
            conn.request("POST", target.path, body, headers)
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status == 200, response.status
            with lock:
                latencies.append(elapsed)
            i += 1
            time.sleep(gap_s)
        conn.close()

    threads = [
        threading.Thread(target=client, args=(texts[n % len(texts)], total // clients))
        for n in range(clients)
    ]
    each(threads, threading.Thread.start)
    each(threads, threading.Thread.join)
    return latencies


def command_body(text: str, response_url: str, i: int) -> str:
    """A `/clarity` slash command as Slack sends it, from a channel of its own."""
    return urlencode(
        {
            "team_id": f"T{i % 3}",
            "user_id": "U1",
            "command": "/clarity",
            "text": text,
            "channel_id": f"C{uuid.uuid4().hex[:10].upper()}",
            "response_url": response_url,
            "trigger_id": f"t-{uuid.uuid4().hex}",
        }
    )


def each(threads: list[threading.Thread], do: Callable[[threading.Thread], None]) -> None:
    for thread in threads:
        do(thread)


if __name__ == "__main__":
    main()
