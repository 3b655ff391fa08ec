"""Checklist files (bundled, then [checklists].paths), parsed from JSON or YAML and checked against
the meta-schema into `ChecklistFile`s for the pure rule compiler in `gonogo.core.pipeline.rules`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from gonogo.core.errors import ConfigurationError
from gonogo.core.pipeline.rules import ChecklistFile, ChecklistFileError, Problem
from gonogo.sources.resources import bundled_dir, bundled_json

CHECKLIST_SUFFIXES = (".json", ".yaml", ".yml")


def checklist_paths(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in CHECKLIST_SUFFIXES and p.is_file())


def discover(extra_dirs: Sequence[Path] = ()) -> list[ChecklistFile]:
    """Read the bundled checklists, then user folders; a user checklist replaces a bundled one by id."""
    by_id: dict[str, ChecklistFile] = {}
    for folder in (bundled_dir("checklists"), *extra_dirs):
        if not folder.is_dir():
            raise ConfigurationError(
                f"checklist folder {folder} does not exist: fix [checklists].paths in gonogo.toml"
            )
        for path in checklist_paths(folder):
            data, problems = parse_checklist_file(path)
            if problems:
                raise ChecklistFileError(problems)
            checklist_file = ChecklistFile(path=path, data=data)
            by_id[checklist_file.id] = checklist_file
    return list(by_id.values())


def parse_checklist_file(path: Path) -> tuple[Any, list[Problem]]:
    """The file's content and every meta-schema problem in it (a file that does not parse has one)."""
    data, problem = _parse(path)
    if problem is not None:
        return None, [Problem(path, "file", problem)]
    errors = sorted(_meta_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return data, [Problem(path, _locate(data, e), e.message) for e in errors]


def _parse(path: Path) -> tuple[Any, str | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, f"cannot read it ({exc.strerror})"
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    if path.suffix.lower() not in (".yaml", ".yml"):
        try:
            return json.loads(text), None
        except json.JSONDecodeError as exc:
            return None, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    # Imported here: PyYAML is ~12 ms of a ~200 ms `gonogo check FILE`, and the bundled checklists
    # are JSON (bench/startup.py).
    import yaml  # noqa: PLC0415

    try:
        return yaml.safe_load(text), None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return None, f"not valid YAML ({at}{exc.problem})"
    except yaml.YAMLError as exc:
        return None, f"not valid YAML ({exc.__class__.__name__})"


def _locate(data: Any, error: jsonschema.ValidationError) -> str:
    path = list(error.absolute_path)
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rule = data["rules"][path[1]]  # the error's path is in the data
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        name = f"rule {rule_id}" if rule_id else f"rule #{path[1] + 1}"
        rest = ".".join(map(str, path[2:]))
        return f"{name} {rest}" if rest else name
    return ".".join(map(str, path)) or "top level"


@cache
def _meta_validator() -> Draft202012Validator:
    return Draft202012Validator(bundled_json("checklist.schema.json"))
