"""Constants and small helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
TODAY = "2026-11-23"  # the examples' deadlines are written relative to this date


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str


class Gonogo(Protocol):
    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Run: ...
