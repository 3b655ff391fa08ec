"""What waiver approval costs in Jira requests: a report and single checks, with and without approvers.

Usage: python bench/waiver_requests.py [--tickets 300]

Seeds the loopback test Jira with proposals whose three waiver labels were added by a director,
a board member, or someone without authority, on different days (the scenarios of
tests/test_waiver_portfolio.py), then runs `gonogo report` and `gonogo check` as real subprocesses
with `[waivers] approvers` empty (anyone may waive) and with a user plus a group. It prints the
requests by kind and the wall time of each run, side by side. The group's members are read once per
run, however many tickets need them; a user named outright costs nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from jiraserver import JiraServer, running_server  # noqa: E402
from portfolio_helpers import env_for  # noqa: E402
from support import TODAY  # noqa: E402
from waiver_helpers import DIRECTOR, NOON, seed_scenarios  # noqa: E402

APPROVERS = {
    "anyone (approvers = [])": "[]",
    "a user and group:bid-board": f'["{DIRECTOR.account_id}", "group:bid-board"]',
}


def run(server: JiraServer, folder: Path, approvers: str, *args: str) -> tuple[float, Counter[str]]:
    (folder / "gonogo.toml").write_text(f"[waivers]\napprovers = {approvers}\n")
    server.clear_requests()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gonogo", *args, "--today", TODAY],
        env={**os.environ, **env_for(server)},
        cwd=folder,
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 10, 11, 12):
        raise SystemExit(done.stderr.decode())
    kinds = Counter(f"{r.method} {_kind(r.path)}" for r in server.requests)
    return wall, kinds


def _kind(path: str) -> str:
    for part in ("group/member", "search/jql", "serverInfo", "field", "comment", "properties"):
        if path.endswith(part) or f"/{part}/" in path:
            return part
    return "issue/KEY" if "/issue/" in path else path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=300)
    tickets = parser.parse_args().tickets
    with running_server(deployment="Cloud", now=NOON) as server, tempfile.TemporaryDirectory() as tmp:
        seed_scenarios(server, tickets)
        folder = Path(tmp)
        rows = []
        for name, approvers in APPROVERS.items():
            rows.append(
                (
                    f"report, {tickets} tickets, {name}",
                    *run(server, folder, approvers, "report", "--project", "BID"),
                )
            )
            for key, who in (("BID-6", "director"), ("BID-3", "no authority"), ("BID-4", "board member")):
                rows.append(
                    (
                        f"check --dry-run {key} ({who}), {name}",
                        *run(server, folder, approvers, "check", key, "--dry-run"),
                    )
                )
    print("| run | wall | requests | by kind |\n|---|---|---|---|")
    for label, wall, kinds in rows:
        detail = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        print(f"| {label} | {wall:.2f} s | {sum(kinds.values())} | {detail} |")


if __name__ == "__main__":
    main()
