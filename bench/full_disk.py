"""The local queue's disk fills up while checks run, then space comes back (issue 13, case 8).

Needs root: the queue lives on a small tmpfs this script mounts (and unmounts). It starts the test
Jira (in this process, holding the first four checks' GETs) and `gonogo serve` (this checkout's
code, 4 workers), queues four deliveries, fills the disk, lets the checks finish (their comments
are posted, their acknowledgements meet the full disk), and then:

- asks /healthz and sends one more delivery while the disk is full;
- frees the space and records, every second for `--after` seconds, the queue depth (/metrics).

Usage: sudo python bench/full_disk.py [--after 40]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from jiraserver import JiraServer, running_server
from service_process import start_serve
from webhook_helpers import created_event, seed, signed

TMPFS_SIZE = "4m"
KEYS = [f"BID-{n}" for n in range(1, 5)]


def depth(url: str) -> str:
    try:
        for line in requests.get(f"{url}/metrics", timeout=5).text.splitlines():
            if line.startswith("gonogo_webhook_queue_depth "):
                return str(int(float(line.split()[1])))
    except requests.RequestException as exc:
        return exc.__class__.__name__
    return "?"


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; return it (deleting it frees the space)."""
    filler = folder / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


def checks_in_flight(jira: JiraServer, url: str) -> None:
    """Four deliveries whose checks are held in Jira until `jira.release()`."""
    ids = {key: seed(jira, key) for key in KEYS}
    jira.hang_next("GET", r"/rest/api/2/issue/", times=4)
    for key in KEYS:
        body = created_event(key, ids[key])
        requests.post(f"{url}/webhook", data=body, headers=signed(body, f"disk-{key}"), timeout=10)
    while jira.held_requests < 4:
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--after", type=int, default=40, help="seconds to watch after space is freed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, running_server(deployment="Cloud") as jira:
        disk = Path(folder) / "disk"
        disk.mkdir()
        mount = ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(disk)]
        if subprocess.run(mount, check=False).returncode:
            raise SystemExit("cannot mount a tmpfs (run as root)")
        service = None
        try:
            service, url, _ = start_serve(Path(folder), jira, f'queue_path = "{disk / "queue"}"\nworkers = 4')
            checks_in_flight(jira, url)
            filler = fill(disk)
            jira.release()
            while sum(len(jira.comments(key)) for key in KEYS) < 4:
                time.sleep(0.05)
            time.sleep(2)
            health = requests.get(f"{url}/healthz", timeout=10)
            body = created_event("BID-9", "99999")
            extra = requests.post(f"{url}/webhook", data=body, headers=signed(body, "disk-extra"), timeout=10)
            print(
                f"disk full: /healthz {health.status_code} {health.text}; a delivery gets {extra.status_code}"
            )
            print(f"disk full: queue depth {depth(url)}")
            filler.unlink()
            seen = []
            for second in range(1, args.after + 1):
                time.sleep(1)
                seen.append(f"{second}s:{depth(url)}")
            print("space freed, queue depth each second: " + " ".join(seen))
            health = requests.get(f"{url}/healthz", timeout=10)
            counts = [len(jira.comments(key)) for key in KEYS]
            print(f"space freed: /healthz {health.status_code}; comments per ticket {counts}")
        finally:
            if service is not None:
                service.terminate()
                service.wait(timeout=30)
            subprocess.run(["umount", str(disk)], check=False)


if __name__ == "__main__":
    main()
