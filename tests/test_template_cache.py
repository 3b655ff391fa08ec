"""Compiled templates are kept between runs, never served to the wrong target, and never fail a run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import EXAMPLES, TODAY

from gonogo.render.template_cache import DISABLE_ENV

REPO = Path(__file__).parent.parent


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gonogo", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "GONOGO_CONFIG": "", **env},
        cwd=REPO,
        check=False,
    )


def test_a_cached_template_renders_exactly_what_a_fresh_compile_renders(tmp_path: Path) -> None:
    ticket = str(EXAMPLES / "doomed.json")
    temp = {"TMPDIR": str(tmp_path)}
    outputs = {}
    for fmt in ("jira", "text"):
        fresh = run("check", ticket, "--today", TODAY, "--format", fmt, env={**temp, DISABLE_ENV: "1"})
        if fmt == "jira":
            assert not list(tmp_path.rglob("gonogo-*.cache"))  # switched off: nothing stored
        first = run("check", ticket, "--today", TODAY, "--format", fmt, env=temp)  # compiles, stores
        second = run("check", ticket, "--today", TODAY, "--format", fmt, env=temp)  # from the cache
        assert fresh.returncode == first.returncode == second.returncode == 12
        assert fresh.stdout == first.stdout == second.stdout
        outputs[fmt] = fresh.stdout
    stored = {p.name.split("-")[2] for p in tmp_path.rglob("gonogo-*.cache")}
    assert stored == {"document", "text"}  # an entry per target: a template is never served to another
    assert outputs["jira"] != outputs["text"]


def test_without_a_usable_temporary_folder_templates_are_compiled_every_time(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    result = run("check", str(EXAMPLES / "doomed.json"), "--today", TODAY, env={"TMPDIR": str(not_a_folder)})
    assert result.returncode == 12, result.stderr
    assert "Verdict: NO-GO" in result.stdout
    assert result.stderr == ""
