"""The wheel carries its checklists, templates, schemas and examples, and runs from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support import REPO, TODAY


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("gonogo-*.whl")
    return built


def test_wheel_contains_the_bundled_files_and_the_console_script(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for bundled in (
        "gonogo/checklists/doomed.json",
        "gonogo/checklists/completeness.json",
        "gonogo/templates/comment.jira.j2",
        "gonogo/templates/report.txt.j2",
        "gonogo/schemas/checklist.schema.json",
        "gonogo/schemas/report.schema.json",
        "gonogo/examples/doomed.json",
    ):
        assert bundled in names
    (entry_points,) = [n for n in names if n.endswith("entry_points.txt")]
    assert "gonogo = gonogo.cli:run" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_package_checks_a_ticket_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    example = target / "gonogo" / "examples" / "doomed.json"
    result = subprocess.run(
        [sys.executable, "-m", "gonogo", "check", str(example), "--today", TODAY],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(target), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 12, result.stderr
    assert "Verdict: NO-GO" in result.stdout
    probe = subprocess.run(
        [sys.executable, "-c", "import gonogo.sources.resources as r; print(r.bundled_dir('templates'))"],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(probe.stdout.strip()) == target / "gonogo" / "templates"
