"""Commands load what they use: the Jira client and the web server only when a command needs them,
and `--help` neither the templates nor jsonschema (bench/startup.py measures what that buys)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent.parent / "examples" / "healthy.json"
JIRA_AND_WEB = {"jira", "requests", "uvicorn", "starlette", "persistqueue", "redis", "tenacity"}
LOADED = """
import json, sys
from gonogo.cli import run
try:
    sys.argv = ["gonogo", *{args!r}]
    run()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded(args: list[str], tmp_path: Path) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", LOADED.format(args=args)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GONOGO_CONFIG": ""},
        cwd=tmp_path,
    )
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["checklists", "list"],
        ["checklists", "lint"],
        ["check", str(EXAMPLE), "--dry-run", "--today", "2026-11-23"],
    ],
)
def test_a_command_without_jira_loads_neither_the_jira_client_nor_the_web_server(
    args: list[str], tmp_path: Path
) -> None:
    assert loaded(args, tmp_path) & JIRA_AND_WEB == set()


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["check", "--help"], ["report", "--help"]])
def test_help_loads_neither_the_templates_nor_jsonschema(args: list[str], tmp_path: Path) -> None:
    modules = loaded(args, tmp_path)
    assert "click" in modules
    assert {"jinja2", "jsonschema", "gonogo.flows.assessor"} & modules == set()


def test_a_check_with_json_checklists_loads_no_yaml_parser(tmp_path: Path) -> None:
    assert "yaml" not in loaded(["check", str(EXAMPLE), "--today", "2026-11-23"], tmp_path)
