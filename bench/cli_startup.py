"""Wall time of `gonogo check FILE`, `gonogo --help` and `python -c pass`, measured side by side.

Runs the three commands interleaved (so machine noise hits all of them alike) and prints medians
and ratios. Usage: python bench/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "gonogo --help": [sys.executable, "-m", "gonogo", "--help"],
    "gonogo check FILE": [
        sys.executable,
        "-m",
        "gonogo",
        "check",
        str(REPO / "examples" / "doomed.json"),
        "--today",
        "2026-11-23",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times[name].append(time.perf_counter() - start)
    baseline = statistics.median(times["gonogo check FILE"])
    print(f"{'command':<20} {'median ms':>10} {'vs check':>9}   ({runs} interleaved runs)")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:<20} {median * 1000:>10.1f} {median / baseline:>9.2f}")


if __name__ == "__main__":
    main()
