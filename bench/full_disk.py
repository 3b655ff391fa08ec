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
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from jiraserver import running_server  # noqa: E402
from webhook_helpers import SECRET, created_event, free_port, seed, signed  # noqa: E402

TMPFS_SIZE = "4m"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--after", type=int, default=40, help="seconds to watch after space is freed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, running_server(deployment="Cloud") as jira:
        disk = Path(folder) / "disk"
        disk.mkdir()
        if subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(disk)], check=False
        ).returncode:
            raise SystemExit("cannot mount a tmpfs (run as root)")
        service = None
        try:
            config = Path(folder) / "gonogo.toml"
            config.write_text(
                f'[jira]\nretries = 0\n\n[webhook]\nqueue_path = "{disk / "queue"}"\nworkers = 4\n',
                encoding="utf-8",
            )
            email, token = jira.basic_auth
            env = {
                **os.environ,
                "PYTHONPATH": str(REPO),
                "JIRA_URL": jira.url,
                "JIRA_USER": email,
                "JIRA_API_TOKEN": token,
                "GONOGO_CONFIG": str(config),
                "GONOGO_WEBHOOK_SECRET": SECRET,
            }
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            log = (Path(folder) / "serve.log").open("wb")
            service = subprocess.Popen(
                [sys.executable, "-m", "gonogo", "serve", "--port", str(port)],
                env=env,
                cwd=folder,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 30
            while True:
                try:
                    if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("gonogo serve did not start")
                time.sleep(0.1)
            keys = [f"BID-{n}" for n in range(1, 5)]
            ids = {key: seed(jira, key) for key in keys}
            jira.hang_next("GET", r"/rest/api/2/issue/", times=4)
            for key in keys:
                body = created_event(key, ids[key])
                requests.post(f"{url}/webhook", data=body, headers=signed(body, f"disk-{key}"), timeout=10)
            while jira.held_requests < 4:
                time.sleep(0.05)
            filler = fill(disk)
            jira.release()
            while sum(len(jira.comments(key)) for key in keys) < 4:
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
            print(
                f"space freed: /healthz {health.status_code}; comments per ticket "
                f"{[len(jira.comments(key)) for key in keys]}"
            )
        finally:
            if service is not None:
                service.terminate()
                service.wait(timeout=30)
            subprocess.run(["umount", str(disk)], check=False)


if __name__ == "__main__":
    main()
