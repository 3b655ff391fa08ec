"""The package stays readable: small functions with few paths through them (issue 27).

Radon's cyclomatic complexity counts each branch and boolean operator; above 15 a function has more
paths than a reader keeps in mind, and above 60 lines it no longer fits on a screen.
"""

from __future__ import annotations

import ast
from pathlib import Path

from radon.complexity import cc_visit

PACKAGE = Path(__file__).resolve().parent.parent / "gonogo"
MOST_COMPLEX = 15
LONGEST = 60


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_function_has_more_than_fifteen_paths() -> None:
    too_complex = [
        f"{path.relative_to(PACKAGE.parent)}:{block.lineno} {block.fullname} ({block.complexity})"
        for path in _sources()
        for block in cc_visit(path.read_text(encoding="utf-8"))
        if block.complexity > MOST_COMPLEX
    ]
    assert too_complex == []


def test_no_function_is_longer_than_sixty_lines() -> None:
    too_long = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for path in _sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > LONGEST
    ]
    assert too_long == []
