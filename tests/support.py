"""Constants and small helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gonogo.core.jira_shapes.comment_format import CommentFormat

if TYPE_CHECKING:
    from gonogo.core.pipeline.findings import Assessment
    from gonogo.render.renderer import Renderer

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
BUNDLED_CHECKLISTS = tuple(sorted(p.stem for p in (REPO / "checklists").glob("*.json")))  # their ids
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


def comment_words(markup: str) -> int:
    """Words a reader sees in a wiki-markup comment: escapes, joiners and markup keywords removed.

    Line-start keywords (h3., *, ----), the emoticons gonogo uses as icons and backslash escapes
    are markup; a word is any remaining whitespace-separated token with a letter or digit in it.
    """
    text = re.sub(r"\\(.)", r"\1", markup.replace("\u2060", ""))
    lines = [re.sub(r"^(h[1-6]\.|\*+|#+|----)\s*", "", line.strip()) for line in text.splitlines()]
    tokens = re.sub(r"\((x|\?|!|/|i)\)", " ", " ".join(lines)).split()
    return sum(1 for token in tokens if re.search(r"\w", token))


def wiki_comment(renderer: Renderer, assessment: Assessment) -> str:
    """The verdict comment in wiki markup, as posted to Data Center."""
    return str(renderer.comment_body(assessment, CommentFormat.WIKI).content)


def adf_comment(renderer: Renderer, assessment: Assessment) -> dict[str, Any]:
    """The verdict comment as an ADF document, as posted to Cloud."""
    body = renderer.comment_body(assessment, CommentFormat.ADF).content
    assert isinstance(body, dict)
    return body
