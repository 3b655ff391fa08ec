"""Commands that need neither Jira nor the web server must not pay for importing them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("jira", "requests", "uvicorn", "starlette", "persistqueue", "redis", "tenacity")
PROBE = """
import json, sys
from gonogo.cli import main
try:
    main({args!r}, prog_name="gonogo")
except SystemExit:
    pass
print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["checklists", "list"], ["checklists", "lint"]])
def test_command_does_not_import_the_jira_client_or_the_web_server(args: list[str]) -> None:
    probe = PROBE.format(args=args, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    imported = json.loads(result.stderr.strip().splitlines()[-1])
    assert imported == []
