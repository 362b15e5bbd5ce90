"""Run the Clarity sandbox in the foreground.

`python -m reports.clarity.sandbox [--port N] [--seed N]`; `claritybot sandbox` does the same.
"""

from __future__ import annotations

import argparse
import sys

from reports.clarity.sandbox.server import ClaritySandbox


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM, after writing the URL and a demo token to stdout."""
    parser = argparse.ArgumentParser(prog="python -m reports.clarity.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--seed", type=int, default=7, help="data seed")
    parser.add_argument("--daily-cap", type=int, default=10, help="calls per project per UTC day")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="wait this long before each API answer"
    )
    args = parser.parse_args(argv)
    sandbox = ClaritySandbox(
        port=args.port, seed=args.seed, daily_cap=args.daily_cap, latency=args.latency_ms / 1000
    ).start()
    token = sandbox.issue_token("demo")
    sys.stdout.write(
        f"Clarity sandbox: {sandbox.url}\n"
        f"Token (project demo): {token}\n"
        f"Try: curl -H 'Authorization: Bearer {token}' "
        f"'{sandbox.url}/project-live-insights?numOfDays=1'\n"
        "Press Ctrl+C to stop.\n"
    )
    sys.stdout.flush()
    sandbox.serve_until_signalled()
    return 0


if __name__ == "__main__":
    sys.exit(main())
