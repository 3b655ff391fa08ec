"""Constants and small helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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


def example_with(folder: Path, example: str, **fields: Any) -> Path:
    """A ticket file: the bundled example with these fields replaced, written into `folder`."""
    data = json.loads((EXAMPLES / f"{example}.json").read_text())
    data["fields"].update(fields)
    ticket = folder / "ticket.json"
    ticket.write_text(json.dumps(data))
    return ticket
