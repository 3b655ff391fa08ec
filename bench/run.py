"""All of gonogo's benchmarks in one run: prints a table and appends it to bench/RESULTS.md.

Usage: python bench/run.py [--runs 15] [--skip-webhook]

Every figure of issue 14's table, each beside its floor or peer, measured side by side in this one
run (absolute times on shared machines are noisy; compare the ratios):
1. Jira requests of a re-check whose verdict and text are unchanged (floor: 1 GET, 0 writes) and of
   one a day later (text changed), against a naive script that uses the `jira` library the obvious
   way (connect, get issue, list comments, add comment), same server.
2. `gonogo report` on 1,000 tickets, a tenth with waiver labels: requests per ticket read-only and
   for a `--post` re-run with nothing changed (floor: the search pages).
3. CPU time (user + system, from the child's rusage) and peak memory of `gonogo --help`,
   `gonogo --version`, `python -c pass`, `python -c 'import click'` (the floor of any click
   program), `gonogo check FILE --dry-run`, `gonogo checklists list` and
   `check-jsonschema` validating the same ticket file against a schema equivalent to the
   completeness checklist (interleaved runs), with the two ratios the issue sets goals for.
4. Checklist evaluation throughput (tickets per second, every bundled checklist) with jsonschema
   and with jsonschema-rs.
5. fsync on the disk the webhook queue uses, and the webhook burst (bench/webhook_burst.py: 500
   deliveries, beside a bare Starlette app) unless --skip-webhook.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from startup import completeness_schema  # noqa: E402  (bench/startup.py, beside this script)

EXAMPLE = REPO / "examples" / "healthy.json"
TODAY = date(2026, 11, 23)


def seed(server: Any, key: str) -> None:
    data = json.loads(EXAMPLE.read_text())
    server.add_issue(key, {k: v for k, v in data["fields"].items() if k != "comment"}, names=data["names"])


def round_trips() -> list[tuple[str, str, str]]:
    """Requests per first check and re-check: gonogo versus the obvious use of the jira library."""
    from jira import JIRA
    from jiraserver import running_server

    from gonogo.flows.assessor import build_assessor
    from gonogo.flows.check_ticket import check_ticket
    from gonogo.sources.config import load_settings

    with running_server() as server:
        seed(server, "BID-1")
        seed(server, "BID-2")
        email, token = server.basic_auth
        settings = load_settings(
            environ={"JIRA_URL": server.url, "JIRA_USER": email, "JIRA_API_TOKEN": token}
        )
        assessor = build_assessor(settings)
        counts = []
        for today in (TODAY, TODAY, TODAY + timedelta(days=1)):  # first, unchanged, a day later
            server.clear_requests()
            check_ticket("BID-1", assessor=assessor, today=today, dry_run=False)
            counts.append(_gets_and_writes(server.requests))
        naive = []
        for _ in range(2):
            before = len(server.requests)
            client = JIRA(server.url, basic_auth=(email, token), max_retries=0, timeout=10)
            client.issue("BID-2", expand="names")
            client.comments("BID-2")
            client.add_comment("BID-2", "verdict")
            naive.append(len(server.requests) - before)
        return [
            ("requests, first check", f"gonogo {counts[0]}", f"naive {naive[0]}"),
            (
                "requests, re-check, nothing changed",
                f"gonogo {counts[1]}",
                f"floor 1 GET, 0 writes; naive {naive[1]} (and a duplicate comment: "
                f"{len(server.comments('BID-2'))} in all)",
            ),
            (
                "requests, re-check, a day later",
                f"gonogo {counts[2]}",
                "goal 1 GET + at most 2 writes (1: the issue edit carries the comment)",
            ),
        ]


def _gets_and_writes(requests: list[Any]) -> str:
    gets = sum(1 for r in requests if r.method == "GET")
    writes = len(requests) - gets
    return f"{gets} GET, {writes} write{'' if writes == 1 else 's'}"


def reports(tickets: int = 1000) -> list[tuple[str, str, str]]:
    """Requests per ticket of `gonogo report`: read-only, and a `--post` re-run with nothing changed."""
    from jiraserver import running_server
    from portfolio_helpers import seed_portfolio, settings_for

    from gonogo.flows.assessor import build_assessor
    from gonogo.flows.portfolio_run import ReportRequest, run_report

    with running_server(deployment="Cloud") as server:
        seeded = seed_portfolio(server, tickets)
        waived = [key for key, name in seeded.items() if name == "waived"]  # with who added the labels
        settings = settings_for(server, deployment="cloud")
        assessor = build_assessor(settings)
        per_ticket = {}
        for name, post in (("read-only", False), ("post, first run", True), ("post, re-run", True)):
            server.clear_requests()
            run_report(
                ReportRequest(jql="project = BID", today=TODAY, post=post),
                assessor=assessor,
            )
            requests = server.requests
            searches = sum(1 for r in requests if r.path.endswith("/search/jql"))
            per_ticket[name] = (len(requests), searches)
        share = f"{len(waived) / tickets:.0%} with waiver labels"
        rows = []
        for name, floor in (
            ("read-only", "floor: the search pages; goal <= 0.02"),
            ("post, re-run", "floor: 0 writes; goal <= 0.02"),
        ):
            total, searches = per_ticket[name]
            rows.append(
                (
                    f"report {name}, {tickets} tickets ({share})",
                    f"{total / tickets:.3f} requests/ticket ({total}: {searches} search pages)",
                    floor,
                )
            )
        return rows


def run_measured(command: list[str]) -> tuple[float, float]:
    """CPU seconds (user + system) and the child's peak RSS in MiB.

    A child's max RSS includes the high-water mark of the process that started it (vfork, then
    exec), so this runs in a fresh interpreter that imported nothing heavy (see main).
    """
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def startup_in_fresh_interpreter(runs: int) -> list[tuple[str, str, str]]:
    result = subprocess.run(
        [sys.executable, __file__, "--startup-only", "--runs", str(runs)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [tuple(row) for row in json.loads(result.stdout)]  # type: ignore[misc]


def startup(runs: int) -> list[tuple[str, str, str]]:
    # An installed gonogo runs from bytecode (pip compiles it), as check-jsonschema does here. A
    # checkout under PYTHONDONTWRITEBYTECODE=1 would compile ~40 modules from source on every run
    # (measured: about 25 ms of CPU), which no user pays; compile them once, as pip would.
    compileall.compile_dir(REPO / "gonogo", quiet=1)
    folder = Path(tempfile.mkdtemp())
    schema = folder / "completeness.schema.json"
    schema.write_text(json.dumps(completeness_schema()))
    gonogo = [sys.executable, "-m", "gonogo"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import click'": [sys.executable, "-c", "import click"],
        "gonogo --help": [*gonogo, "--help"],
        "gonogo --version": [*gonogo, "--version"],
        "gonogo check FILE --dry-run": [
            *gonogo,
            "check",
            str(EXAMPLE),
            "--dry-run",
            "--today",
            TODAY.isoformat(),
        ],
        "gonogo checklists list": [*gonogo, "checklists", "list"],
    }
    checker = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    if Path(checker).exists():
        commands["check-jsonschema (same file)"] = [checker, "--schemafile", str(schema), str(EXAMPLE)]
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(run_measured(command))
    cpu = {name: statistics.median(c for c, _ in values) for name, values in samples.items()}
    peers = {
        "python -c 'import click'": ("python -c pass", "the floor of any click program"),
        "gonogo --help": ("python -c 'import click'", "goal <= 1.3x"),
        "gonogo --version": ("python -c 'import click'", ""),
        "gonogo check FILE --dry-run": ("check-jsonschema (same file)", "goal <= 1.3x"),
    }
    rows = []
    for name, values in samples.items():
        rss = max(v[1] for v in values)
        peer, goal = peers.get(name, (None, ""))
        ratio = f"{cpu[name] / cpu[peer]:.2f}x {peer}, {goal}" if peer in cpu else ""
        rows.append((f"{name} (CPU)", f"{cpu[name] * 1000:.0f} ms, peak {rss:.0f} MiB", ratio))
    return rows


def fsync_floor(count: int = 200) -> list[tuple[str, str, str]]:
    """fsync of a small write on the disk the webhook burst's queue uses (the temporary folder)."""
    with tempfile.TemporaryDirectory() as folder:
        handle = os.open(Path(folder) / "probe", os.O_WRONLY | os.O_CREAT)
        times = []
        try:
            for _ in range(count):
                os.write(handle, b"x" * 200)
                started = time.perf_counter()
                os.fsync(handle)
                times.append(time.perf_counter() - started)
        finally:
            os.close(handle)
    median = statistics.median(times) * 1000
    p99 = sorted(times)[int(0.99 * (count - 1))] * 1000
    return [
        (
            "fsync on the queue's disk",
            f"median {median:.2f} ms, p99 {p99:.2f} ms",
            "the floor of one durable commit",
        )
    ]


def throughput(seconds: float = 3.0) -> list[tuple[str, str, str]]:
    from gonogo.flows.assessor import build_assessor
    from gonogo.sources.config import Settings
    from gonogo.sources.tickets import load_ticket_file

    tickets = [load_ticket_file(p) for p in sorted((REPO / "examples").glob("*.json"))]
    rows = []
    rates = {}
    for validator in ("jsonschema", "jsonschema-rs"):
        assessor = build_assessor(Settings(condition_validator=validator))
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for ticket in tickets:
                assessor.assess(ticket, today=TODAY)
            done += len(tickets)
        rates[validator] = done / (time.perf_counter() - start)
    rules = sum(len(c.rules) for c in build_assessor(Settings()).checklists)
    for validator, rate in rates.items():
        ratio = rate / rates["jsonschema"]
        rows.append(
            (f"assess, {rules} rules ({validator})", f"{rate:,.0f} tickets/s", f"{ratio:.2f}x jsonschema")
        )
    return rows


def webhook() -> str:
    """The burst's own table (bench/webhook_burst.py prints it), kept as it is."""
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "webhook_burst.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return f"webhook burst failed: {result.stderr.strip()[-300:]}"
    return result.stdout.rstrip()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--skip-webhook", action="store_true")
    parser.add_argument("--startup-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.startup_only:
        print(json.dumps(startup(args.runs)))
        return
    rows = startup_in_fresh_interpreter(args.runs) + round_trips() + reports() + throughput() + fsync_floor()
    width = max(len(r[0]) for r in rows)
    middle = max(len(r[1]) for r in rows)
    table = "\n".join(f"{a:<{width}}  {b:<{middle}}  {c}".rstrip() for a, b, c in rows)
    if not args.skip_webhook:
        table += "\n\n" + webhook()
    print(table)
    python = f"Python {platform.python_version()}"
    machine = f"{platform.node()}, {os.cpu_count()} cores, {python}, {platform.platform()}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with (REPO / "bench" / "RESULTS.md").open("a", encoding="utf-8") as results:
        results.write(
            f"\n## {stamp}\n\n{machine}; {args.runs} interleaved runs per command.\n\n```text\n{table}\n```\n"
        )


if __name__ == "__main__":
    main()
