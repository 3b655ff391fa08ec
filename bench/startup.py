"""Start-up cost of the command line beside its peers, measured side by side in one run.

Usage: python bench/startup.py [--runs 21]

Prints the median CPU time (user + system, from the child's rusage) of each command, runs
interleaved so that a busy machine slows every command alike, and the two ratios issue 27 sets:
`gonogo check FILE` against check-jsonschema validating the same file (at most 1.3x), and
`gonogo --help` against `python -c "import click"` (at most 1.3x). check-jsonschema is not a
dependency: without it, that comparison is skipped with a message.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "healthy.json"
GOALS = {  # command: (peer, largest ratio allowed)
    "gonogo check FILE": ("check-jsonschema (same file)", 1.3),
    "gonogo --help": ("python -c 'import click'", 1.3),
}


def completeness_schema() -> dict[str, object]:
    """The completeness checklist as a JSON Schema over the raw ticket, for check-jsonschema."""
    required = [f"customfield_1010{n}" for n in (1, 2, 3, 4, 5, 8)]
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


def cpu_seconds(command: list[str]) -> float:
    """CPU seconds (user + system) the command used, children included."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_utime + usage.ru_stime


def commands(folder: Path) -> dict[str, list[str]]:
    schema = folder / "completeness.schema.json"
    schema.write_text(json.dumps(completeness_schema()), encoding="utf-8")
    script = Path(sys.executable).parent / "gonogo"  # the installed command, as a user runs it
    gonogo = [str(script)] if script.exists() else [sys.executable, "-m", "gonogo"]
    listed = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import click'": [sys.executable, "-c", "import click"],
        "gonogo --help": [*gonogo, "--help"],
        "gonogo check FILE": [*gonogo, "check", str(EXAMPLE), "--today", "2026-11-23"],
    }
    checker = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    if Path(checker).exists():
        listed["check-jsonschema (same file)"] = [checker, "--schemafile", str(schema), str(EXAMPLE)]
    else:
        print("check-jsonschema is not installed: `gonogo check FILE` is measured without its peer")
    return listed


def measure(runs: int) -> dict[str, float]:
    """Median CPU seconds per command, the commands interleaved run by run."""
    # An installed gonogo runs from bytecode (pip compiles it): compile the checkout once, as pip would.
    compileall.compile_dir(REPO / "gonogo", quiet=1)
    with tempfile.TemporaryDirectory() as folder:
        listed = commands(Path(folder))
        env_free = {**os.environ, "GONOGO_CONFIG": ""}
        os.environ.clear()
        os.environ.update(env_free)
        samples: dict[str, list[float]] = {name: [] for name in listed}
        for _ in range(runs):
            for name, command in listed.items():
                samples[name].append(cpu_seconds(command))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    cpu = measure(args.runs)
    for name, seconds in cpu.items():
        peer, goal = GOALS.get(name, (None, 0.0))
        ratio = f"{seconds / cpu[peer]:.2f}x {peer} (goal <= {goal}x)" if peer in cpu else ""
        print(f"{name:<30} {seconds * 1000:6.1f} ms  {ratio}")


if __name__ == "__main__":
    main()
