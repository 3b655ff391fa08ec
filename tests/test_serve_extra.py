"""A CLI-only install (no `serve` extra) gets the install command from `gonogo serve`, not an import error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Runs gonogo with one of the serve extra's packages made unimportable, as on a CLI-only install.
HIDE_AND_RUN = """
import sys
from importlib.abc import MetaPathFinder

class Hidden(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Hidden())
HIDDEN, sys.argv = sys.argv[1], ["gonogo", *sys.argv[2:]]
from gonogo.cli import run
run()
"""


def gonogo_without(package: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HIDE_AND_RUN, package, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "GONOGO_CONFIG": ""},
    )


@pytest.mark.parametrize("package", ["uvicorn", "starlette", "prometheus_client", "persistqueue", "redis"])
def test_serve_without_the_extra_names_the_install_command(package: str, tmp_path: Path) -> None:
    run = gonogo_without(package, "serve", cwd=tmp_path)
    assert run.returncode == 3
    assert run.stdout == ""
    assert run.stderr == (
        f"gonogo: error: gonogo serve needs the webhook service's packages ({package} is not "
        "installed): install them with pip install 'gonogo[serve]'\n"
    )


def test_dead_letters_and_doctor_service_say_the_same(tmp_path: Path) -> None:
    dead = gonogo_without("persistqueue", "dead-letters", cwd=tmp_path)
    assert (dead.returncode, dead.stderr.count("\n")) == (3, 1)
    assert "pip install 'gonogo[serve]'" in dead.stderr
    doctor = gonogo_without("redis", "doctor", "--service", cwd=tmp_path)
    assert doctor.returncode == 3
    assert "gonogo doctor --service needs the webhook service's packages (redis" in doctor.stderr
    assert "Traceback" not in doctor.stderr


def test_the_cli_alone_still_checks_a_ticket_file_without_the_extra(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "healthy.json"
    run = gonogo_without("uvicorn", "check", str(example), "--today", "2026-11-23", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Verdict: GO" in run.stdout
