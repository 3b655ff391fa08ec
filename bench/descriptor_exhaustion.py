"""1,100 connections that send half their headers and wait, against `gonogo serve` on loopback.

Issue 13, case 6: at the default descriptor limit (soft 1024) such connections used to make
deliveries and /healthz time out, and asyncio wrote a traceback per failed accept. This script
starts the test Jira (in this process) and `gonogo serve` (a subprocess, this checkout's code) with
a soft limit of 1024, opens the stalled connections, then measures while they are held:

- how long /healthz and one signed delivery take to be answered (and their status);
- when the delivery's comment exists;
- how many log lines the service wrote in the window, how many were not JSON, and their bytes.

Run twice: `--hard-limit default` (the hard limit stays what it is: gonogo may raise its soft limit)
and `--hard-limit 1024` (a container that forbids raising it: only the request deadline, the
connection bound and the rate-limited accept log help).

Usage: python bench/descriptor_exhaustion.py [--connections 1100] [--hold 20] [--hard-limit 1024]
"""

from __future__ import annotations

import argparse
import resource
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from jiraserver import running_server
from service_process import start_serve
from webhook_helpers import created_event, seed, signed

SOFT_LIMIT = 1024


def timed(call: Callable[[], requests.Response]) -> tuple[str, float]:
    """(outcome, seconds) of one HTTP call; a timeout or refused connection is the outcome."""
    started = time.perf_counter()
    try:
        outcome = str(call().status_code)
    except requests.RequestException as exc:
        outcome = exc.__class__.__name__
    return outcome, time.perf_counter() - started


def stall(port: int, count: int) -> list[socket.socket]:
    """Open `count` connections that send part of a request's headers and then nothing."""
    stalled = []
    for _ in range(count):
        conn = socket.socket()
        conn.settimeout(5)
        try:
            conn.connect(("127.0.0.1", port))
            conn.sendall(b"POST /webhook HTTP/1.1\r\nHost: gonogo\r\nContent-Ty")
        except OSError:
            conn.close()
            continue
        stalled.append(conn)
    return stalled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1100)
    parser.add_argument("--hold", type=float, default=20.0, help="seconds the stalled connections stay open")
    parser.add_argument("--hard-limit", default="1024", help='"default" or a number')
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # this script holds the connections
    child_hard = hard if args.hard_limit == "default" else int(args.hard_limit)

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (SOFT_LIMIT, child_hard))

    with tempfile.TemporaryDirectory() as folder, running_server(deployment="Cloud") as jira:
        issue_id = seed(jira, "BID-1")
        service, url, log_path = start_serve(Path(folder), jira, 'queue_path = "queue"', before_exec=limits)
        try:
            before = log_path.stat().st_size
            started = time.monotonic()
            stalled = stall(int(url.rsplit(":", 1)[1]), args.connections)
            time.sleep(2)  # let the service accept what it can
            health = timed(lambda: requests.get(f"{url}/healthz", timeout=30))
            body = created_event("BID-1", issue_id)
            delivery = timed(
                lambda: requests.post(
                    f"{url}/webhook", data=body, headers=signed(body, "bench-fd"), timeout=30
                )
            )
            comment_at = None
            while time.monotonic() - started < args.hold and comment_at is None:
                if jira.comments("BID-1"):
                    comment_at = time.monotonic() - started
                time.sleep(0.1)
            time.sleep(max(0.0, args.hold - (time.monotonic() - started)))
            for conn in stalled:
                conn.close()
        finally:
            service.terminate()
            service.wait(timeout=30)
        text = log_path.read_bytes()[before:].decode("utf-8", "replace")
        lines = [line for line in text.splitlines() if line.strip()]
        not_json = [line for line in lines if not line.startswith("{")]
        print(f"soft limit {SOFT_LIMIT}, hard limit {args.hard_limit}; {len(stalled)} stalled connections")
        print(f"/healthz: {health[0]} after {health[1]:.2f} s")
        print(f"delivery: {delivery[0]} after {delivery[1]:.2f} s")
        print(f"comment: {f'after {comment_at:.1f} s' if comment_at is not None else 'none'}")
        print(f"log: {len(lines)} lines ({len(not_json)} not JSON), {len(text.encode()):,} bytes")


if __name__ == "__main__":
    main()
