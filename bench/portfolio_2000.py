"""A 2,000-ticket `gonogo report` on loopback: wall time, Jira requests per ticket, peak memory,
compared with running `gonogo check KEY` once per ticket.

Usage: python bench/portfolio_2000.py [--tickets 2000] [--check-sample 25]

The Jira-compatible test server runs in a separate process and this launcher imports nothing
heavy, because a child's peak RSS (what `os.wait4` reports) starts from the high-water mark of the
process that spawned it. Every gonogo run is a real `python -m gonogo` subprocess, as a user runs
it. The tickets are the bundled examples in turn (a tenth carry waiver labels, whose changelog,
who added them, comes with the search pages). Loopback has no network latency: against a real
site, where a request takes 100-300 ms, the request counts matter far more than these wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TODAY = "2026-11-23"


def serve(tickets: int, check_sample: int, *, validate: bool = True) -> None:
    """The server process: seed, print how to connect, then answer commands on stdin.

    Commands: `clear` (forget the request log), `requests` (counts by kind), `latency SECONDS`
    (delay every answer, to stand in for the network between gonogo and a real site), `search`
    (the query string of the last first search page, for a floor that repeats it). Without
    `validate`, answers are not checked against Atlassian's schemas (that check is the test
    server's cost, not a site's).
    """
    sys.path.insert(0, str(REPO / "tests"))
    from collections import Counter

    from jiraserver import running_server
    from jiraserver.app import JiraApp
    from portfolio_helpers import env_for, seed_portfolio

    delay = [0.0]
    answer = JiraApp.__call__

    def slowed(self: Any, environ: Any, start_response: Any) -> Any:
        if delay[0]:
            time.sleep(delay[0])
        return answer(self, environ, start_response)

    JiraApp.__call__ = slowed  # type: ignore[method-assign]
    with running_server(deployment="Cloud", validate=validate) as server:
        seed_portfolio(server, tickets, project="BID")
        seed_portfolio(server, check_sample, project="CHK")
        print(json.dumps(env_for(server)), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command.startswith("latency "):
                delay[0] = float(command.split()[1])
                print("{}", flush=True)
            elif command == "clear":
                server.clear_requests()
                print("{}", flush=True)
            elif command == "search":
                first = [r.raw_query for r in server.requests if r.path.endswith("/search/jql")]
                print(json.dumps([q for q in first if "nextPageToken" not in q][-1:]), flush=True)
            elif command == "requests":
                recorded = server.requests
                kinds = Counter(_kind(r.method, r.path) for r in recorded)
                print(json.dumps({"total": len(recorded), "kinds": dict(kinds)}), flush=True)


def _kind(method: str, path: str) -> str:
    tail = path.rsplit("/rest/api/2/", maxsplit=1)[-1]
    parts = tail.split("/")
    if parts[0] == "issue" and len(parts) > 2:
        return f"{method} issue/…/{parts[2]}"
    if parts[0] == "issue":
        return f"{method} issue/KEY"
    return f"{method} {tail}"


class Server:
    """The launcher's handle on the server process."""

    def __init__(self, tickets: int, check_sample: int, *, validate: bool = True) -> None:
        self._process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                "--tickets",
                str(tickets),
                "--check-sample",
                str(check_sample),
                *([] if validate else ["--no-validate"]),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.env: dict[str, str] = self._read()

    def _read(self) -> Any:
        assert self._process.stdout is not None
        return json.loads(self._process.stdout.readline())

    def _ask(self, command: str) -> Any:
        assert self._process.stdin is not None
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()
        return self._read()

    def clear(self) -> None:
        self._ask("clear")

    def latency(self, seconds: float) -> None:
        self._ask(f"latency {seconds}")

    def search_query(self) -> str:
        """The raw query string of the last first search page the server answered."""
        found: list[str] = self._ask("search")
        return found[0] if found else ""

    def requests(self) -> dict[str, Any]:
        answer: dict[str, Any] = self._ask("requests")
        return answer

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)


def measured(command: list[str], env: dict[str, str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system), the child's peak RSS in MiB, and its exit code."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env, "GONOGO_TODAY": TODAY},
        cwd=REPO / "bench",
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def gonogo(*args: str) -> list[str]:
    return [sys.executable, "-m", "gonogo", *args]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--check-sample", type=int, default=25, help="tickets to run gonogo check on")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=50.0,
        help="simulated network latency per request for the latency rows (0: leave them out)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-validate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.tickets, args.check_sample, validate=not args.no_validate)
        return

    n = args.tickets
    server = Server(n, args.check_sample)
    rows: list[tuple[str, str, str, str, str]] = []
    breakdowns: list[str] = []
    report = ("report", "--project", "BID", "--max-tickets", str(n))
    runs = [
        ("report, read-only, text", gonogo(*report)),
        ("report, read-only, html", gonogo(*report, "--format", "html", "-o", os.devnull)),
        ("report --post, first run (creates)", gonogo(*report, "--post")),
        ("report --post, re-run (nothing changed)", gonogo(*report, "--post")),
        ("report --post, re-run, --concurrency 1", gonogo(*report, "--post", "--concurrency", "1")),
    ]
    latency = args.latency_ms / 1000
    if latency:
        slow = f"{args.latency_ms:g} ms latency"
        runs += [
            (f"report --post, re-run, {slow}, --concurrency 4", gonogo(*report, "--post")),
            (
                f"report --post, re-run, {slow}, --concurrency 1",
                gonogo(*report, "--post", "--concurrency", "1"),
            ),
            (
                f"report --post, re-run, {slow}, --concurrency 8",
                gonogo(*report, "--post", "--concurrency", "8"),
            ),
        ]
    try:
        for name, command in runs:
            server.latency(latency if "latency" in name else 0.0)
            server.clear()
            wall, _, rss, code = measured(command, server.env)
            counted = server.requests()
            rows.append(
                (
                    name,
                    f"{wall:.1f} s",
                    f"{counted['total']}",
                    f"{counted['total'] / n:.3f}",
                    f"{rss:.0f} MiB" + ("" if code == 0 else f" (exit {code})"),
                )
            )
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(counted["kinds"].items(), key=lambda kv: -kv[1]))
            breakdowns.append(f"{name}: {kinds}")

        sample = args.check_sample
        checks = [("first check", 0.0), ("re-check", 0.0)]
        if latency:
            checks.append((f"re-check, {args.latency_ms:g} ms latency", latency))
        for label, delay in checks:
            server.latency(delay)
            server.clear()
            walls, peaks = [], []
            for number in range(1, sample + 1):
                wall, _, rss, _ = measured(gonogo("check", f"CHK-{number}"), server.env)
                walls.append(wall)
                peaks.append(rss)
            counted = server.requests()
            per_ticket = sum(walls) / sample
            rows.append(
                (
                    f"check KEY per ticket, {label} (x{sample})",
                    f"{per_ticket:.2f} s/ticket → {per_ticket * n / 60:.0f} min for {n}",
                    f"{counted['total']}",
                    f"{counted['total'] / sample:.3f}",
                    f"{max(peaks):.0f} MiB",
                )
            )
    finally:
        server.close()

    header = ("run", "wall", "requests", "requests/ticket", "peak RSS")
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print(f"{n} tickets on loopback (Cloud flavour, 100 per search page), {os.cpu_count()} cores\n")
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print("\nRequests by kind:")
    for line in breakdowns:
        print(f"  {line}")


if __name__ == "__main__":
    main()
