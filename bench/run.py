"""All of gonogo's benchmarks in one run: prints a table and appends it to bench/RESULTS.md.

Usage: python bench/run.py [--runs 15] [--skip-webhook]

Measured side by side in this one run (absolute times on shared machines are noisy; compare the
ratios):
1. Jira round-trips per first check and per re-check: gonogo against a naive script that uses the
   `jira` library the obvious way (connect, get issue, list comments, add comment), same server.
2. Wall time and peak memory of `gonogo check FILE --dry-run`, `gonogo --help`, `python -c pass`
   and `check-jsonschema` validating the same ticket file against a schema equivalent to the
   completeness checklist (interleaved runs; peak memory is the child's max RSS).
3. Checklist evaluation throughput (tickets per second, every bundled checklist) with jsonschema
   and with jsonschema-rs.
4. The webhook burst (bench/webhook_burst.py: 500 deliveries) unless --skip-webhook.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

EXAMPLE = REPO / "examples" / "healthy.json"
TODAY = date(2026, 11, 23)


def seed(server: Any, key: str) -> None:
    data = json.loads(EXAMPLE.read_text())
    server.add_issue(key, {k: v for k, v in data["fields"].items() if k != "comment"}, names=data["names"])


def round_trips() -> list[tuple[str, str, str]]:
    """Requests per first check and re-check: gonogo versus the obvious use of the jira library."""
    from jira import JIRA
    from jiraserver import running_server

    from gonogo.check import check_ticket
    from gonogo.config import load_settings
    from gonogo.engine import build_engine
    from gonogo.ticket import IssueKeyRef

    with running_server() as server:
        seed(server, "BID-1")
        seed(server, "BID-2")
        email, token = server.basic_auth
        settings = load_settings(
            environ={"JIRA_URL": server.url, "JIRA_USER": email, "JIRA_API_TOKEN": token}
        )
        engine = build_engine(settings)
        counts = []
        for _ in range(2):
            before = len(server.requests)
            check_ticket(IssueKeyRef("BID-1"), engine=engine, jira=settings.jira, today=TODAY, dry_run=False)
            counts.append(len(server.requests) - before)
        naive = []
        for _ in range(2):
            before = len(server.requests)
            client = JIRA(server.url, basic_auth=(email, token), max_retries=0, timeout=10)
            client.issue("BID-2", expand="names")
            client.comments("BID-2")
            client.add_comment("BID-2", "verdict")
            naive.append(len(server.requests) - before)
        return [
            ("round-trips, first check", f"gonogo {counts[0]}", f"naive {naive[0]}"),
            (
                "round-trips, re-check",
                f"gonogo {counts[1]}",
                f"naive {naive[1]} (and a duplicate comment: {len(server.comments('BID-2'))} in all)",
            ),
        ]


def completeness_schema() -> dict[str, object]:
    """The completeness checklist as a JSON Schema over the raw ticket, for check-jsonschema."""
    required = [
        "customfield_10101",
        "customfield_10102",
        "customfield_10103",
        "customfield_10104",
        "customfield_10105",
        "customfield_10108",
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["fields"],
        "properties": {
            "fields": {
                "type": "object",
                "required": required,
                "properties": {field: {"not": {"type": "null"}} for field in required},
            }
        },
    }


def run_measured(command: list[str]) -> tuple[float, float]:
    """Wall seconds and the child's peak RSS in MiB.

    A child's max RSS includes the high-water mark of the process that started it (vfork, then
    exec), so this runs in a fresh interpreter that imported nothing heavy (see main).
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024


def startup_in_fresh_interpreter(runs: int) -> list[tuple[str, str, str]]:
    result = subprocess.run(
        [sys.executable, __file__, "--startup-only", "--runs", str(runs)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [tuple(row) for row in json.loads(result.stdout)]  # type: ignore[misc]


def startup(runs: int) -> list[tuple[str, str, str]]:
    folder = Path(tempfile.mkdtemp())
    schema = folder / "completeness.schema.json"
    schema.write_text(json.dumps(completeness_schema()))
    commands = {
        "gonogo check FILE --dry-run": [
            sys.executable,
            "-m",
            "gonogo",
            "check",
            str(EXAMPLE),
            "--dry-run",
            "--today",
            TODAY.isoformat(),
        ],
        "gonogo --help": [sys.executable, "-m", "gonogo", "--help"],
        "python -c pass": [sys.executable, "-c", "pass"],
        "gonogo checklists list": [sys.executable, "-m", "gonogo", "checklists", "list"],
    }
    checker = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    if Path(checker).exists():
        commands["check-jsonschema (same file)"] = [checker, "--schemafile", str(schema), str(EXAMPLE)]
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(run_measured(command))
    base = statistics.median(wall for wall, _ in samples["gonogo check FILE --dry-run"])
    rows = []
    for name, values in samples.items():
        wall = statistics.median(v[0] for v in values)
        rss = max(v[1] for v in values)
        rows.append((name, f"{wall * 1000:.0f} ms ({wall / base:.0%} of check)", f"peak {rss:.0f} MiB"))
    return rows


def throughput(seconds: float = 3.0) -> list[tuple[str, str, str]]:
    from gonogo.config import Settings
    from gonogo.engine import build_engine
    from gonogo.ticket import load_ticket_file

    tickets = [load_ticket_file(p) for p in sorted((REPO / "examples").glob("*.json"))]
    rows = []
    rates = {}
    for validator in ("jsonschema", "jsonschema-rs"):
        engine = build_engine(Settings(condition_validator=validator))
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for ticket in tickets:
                engine.assess(ticket, today=TODAY)
            done += len(tickets)
        rates[validator] = done / (time.perf_counter() - start)
    rules = sum(len(c.rules) for c in build_engine(Settings()).checklists)
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
    rows = startup_in_fresh_interpreter(args.runs) + round_trips() + throughput()
    width = max(len(r[0]) for r in rows)
    table = "\n".join(f"{a:<{width}}  {b:<34}  {c}" for a, b, c in rows)
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
