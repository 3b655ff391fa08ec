"""Issue 14b: `gonogo --help` and `--version` are answered without importing click, with exactly
the text click renders; everything else (other widths, completion, commands) still goes to click."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gonogo.cli import main
from gonogo.cli.fast import HELP_WIDTH, render_help_with_click, version_text
from gonogo.cli.help_text import HELP

REGENERATE = "python -c 'from gonogo.cli.fast import write_help_text; write_help_text()'"
PROBE = """
import json, sys
sys.argv = ["gonogo", *{args!r}]
from gonogo.cli import run
try:
    run()
except SystemExit as exit:
    code = exit.code
print(json.dumps({{"click": "click" in sys.modules, "code": code}}), file=sys.stderr)
"""


def test_the_stored_help_is_the_help_click_renders_for_the_current_commands() -> None:
    assert render_help_with_click() == HELP, f"a command or option changed: regenerate with {REGENERATE}"
    for flag in ("--help", "-h"):
        result = CliRunner().invoke(main, [flag], prog_name="gonogo", terminal_width=HELP_WIDTH)
        assert (result.exit_code, result.output) == (0, HELP)


def test_the_version_line_is_the_one_click_prints() -> None:
    result = CliRunner().invoke(main, ["--version"], prog_name="gonogo")
    assert (result.exit_code, result.output) == (0, version_text())


def probe(args: list[str], env: dict[str, str]) -> tuple[str, dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return result.stdout, json.loads(result.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(("args", "expected"), [(["--help"], HELP), (["-h"], HELP), (["--version"], None)])
def test_help_and_version_never_import_click(args: list[str], expected: str | None) -> None:
    output, seen = probe(args, {"COLUMNS": "100"})
    assert output == (expected or version_text())
    assert seen == {"click": False, "code": 0}


def test_a_narrower_terminal_gets_clicks_own_rendering_at_its_width() -> None:
    output, seen = probe(["--help"], {"COLUMNS": "60"})
    assert output == render_help_with_click(58) != HELP
    assert seen == {"click": True, "code": 0}


def output(command: list[str], *args: str, env: dict[str, str]) -> str:
    run = subprocess.run(
        [*command, *args], capture_output=True, text=True, check=True, env={**os.environ, **env}
    )
    return run.stdout


@pytest.mark.parametrize(
    "command", [[sys.executable, "-m", "gonogo"], [str(Path(sys.executable).parent / "gonogo")]]
)
def test_both_entry_points_answer_and_shell_completion_still_works(command: list[str]) -> None:
    wide = {"COLUMNS": "80"}
    assert output(command, "--help", env=wide) == HELP
    assert output(command, "--version", env=wide) == version_text()
    # Completing, even a command line that looks like --version, is click's.
    completing = {
        **wide,
        "_GONOGO_COMPLETE": "bash_complete",
        "COMP_WORDS": "gonogo --ver",
        "COMP_CWORD": "1",
    }
    assert "plain,--version" in output(command, "--version", env=completing).splitlines()
    completing["COMP_WORDS"] = "gonogo che"
    assert {"plain,check", "plain,checklists"} <= set(output(command, env=completing).splitlines())
