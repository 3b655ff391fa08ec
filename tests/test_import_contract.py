"""The layers' import contract (pyproject.toml, [tool.importlinter]) holds, and it would catch a breach.

`lint-imports` runs over a copy of the package, as it is and with one core module made impure: the
copy must pass as it is and fail, naming the import, once a core module imports click or jira.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from realdeps import require_real_or_skip

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over the package in `tree`, found there before any installed gonogo."""
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", code, "--no-cache"],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    if importlib.util.find_spec("importlinter") is None:
        require_real_or_skip("import-linter is not installed: pip install -e '.[dev]'")
    shutil.copytree(ROOT / "gonogo", tmp_path / "gonogo", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_package_keeps_every_contract(tree: Path) -> None:
    run = lint_imports(tree)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize("module", ["click", "jira"])
def test_a_core_module_importing_module_breaks_the_contract(tree: Path, module: str) -> None:
    with (tree / "gonogo" / "core" / "pipeline" / "verdict.py").open("a", encoding="utf-8") as source:
        source.write(f"\nimport {module}  # the breach under test\n")
    run = lint_imports(tree)
    assert run.returncode != 0
    assert f"gonogo.core is not allowed to import {module}" in run.stdout
    assert f"gonogo.core.pipeline.verdict -> {module}" in run.stdout


def test_render_importing_the_jira_gateway_breaks_the_contract(tree: Path) -> None:
    with (tree / "gonogo" / "render" / "ansi.py").open("a", encoding="utf-8") as source:
        source.write("\nimport gonogo.jira.gateway  # the breach under test\n")
    run = lint_imports(tree)
    assert run.returncode != 0
    assert "gonogo.render is not allowed to import gonogo.jira" in run.stdout
