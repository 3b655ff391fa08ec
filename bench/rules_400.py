"""A ticket-file check against 400 rules with 20 failing, beside check-jsonschema on the same file.

Usage: python bench/rules_400.py [--rules 400] [--failing 20] [--runs 9]

The checklist is generated: rules on four numeric inputs (contract value, win probability, effort,
payment terms) of examples/healthy.json, each a threshold, `--failing` of them beyond the ticket's
value (majors, so the path to GO has to clear them). check-jsonschema validates the same file against
the same conditions written over the raw ticket (`allOf`, one subschema per rule). Both run as fresh
processes, interleaved; the figure is CPU time (user + system, the child's rusage), median of the
runs, and the ratio is gonogo's over check-jsonschema's.
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
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "healthy.json"
BUNDLED = ("capability", "commercial", "completeness", "customer", "doomed", "strategic")
# property, its field on the example, its value there, and whether a higher value is better
INPUTS = (
    ("budget", "customfield_10101", 480000, True),
    ("win_probability", "customfield_10104", 45, True),
    ("effort_days", "customfield_10105", 300, False),
    ("payment_terms_days", "customfield_10111", 30, False),
)


def thresholds(index: int, count: int, failing: bool) -> tuple[str, str, str, float]:
    """Rule `index`'s property, field, JSON Schema keyword and bound; a failing one lies beyond."""
    name, field, value, higher = INPUTS[index % len(INPUTS)]
    step = value / (count + 2)
    offset = (index // len(INPUTS) + 1) * step  # distinct bounds, all on the ticket's good side
    if higher:
        return name, field, "minimum", round(value + offset if failing else value - offset, 2)
    return name, field, "maximum", round(value - offset if failing else value + offset, 2)


def write_inputs(folder: Path, rules: int, failing: int) -> tuple[Path, Path]:
    """gonogo.toml with the generated checklist only, and the equivalent schema for check-jsonschema."""
    every = max(len(INPUTS), rules // max(failing, 1))
    failed = {k * every + k % len(INPUTS) for k in range(failing)}  # spread over the four inputs
    items, schemas = [], []
    for index in range(rules):
        fails = index in failed
        name, field, keyword, bound = thresholds(index, rules, fails)
        items.append(
            {
                "id": f"rule-{index}",
                "title": f"{name} {keyword} {bound}",
                "failed_title": f"{name} is {{{name}}}, beyond {bound}",
                "failed_label": f"{name} beyond {bound}",
                "severity": "major" if fails else ("minor", "major", "blocker")[index % 3],
                "condition": {"required": [name], "properties": {name: {keyword: bound}}},
                "why": "A generated rule for the benchmark.",
                "fix": f"Bring {name} within {bound}.",
            }
        )
        schemas.append({"properties": {"fields": {"properties": {field: {keyword: bound}}}}})
    checklists = folder / "checklists"
    checklists.mkdir()
    checklist = {
        "id": "bulk",
        "title": "Generated",
        "version": "1.0",
        "description": "Generated for the benchmark: thresholds on four inputs.",
        "rules": items,
    }
    (checklists / "bulk.json").write_text(json.dumps(checklist))
    config = folder / "gonogo.toml"
    config.write_text(f'[checklists]\npaths = ["checklists"]\ndisable = {json.dumps(list(BUNDLED))}\n')
    schema = folder / "rules.schema.json"
    schema.write_text(
        json.dumps(
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "allOf": schemas}
        )
    )
    return config, schema


def cpu_seconds(command: list[str], env: dict[str, str]) -> float:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rules", type=int, default=400)
    parser.add_argument("--failing", type=int, default=20)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    compileall.compile_dir(
        REPO / "gonogo", quiet=1
    )  # as an install does; check-jsonschema runs from bytecode
    checker = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    if not Path(checker).exists():
        sys.exit("check-jsonschema is not installed: pip install check-jsonschema")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        config, schema = write_inputs(folder, args.rules, args.failing)
        env: dict[str, Any] = dict(os.environ)
        commands = {
            "gonogo check FILE --dry-run": [
                sys.executable,
                "-m",
                "gonogo",
                "--config",
                str(config),
                "check",
                str(EXAMPLE),
                "--dry-run",
                "--today",
                "2026-11-23",
            ],
            "check-jsonschema": [checker, "--schemafile", str(schema), str(EXAMPLE)],
        }
        gonogo = subprocess.run(
            commands["gonogo check FILE --dry-run"], capture_output=True, text=True, env=env, check=False
        )
        if "Verdict:" not in gonogo.stdout:  # the exit code is the verdict's
            sys.exit(f"gonogo check failed: {gonogo.stderr.strip()[-400:]}")
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for label, command in commands.items():
                samples[label].append(cpu_seconds(command, env))
    median = {label: statistics.median(values) for label, values in samples.items()}
    ratio = median["gonogo check FILE --dry-run"] / median["check-jsonschema"]
    print(f"{args.rules} rules, {args.failing} failing, median CPU of {args.runs} interleaved runs")
    for label, seconds in median.items():
        print(f"  {label:<30} {seconds * 1000:6.0f} ms")
    print(f"  ratio gonogo / check-jsonschema {ratio:.2f}x (goal <= 1.3x)")


if __name__ == "__main__":
    main()
