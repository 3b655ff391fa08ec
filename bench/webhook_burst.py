"""A burst of signed `jira:issue_created` deliveries against `gonogo serve`, all on loopback.

Starts the Jira-compatible test server (in this process) with one ticket per delivery, starts
`gonogo serve` as a subprocess, sends the burst from a pool of client threads, and measures:

- acknowledgement latency: from sending a delivery to its 200 (client side), p50/p90/p99/max;
- time to comment: per delivery from the service's log lines (arrival to comment posted), and for
  the whole burst from its first request to the moment the last comment exists.

Usage: python bench/webhook_burst.py [--deliveries 500] [--concurrency 20] [--workers 4]
                                     [--queue local|redis]
The test Jira answers in well under a millisecond, so time to comment here is gonogo's own cost
(fetch, assess, render, post through the real client) plus queueing, not a real Jira's latency.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import redis
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from jiraserver import JiraServer, running_server  # noqa: E402
from service_process import start_serve  # noqa: E402
from webhook_helpers import (  # noqa: E402
    created_event,
    seed,
    signed,
)

DRAIN_TIMEOUT = 600.0


def forget_redis_keys(prefix: str) -> None:
    client = redis.Redis(host="127.0.0.1", port=6379)
    for key in client.scan_iter(match=f"{{{prefix}}}:*"):
        client.delete(key)
    client.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def start_service(
    folder: Path, jira: JiraServer, args: argparse.Namespace, *, redis_prefix: str
) -> tuple[subprocess.Popen[bytes], str]:
    queue = f'queue = "redis"\nredis_prefix = "{redis_prefix}"\n' if args.queue == "redis" else ""
    process, url, _ = start_serve(
        folder,
        jira,
        f'queue_path = "queue"\nworkers = {args.workers}\n{queue}',
        jira_table="retries = 2\ntimeout_seconds = 10",
        env={"GONOGO_TODAY": "2026-11-23"},
    )
    return process, url


@dataclass
class Results:
    acks: list[float]  # seconds per delivery, client side
    to_comment: list[float]  # seconds per delivery, from the service's log lines
    burst_sent: float
    last_comment: float
    not_one_comment: int


def run(args: argparse.Namespace) -> Results:
    with tempfile.TemporaryDirectory(prefix="gonogo-bench-") as temp, running_server() as jira:
        folder = Path(temp)
        keys = [f"BID-{n}" for n in range(1, args.deliveries + 1)]
        bodies = {key: created_event(key, seed(jira, key)) for key in keys}
        redis_prefix = f"gonogo-bench-{uuid.uuid4().hex[:8]}"
        process, url = start_service(folder, jira, args, redis_prefix=redis_prefix)
        sessions = threading.local()

        def deliver(key: str) -> float:
            session = getattr(sessions, "session", None)
            if session is None:
                session = sessions.session = requests.Session()
            body = bodies[key]
            started = time.perf_counter()
            answer = session.post(
                f"{url}/webhook", data=body, headers=signed(body, f"bench-{key}"), timeout=30
            )
            elapsed = time.perf_counter() - started
            if answer.status_code != 200 or answer.json().get("outcome") != "queued":
                raise SystemExit(f"{key}: unexpected answer {answer.status_code} {answer.text}")
            return elapsed

        try:
            burst_start = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                acks = list(pool.map(deliver, keys))
            burst_sent = time.perf_counter() - burst_start
            pending = set(keys)
            deadline = time.monotonic() + DRAIN_TIMEOUT
            while pending and time.monotonic() < deadline:
                pending = {key for key in pending if not jira.comments(key)}
                if pending:
                    time.sleep(0.01)
            last_comment = time.perf_counter() - burst_start
            if pending:
                raise SystemExit(f"{len(pending)} tickets got no comment within {DRAIN_TIMEOUT:g} s")
            not_one = sum(1 for key in keys if len(jira.comments(key)) != 1)
        finally:
            process.terminate()
            process.wait(timeout=30)
            if args.queue == "redis":
                forget_redis_keys(redis_prefix)
        lines = [json.loads(x) for x in (folder / "serve.log").read_text().splitlines() if x.startswith("{")]
    to_comment = [
        line["latency_ms"] / 1000
        for line in lines
        if line.get("logger") == "gonogo.webhook.delivery" and line.get("outcome") == "posted"
    ]
    return Results(acks, to_comment, burst_sent, last_comment, not_one)


def report(args: argparse.Namespace, results: Results) -> None:
    ms = 1000.0
    print(
        f"\n{args.deliveries} deliveries, {args.concurrency} concurrent senders, {args.workers} workers, "
        f"{args.queue} queue, loopback\n"
    )
    print(f"{'measure':<38}{'p50':>10}{'p90':>10}{'p99':>10}{'max':>10}")
    for name, values in (
        ("ack latency (ms)", results.acks),
        ("time to comment per delivery (ms)", results.to_comment),
    ):
        row = [percentile(values, q) * ms for q in (0.5, 0.9, 0.99)] + [max(values) * ms]
        print(f"{name:<38}" + "".join(f"{v:>10.1f}" for v in row))
    print()
    print(f"{'burst sent (all acknowledged) in':<38}{results.burst_sent:>10.2f} s")
    print(f"{'time to last comment':<38}{results.last_comment:>10.2f} s")
    print(f"{'throughput (comments/s)':<38}{args.deliveries / results.last_comment:>10.1f}")
    print(f"{'mean ack latency (ms)':<38}{statistics.fmean(results.acks) * ms:>10.1f}")
    print(f"{'tickets with != 1 comment':<38}{results.not_one_comment:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--queue", choices=["local", "redis"], default="local")
    args = parser.parse_args()
    report(args, run(args))


if __name__ == "__main__":
    main()
