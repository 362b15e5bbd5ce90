"""KERNEL: process identity and liveness, for claims shared by many processes."""

from __future__ import annotations

import os
import socket
import uuid


def process_owner() -> str:
    """Return a name for this process that other processes on this host can check."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def owner_is_dead(owner: str) -> bool | None:
    """True/False when `owner` is a process on this host that is gone/running; else None.

    On this host the process table is the truth, so a live worker's claim is never taken over
    however long its run takes; for other hosts only the claim's expiry can tell.
    """
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # exists, owned by another user
    return False
