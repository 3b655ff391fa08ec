"""`gonogo report` at scale beside its floor, in one run: wall, CPU, peak RSS and the ratios.

Usage: python bench/portfolio_scale.py [--tickets 2000] [--latency-ms 0] [--post] [--concurrency 1 4]

The floor makes the search requests a read-only report makes (same JQL, fields, property,
changelog, page size, token paging) and decodes every page's JSON, nothing else: the least any
report can cost. Then `gonogo report` runs as a user runs it (a real `python -m gonogo` each),
read-only in the streamed formats (JSON Lines, CSV) and as text, and with `--post`: a first run that
writes every comment, and a re-run with nothing changed. Each gonogo run is given as a ratio to
the floor (wall time) and the `--post` re-run also to the read-only text report, all measured
here, side by side, because absolute times on a shared machine say little.

The test Jira (tests/jiraserver) runs in its own process without its answer-contract check, so
its time is the search's, as a real site's would be; `--latency-ms` delays every answer. The
launcher imports nothing heavy: a child's peak RSS starts from its parent's high-water mark.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from portfolio_2000 import TODAY, Server  # noqa: E402 - the folder is not a package

REPO = Path(__file__).resolve().parent.parent
FLOOR = "floor: the same search pages, JSON decoded"


def floor(env: dict[str, str], query: str) -> int:
    """The floor's own process: the report's first search page's query, then its tokens; decode, count."""
    from urllib.parse import parse_qsl

    import requests

    session = requests.Session()
    session.auth = (env["JIRA_USER"], env["JIRA_API_TOKEN"])
    params = dict(parse_qsl(query))
    found, token = 0, None
    while True:
        answer = session.get(
            f"{env['JIRA_URL']}/rest/api/2/search/jql",
            params={**params, **({"nextPageToken": token} if token else {})},
            timeout=60,
        )
        answer.raise_for_status()
        page = answer.json()
        found += len(page["issues"])
        token = page.get("nextPageToken")
        if page.get("isLast", True) or not token:
            return found


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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--post", action="store_true", help="also a first --post run and an unchanged re-run")
    parser.add_argument("--formats", nargs="+", default=["jsonl", "csv", "text"])
    parser.add_argument("--concurrency", nargs="+", type=int, default=[], help="post re-runs at these settings")
    parser.add_argument("--floor", metavar="QUERY", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor is not None:
        print(floor(dict(os.environ), args.floor))
        return

    n = args.tickets
    server = Server(n, 0, validate=False)
    gonogo = [sys.executable, "-m", "gonogo"]
    report = [*gonogo, "report", "--project", "BID", "--max-tickets", str(n)]
    rows: list[tuple[str, float, float, float, int, int]] = []
    try:
        server.latency(args.latency_ms / 1000)
        subprocess.run([*report, "--format", "csv"], env={**os.environ, **server.env}, capture_output=True)
        floor_run = [sys.executable, __file__, "--floor", server.search_query()]
        runs: list[tuple[str, list[str]]] = [(FLOOR, floor_run)]
        runs += [(f"report, read-only, {fmt}", [*report, "--format", fmt]) for fmt in args.formats]
        if args.post:
            runs += [
                ("report --post, first run (creates)", [*report, "--post"]),
                ("report --post, re-run (nothing changed)", [*report, "--post"]),
            ]
            runs += [
                (f"report --post, re-run, --concurrency {c}", [*report, "--post", "--concurrency", str(c)])
                for c in args.concurrency
            ]
        runs.append((FLOOR + " (again)", floor_run))  # the floor before and after: the ratios use the mean
        for name, command in runs:
            server.clear()
            wall, cpu, rss, code = measured(command, server.env)
            rows.append((name, wall, cpu, rss, code, server.requests()["total"]))
    finally:
        server.close()

    floors = [r[1] for r in rows if r[0].startswith(FLOOR)]
    floor_wall = sum(floors) / len(floors)
    read_only = next((r[1] for r in rows if r[0] == "report, read-only, text"), None)
    print(
        f"{n} tickets on loopback (Cloud, 100 per page), latency {args.latency_ms:g} ms, "
        f"{os.cpu_count()} cores\n"
    )
    header = f"{'run':<44} {'wall':>8} {'CPU':>8} {'peak RSS':>9} {'requests':>8}  ratios"
    print(header)
    for name, wall, cpu, rss, code, requests in rows:
        ratios = f"{wall / floor_wall:.2f}x floor"
        if "re-run" in name and read_only:  # --post re-run beside the read-only text report
            ratios += f", {wall / read_only:.2f}x read-only text"
        failed = "" if code in (0, 6) else f" (exit {code})"
        print(f"{name:<44} {wall:7.1f}s {cpu:7.1f}s {rss:6.0f} MiB {requests:>8}  {ratios}{failed}")


if __name__ == "__main__":
    main()
