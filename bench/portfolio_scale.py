"""`gonogo report` at scale beside its floor, in one run: wall, CPU, peak RSS and the ratios.

Usage: python bench/portfolio_scale.py [--tickets 2000] [--rounds 3] [--post] [--concurrency 1 4 8]

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
import os
import statistics
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from portfolio_2000 import TODAY, Server, measured

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


def main() -> None:  # noqa: PLR0915 - one table, measured in one place
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every run; medians are printed")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--post", action="store_true", help="also a first --post run and unchanged re-runs")
    parser.add_argument("--formats", nargs="+", default=["jsonl", "csv", "text"])
    parser.add_argument(
        "--concurrency",
        nargs="+",
        type=int,
        default=[],
        help="--post runs a day later each (comments with a deadline change) at these settings",
    )
    parser.add_argument("--floor", metavar="QUERY", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor is not None:
        print(floor(dict(os.environ), args.floor))
        return

    n = args.tickets
    server = Server(n, 0, validate=False)
    report = [sys.executable, "-m", "gonogo", "report", "--project", "BID", "--max-tickets", str(n)]
    samples: dict[str, list[tuple[float, float, float, int, int]]] = {}

    def run(name: str, command: list[str]) -> float:
        server.clear()
        wall, cpu, rss, code = measured(command, server.env)
        samples.setdefault(name, []).append((wall, cpu, rss, code, server.requests()["total"]))
        return wall

    ratios: dict[str, list[float]] = {}
    days = 0
    try:
        server.latency(args.latency_ms / 1000)
        subprocess.run(
            [*report, "--format", "csv"], env={**os.environ, **server.env}, capture_output=True, check=True
        )
        floor_run = [sys.executable, __file__, "--floor", server.search_query()]
        if args.post:
            run("report --post, first run (creates)", [*report, "--post"])
        rerun = "report --post, re-run (nothing changed)"
        rounds: list[tuple[str, list[str]]] = [
            (f"report, read-only, {fmt}", [*report, "--format", fmt]) for fmt in args.formats
        ]
        if args.post:
            rounds.append((rerun, [*report, "--post"]))
        for _ in range(args.rounds):  # each run beside a floor measured just before it, in turn
            for name, command in rounds:
                floor_wall = run(FLOOR, floor_run)
                ratios.setdefault(name, []).append(run(name, command) / floor_wall)
            for c in args.concurrency if args.post else ():  # a new day each: the same comments change
                days += 1
                later = (date.fromisoformat(TODAY) + timedelta(days=days)).isoformat()
                command = [*report, "--post", "--today", later, "--concurrency", str(c)]
                run(f"report --post, a day later, --concurrency {c}", command)
            if args.post and "report, read-only, text" in samples:
                text, again = samples["report, read-only, text"][-1][0], samples[rerun][-1][0]
                ratios.setdefault("re-run / read-only text", []).append(again / text)
    finally:
        server.close()

    print(
        f"{n} tickets on loopback (Cloud, 100 per page), latency {args.latency_ms:g} ms, "
        f"{os.cpu_count()} cores, median of {args.rounds} rounds\n"
    )
    print(f"{'run':<52} {'wall':>7} {'CPU':>7} {'peak RSS':>9} {'requests':>8}  wall / floor before it")
    for name, values in samples.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        rss = max(v[2] for v in values)
        codes = {v[3] for v in values} - {0, 6}
        ratio = f"{statistics.median(ratios[name]):.2f}x" if name in ratios else ""
        failed = f" (exit {sorted(codes)})" if codes else ""
        print(f"{name:<52} {wall:6.1f}s {cpu:6.1f}s {rss:5.0f} MiB {values[-1][4]:>8}  {ratio}{failed}")
    if "re-run / read-only text" in ratios:
        pairs = ratios["re-run / read-only text"]
        print(f"\n--post re-run / read-only text report (same round): {statistics.median(pairs):.2f}x")


if __name__ == "__main__":
    main()
