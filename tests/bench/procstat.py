"""What a process costs, read from /proc (Linux): CPU seconds, peak memory, its children."""

from __future__ import annotations

import os
import time
from pathlib import Path


def idle_cpu_pct(pid: int, seconds: float) -> float:
    """CPU used by `pid` and its children over `seconds` of idling, in % of one core."""
    time.sleep(1)  # the last response's tail
    first = cpu_seconds(pid)
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - first) / seconds


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live children (/proc), in seconds."""
    return sum(cpu_split(pid))


def cpu_split(pid: int) -> tuple[float, float]:
    """(CPU of `pid`, CPU of its live descendants) in seconds, from /proc."""
    return process_cpu(pid), sum(process_cpu(kid) for kid in children(pid))


def process_cpu(pid: int) -> float:
    """User + system CPU of one process in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def rss_mb(pid: int) -> str:
    """Peak resident memory of `serve` and of each of its descendants (MB)."""
    sizes = []
    for one in [pid, *children(pid)]:
        try:
            status = Path(f"/proc/{one}/status").read_text()
        except OSError:
            continue
        peaks = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")]
        sizes.append(f"{int(peaks[0]) / 1024:.0f}" if peaks else "?")
    return f"serve {sizes[0]} MB, its child processes " + " / ".join(sizes[1:]) + " MB"


def hwm_mb(pid: int) -> float | None:
    """Peak resident memory of one live process (VmHWM) in MB; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    peaks = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")]
    return int(peaks[0]) / 1024 if peaks else None


def children(pid: int) -> list[int]:
    """Every descendant of `pid` (render workers, a forkserver)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *children(kid)]
    return found


def machine_stall_ms(seconds: float = 3.0) -> float:
    """Return the longest pause a tight loop saw: how much the machine itself stalls."""
    worst, last = 0.0, time.perf_counter()
    end = last + seconds
    while last < end:
        now = time.perf_counter()
        worst, last = max(worst, now - last), now
    return worst * 1000
