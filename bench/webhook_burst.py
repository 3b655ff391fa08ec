"""A burst of signed `jira:issue_created` deliveries against `gonogo serve`, all on loopback.

Starts the Jira-compatible test server (in this process) with one ticket per delivery, starts
`gonogo serve` as a subprocess, sends the burst from a pool of client threads, and measures:

- acknowledgement latency: from sending a delivery to its 200 (client side), p50/p90/p99/max;
- time to comment: per delivery from the service's log lines (arrival to comment posted), and for
  the whole burst from its first request to the moment the last comment exists.

The same burst is first sent to bench/bare_app.py, a Starlette app on the same server settings that
only answers 200: the floor of HTTP on this machine with these senders. gonogo's p50/p99 are
printed beside it as a multiple of it.

Usage: python bench/webhook_burst.py [--deliveries 500] [--concurrency 20] [--workers 4]
                                     [--queue local|redis]
The test Jira answers in well under a millisecond, so time to comment here is gonogo's own cost
(fetch, assess, render, post through the real client) plus queueing, not a real Jira's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import redis
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from jiraserver import JiraServer, running_server  # noqa: E402
from service_process import start_serve  # noqa: E402
from webhook_helpers import (  # noqa: E402
    created_event,
    free_port,
    seed,
    signed,
)

READY_TIMEOUT = 30.0
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


def start_floor(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """bench/bare_app.py: the same server settings, no work (see the module doc)."""
    command = [sys.executable, str(REPO / "bench" / "bare_app.py")]
    return wait_ready(command, folder, dict(os.environ), "bare.log")


def wait_ready(
    command: list[str], folder: Path, env: dict[str, str], log_name: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (folder / log_name).open("wb")
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{command[-1]} exited with {process.returncode}; see {folder / log_name}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"{command[-1]} did not become ready")


@dataclass
class Results:
    floor: list[float]  # seconds per delivery, client side, against the bare Starlette app
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
        floor_process, floor_url = start_floor(folder)
        try:
            floor, _ = send_burst(floor_url, bodies, args.concurrency, prefix="floor")
        finally:
            floor_process.terminate()
            floor_process.wait(timeout=30)
        process, url = start_service(folder, jira, args, redis_prefix=redis_prefix)
        try:
            burst_start = time.perf_counter()
            acks, burst_sent = send_burst(url, bodies, args.concurrency, prefix="bench")
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
    return Results(floor, acks, to_comment, burst_sent, last_comment, not_one)


def send_burst(
    url: str, bodies: dict[str, bytes], concurrency: int, *, prefix: str
) -> tuple[list[float], float]:
    """POST every body over `concurrency` keep-alive connections; each delivery's latency, the burst's.

    The senders are one asyncio loop writing plain HTTP/1.1, not `concurrency` threads of a client
    library: threads in one process wait for each other's GIL, and that wait would be measured as
    server latency (it was: a thread-per-sender client added tens of milliseconds to both numbers).
    For the same reason the loop runs in a process of its own (this script with `--send`), not
    beside the test Jira: py-spy `--gil` showed the Jira's request threads, busy answering the
    service's checks during the burst, holding this process's GIL in ~95 % of the samples that
    held it, so a sender measured its own wait for them as the service's latency.
    """
    with tempfile.TemporaryDirectory(prefix="gonogo-burst-") as temp:
        source = Path(temp) / "bodies.json"
        source.write_text(json.dumps({key: body.decode() for key, body in bodies.items()}), encoding="utf-8")
        command = [sys.executable, __file__, "--send", url, "--bodies", str(source), "--prefix", prefix]
        command += ["--concurrency", str(concurrency)]
        answer = subprocess.run(command, capture_output=True, text=True, check=True, timeout=DRAIN_TIMEOUT)
    sent = json.loads(answer.stdout)
    return [float(x) for x in sent["latencies"]], float(sent["burst"])


def send_from_file(args: argparse.Namespace) -> None:
    """`--send`: the senders' process; prints the latencies and the burst's duration as JSON."""
    texts = json.loads(Path(args.bodies).read_text(encoding="utf-8"))
    bodies = {key: str(text).encode() for key, text in texts.items()}
    latencies, burst = asyncio.run(_send_all(args.send, bodies, args.concurrency, args.prefix))
    print(json.dumps({"latencies": latencies, "burst": burst}))


async def _send_all(
    url: str, bodies: dict[str, bytes], concurrency: int, prefix: str
) -> tuple[list[float], float]:
    host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
    todo = list(bodies.items())
    todo.reverse()
    latencies: list[float] = []

    async def sender() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while todo:
                key, body = todo.pop()
                headers = signed(body, f"{prefix}-{key}")
                head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
                request = (
                    f"POST /webhook HTTP/1.1\r\nHost: {host}:{port}\r\n{head}"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode() + body
                started = time.perf_counter()
                writer.write(request)
                status, answer = await _response(reader)
                latencies.append(time.perf_counter() - started)
                if status != 200 or json.loads(answer).get("outcome") != "queued":
                    raise SystemExit(f"{key}: unexpected answer {status} {answer!r}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    return status, await reader.readexactly(length)


def report(args: argparse.Namespace, results: Results) -> None:
    ms = 1000.0
    print(
        f"\n{args.deliveries} deliveries, {args.concurrency} concurrent senders, {args.workers} workers, "
        f"{args.queue} queue, loopback\n"
    )
    print(f"{'measure':<38}{'p50':>10}{'p90':>10}{'p99':>10}{'max':>10}")
    for name, values in (
        ("ack latency, bare Starlette (ms)", results.floor),
        ("ack latency (ms)", results.acks),
        ("time to comment per delivery (ms)", results.to_comment),
    ):
        row = [percentile(values, q) * ms for q in (0.5, 0.9, 0.99)] + [max(values) * ms]
        print(f"{name:<38}" + "".join(f"{v:>10.1f}" for v in row))
    ratios = [percentile(results.acks, q) / percentile(results.floor, q) for q in (0.5, 0.9, 0.99)]
    print(f"{'ack latency / bare Starlette':<38}" + "".join(f"{r:>9.2f}x" for r in ratios))
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
    parser.add_argument("--send", help=argparse.SUPPRESS)  # internal: be the senders' process
    parser.add_argument("--bodies", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="bench", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        send_from_file(args)
        return
    report(args, run(args))


if __name__ == "__main__":
    main()
