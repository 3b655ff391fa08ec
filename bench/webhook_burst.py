"""Bursts of signed `jira:issue_created` deliveries against `gonogo serve`, all on loopback, in one run.

Starts the Jira-compatible test server (in this process) with one ticket per delivery and measures,
side by side:

1. the floor: bench/bare_app.py, a Starlette app on the same uvicorn settings that only answers 200;
2. a clean burst (local queue, `--workers` threads): acknowledgement latency (client side, from
   sending a delivery to its 200), time to comment (the service's log), time to the last comment;
3. the same burst with `gonogo serve` SIGKILLed mid-burst and started again on its port: the
   senders deliver again what was not acknowledged, as Jira does;
4. the Redis queue with a `gonogo worker` process doing the checks beside `gonogo serve` (one worker
   thread), the worker SIGKILLed mid-burst and started again: its claimed jobs come back after
   their lease.

Each reports how many tickets did not get exactly one comment. The kills come at 40 % of the clean
burst's sending time (3) and of its time to the last comment (4).

Usage: python bench/webhook_burst.py [--deliveries 500] [--concurrency 20] [--workers 4] [--skip-kills]
The test Jira answers in well under a millisecond, so time to comment is gonogo's own cost plus
queueing, not a real Jira's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
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
from service_process import service_environment, start_serve, start_worker  # noqa: E402
from webhook_helpers import created_event, free_port, seed, signed  # noqa: E402

READY_TIMEOUT = 30.0
DRAIN_TIMEOUT = 600.0
KILL_AT = 0.4
JIRA_TABLE = "retries = 2\ntimeout_seconds = 10"
TODAY = {"GONOGO_TODAY": "2026-11-23"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Burst:
    acks: list[float]  # seconds per delivery, client side
    sent: float  # seconds until every delivery was acknowledged
    last_comment: float  # seconds from the first request to the last comment
    not_one_comment: int
    redelivered: int


def start_floor(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (folder / "bare.log").open("wb")
    command = [sys.executable, str(REPO / "bench" / "bare_app.py"), "--port", str(port)]
    process = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("bench/bare_app.py did not become ready")


def burst(
    jira: JiraServer,
    url: str,
    keys: list[str],
    bodies: dict[str, bytes],
    args: argparse.Namespace,
    prefix: str,
) -> Burst:
    """Send the burst, wait for every comment; the figures."""
    started = time.perf_counter()
    acks, sent, redelivered = send_burst(
        url, {key: bodies[key] for key in keys}, args.concurrency, prefix=prefix
    )
    pending = set(keys)
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while pending and time.monotonic() < deadline:
        pending = {key for key in pending if not jira.comments(key)}
        if pending:
            time.sleep(0.1)  # polling 500 tickets more often takes the 2 cores' CPU from the service
    last = time.perf_counter() - started
    time.sleep(1.0)  # a duplicate comment would come after the first one
    not_one = sum(1 for key in keys if len(jira.comments(key)) != 1)
    return Burst(acks, sent, last, not_one, redelivered)


def kill_later(seconds: float, victim: list[subprocess.Popen[bytes]], restart: object) -> threading.Thread:
    """SIGKILL `victim[0]` after `seconds`, then put `restart()`'s process in its place."""

    def run() -> None:
        time.sleep(seconds)
        victim[0].send_signal(signal.SIGKILL)
        victim[0].wait()
        victim[0] = restart()  # type: ignore[operator]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def run(args: argparse.Namespace) -> dict[str, Burst | list[float]]:
    results: dict[str, Burst | list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="gonogo-bench-") as temp, running_server() as jira:
        folder = Path(temp)
        n = args.deliveries
        runs = 1 if args.skip_kills else 3
        keys = [f"BID-{i}" for i in range(1, n * runs + 1)]
        bodies = {key: created_event(key, seed(jira, key)) for key in keys}
        floor_process, floor_url = start_floor(folder)
        try:
            results["floor"] = send_burst(
                floor_url, {k: bodies[k] for k in keys[:n]}, args.concurrency, prefix="floor"
            )[0]
        finally:
            floor_process.terminate()
            floor_process.wait(timeout=30)
        local = f'queue_path = "queue"\nworkers = {args.workers}'
        process, url, _ = start_serve(folder, jira, local, jira_table=JIRA_TABLE, env=TODAY)
        try:
            clean = results["clean"] = burst(jira, url, keys[:n], bodies, args, "clean")
        finally:
            process.terminate()
            process.wait(timeout=30)
        if args.skip_kills:
            return results
        port = int(url.rsplit(":", 1)[1])
        serve = [start_serve(folder, jira, local, jira_table=JIRA_TABLE, env=TODAY, port=port)[0]]
        restart = lambda: start_serve(folder, jira, local, jira_table=JIRA_TABLE, env=TODAY, port=port)[0]  # noqa: E731
        killer = kill_later(KILL_AT * clean.sent, serve, restart)
        try:
            results["kill serve"] = burst(jira, url, keys[n : 2 * n], bodies, args, "kill-serve")
            killer.join()
        finally:
            serve[0].terminate()
            serve[0].wait(timeout=30)
        results["kill worker"] = redis_burst(
            folder, jira, keys[2 * n :], bodies, args, KILL_AT * clean.last_comment
        )
    return results


def redis_burst(
    folder: Path,
    jira: JiraServer,
    keys: list[str],
    bodies: dict[str, bytes],
    args: argparse.Namespace,
    kill_at: float,
) -> Burst:
    prefix = f"gonogo-bench-{uuid.uuid4().hex[:8]}"
    config = f'queue = "redis"\nredis_prefix = "{prefix}"\nlease_seconds = 5\nworkers = 1'
    process, url, _ = start_serve(
        folder, jira, config, jira_table=JIRA_TABLE, env=TODAY, log_name="serve-redis.log"
    )
    environment = {**service_environment(folder, jira, config, jira_table=JIRA_TABLE, env=TODAY)}
    worker_env = {**environment, "GONOGO_CONFIG": str(folder / "worker.toml")}
    (folder / "worker.toml").write_text(
        (folder / "gonogo.toml").read_text().replace("workers = 1", f"workers = {args.workers}"),
        encoding="utf-8",
    )
    worker = [start_worker(folder, worker_env)]
    try:
        killer = kill_later(kill_at, worker, lambda: start_worker(folder, worker_env))
        result = burst(jira, url, keys, bodies, args, "kill-worker")
        killer.join()
        return result
    finally:
        for victim in (worker[0], process):
            victim.terminate()
            victim.wait(timeout=30)
        client = redis.Redis(host="127.0.0.1", port=6379)
        for key in client.scan_iter(match=f"{{{prefix}}}:*"):
            client.delete(key)
        client.close()


def send_burst(
    url: str, bodies: dict[str, bytes], concurrency: int, *, prefix: str
) -> tuple[list[float], float, int]:
    """POST every body over `concurrency` keep-alive connections, from a process of its own (in this
    one, the test Jira's threads would hold the GIL while a sender waits: measured as latency).
    Each delivery's latency, the burst's duration, and how many deliveries were sent again."""
    with tempfile.TemporaryDirectory(prefix="gonogo-burst-") as temp:
        source = Path(temp) / "bodies.json"
        source.write_text(json.dumps({key: body.decode() for key, body in bodies.items()}), encoding="utf-8")
        command = [sys.executable, __file__, "--send", url, "--bodies", str(source), "--prefix", prefix]
        command += ["--concurrency", str(concurrency)]
        answer = subprocess.run(command, capture_output=True, text=True, check=True, timeout=DRAIN_TIMEOUT)
    sent = json.loads(answer.stdout)
    return [float(x) for x in sent["latencies"]], float(sent["burst"]), int(sent["redelivered"])


def send_from_file(args: argparse.Namespace) -> None:
    texts = json.loads(Path(args.bodies).read_text(encoding="utf-8"))
    bodies = {key: str(text).encode() for key, text in texts.items()}
    print(json.dumps(asyncio.run(_send_all(args.send, bodies, args.concurrency, args.prefix))))


async def _send_all(url: str, bodies: dict[str, bytes], concurrency: int, prefix: str) -> dict[str, object]:
    host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
    todo = list(reversed(bodies.items()))
    latencies: list[float] = []
    redelivered = 0

    async def sender() -> None:
        nonlocal redelivered
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while todo:
            key, body = todo.pop()
            headers = signed(body, f"{prefix}-{key}")
            head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            request = (
                f"POST /webhook HTTP/1.1\r\nHost: {host}:{port}\r\n{head}Content-Length: {len(body)}\r\n\r\n"
            )
            while True:  # as Jira does: deliver again until acknowledged
                try:
                    connection = connection or await asyncio.open_connection(host, port)
                    started = time.perf_counter()
                    connection[1].write(request.encode() + body)
                    status, answer = await _response(connection[0])
                except (OSError, asyncio.IncompleteReadError):
                    connection = None
                    redelivered += 1
                    await asyncio.sleep(0.05)
                    continue
                if status == 200 and json.loads(answer).get("outcome") in {"queued", "duplicate"}:
                    latencies.append(time.perf_counter() - started)
                    break
                if status != 503:
                    raise SystemExit(f"{key}: unexpected answer {status} {answer!r}")
                redelivered += 1
        if connection is not None:
            connection[1].close()

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return {"latencies": latencies, "burst": time.perf_counter() - started, "redelivered": redelivered}


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    return status, await reader.readexactly(length)


def report(args: argparse.Namespace, results: dict[str, Burst | list[float]]) -> None:
    ms = 1000.0
    print(f"\n{args.deliveries} deliveries, {args.concurrency} senders, {args.workers} workers, loopback\n")
    print(f"{'measure':<38}{'p50':>10}{'p90':>10}{'p99':>10}{'max':>10}")
    floor, clean = results["floor"], results["clean"]
    assert isinstance(floor, list)
    assert isinstance(clean, Burst)
    for name, values in (("ack latency, bare Starlette (ms)", floor), ("ack latency (ms)", clean.acks)):
        row = [percentile(values, q) * ms for q in (0.5, 0.9, 0.99)] + [max(values) * ms]
        print(f"{name:<38}" + "".join(f"{v:>10.1f}" for v in row))
    print()
    print(
        f"{'scenario':<26}{'acknowledged in':>16}{'last comment':>14}{'sent again':>12}{'!= 1 comment':>14}"
    )
    for name, result in results.items():
        if isinstance(result, Burst):
            print(
                f"{name:<26}{result.sent:>14.2f} s{result.last_comment:>12.2f} s"
                f"{result.redelivered:>12}{result.not_one_comment:>14}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--skip-kills", action="store_true", help="only the floor and the clean burst")
    parser.add_argument("--send", help=argparse.SUPPRESS)  # internal: be the senders' process
    parser.add_argument("--bodies", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="bench", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        send_from_file(args)
        return
    report(args, run(args))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
