"""`gonogo checklists list | show | lint`: what a checklist author needs, as data for templates.

Lint loads files as a check does, against the thresholds and properties a check would know, so
"lint passes" means "a check can use it"."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from gonogo.core.errors import ConfigurationError, InputError
from gonogo.core.pipeline.rules import Checklist, ChecklistFile, Problem, Rule, compile_checklist, lint_rules
from gonogo.core.pipeline.signals import lint_signals, signal_labels
from gonogo.core.vocabulary import Vocabulary
from gonogo.flows.assessor import rule_context
from gonogo.sources.checklists import checklist_paths, discover, parse_checklist_file
from gonogo.sources.config import Settings
from gonogo.sources.resources import bundled_dir, bundled_vocabulary


def list_checklists(settings: Settings) -> list[tuple[Checklist, bool]]:
    """Every checklist a check would load, and whether it is enabled."""
    files, thresholds, known = _context(settings)
    return [
        (compile_checklist(f, thresholds, known), f.id not in settings.disabled_checklists) for f in files
    ]


def explain_checklist(settings: Settings, checklist_id: str) -> tuple[Checklist, list[tuple[Rule, str]]]:
    """Checklist ID, and each of its rules with its condition in words."""
    files, thresholds, known = _context(settings)
    by_id = {f.id: f for f in files}
    if checklist_id not in by_id:
        raise InputError(f"no checklist {checklist_id!r}; known: {', '.join(sorted(by_id))}")
    checklist = compile_checklist(by_id[checklist_id], thresholds, known)
    vocabulary = bundled_vocabulary().with_flags(signal_labels(files))
    return checklist, [(rule, describe_condition(rule.condition, vocabulary)) for rule in checklist.rules]


def lint(settings: Settings, paths: Sequence[Path]) -> tuple[int, list[Problem]]:
    """Lint the given files/folders, or every checklist a check would load; (files read, problems)."""
    files: list[Path] = []
    for path in paths or [bundled_dir("checklists"), *settings.checklist_paths]:
        if path.is_dir():
            files.extend(checklist_paths(path))
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    parse_problems: dict[Path, list[Problem]] = {}
    parsed: list[ChecklistFile] = []
    for path in files:
        data, parse_problems[path] = parse_checklist_file(path)
        if not parse_problems[path]:
            parsed.append(ChecklistFile(path, data))
    problems: list[Problem] = []
    try:
        thresholds, known = rule_context(settings, parsed)
    except ConfigurationError as exc:  # an unknown [thresholds] name: report it, lint the files anyway
        problems.append(Problem(settings.config_file or Path("gonogo.toml"), "[thresholds]", str(exc)))
        thresholds, known = rule_context(replace(settings, thresholds={}), parsed)
    rule_problems = {
        f.path: lint_rules(f, thresholds=thresholds, known_properties=known) + lint_signals(f, known)
        for f in parsed
    }
    problems += [p for path in files for p in parse_problems[path] or rule_problems[path]]
    return len(files), problems + _reused_ids(parsed)


def _reused_ids(parsed: Sequence[ChecklistFile]) -> list[Problem]:
    """Two files of one folder with one id: a check would load only one of them."""
    first_with_id: dict[str, Path] = {}
    problems = []
    for checklist in parsed:
        earlier = first_with_id.setdefault(checklist.id, checklist.path)
        if earlier != checklist.path and earlier.parent == checklist.path.parent:
            reused = f"checklist id {checklist.id!r} is also used by {earlier}"
            problems.append(Problem(checklist.path, "id", reused))
    return problems


def describe_condition(schema: Any, vocabulary: Vocabulary) -> str:
    """A JSON Schema condition in words, for the common keywords; anything else is shown as JSON."""
    if not isinstance(schema, dict):
        return json.dumps(schema)
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = [name for name in schema.get("required", ()) if name not in properties]
    phrases = [f"{_label(name, vocabulary)} is given" for name in required]
    phrases += [f"{_label(name, vocabulary)} {_describe_value(c)}" for name, c in properties.items()]
    if "if" in schema and "then" in schema:
        condition, consequence = (describe_condition(schema[k], vocabulary) for k in ("if", "then"))
        phrases.append(f"if {condition}, then {consequence}")
    handled = {"required", "properties", "if", "then"}
    rest = {k: v for k, v in schema.items() if k not in handled}
    if rest:
        phrases.append(f"matches {json.dumps(rest)}")
    return " and ".join(phrases) or "always holds"


_COMPARISONS = {
    "exclusiveMinimum": "is more than",
    "minimum": "is at least",
    "maximum": "is at most",
    "exclusiveMaximum": "is less than",
    "const": "is",
    "minLength": "has at least this many characters:",
    "maxLength": "has at most this many characters:",
    "pattern": "matches the pattern",
}


def _describe_value(constraint: Any) -> str:
    if not isinstance(constraint, dict):
        return f"matches {json.dumps(constraint)}"
    parts = []
    for keyword, value in constraint.items():
        if keyword in _COMPARISONS:
            parts.append(f"{_COMPARISONS[keyword]} {_show(value)}")
        elif keyword == "enum":
            parts.append("is one of " + ", ".join(map(_show, value)))
        elif keyword == "not" and isinstance(value, dict) and set(value) == {"const"}:
            parts.append(f"is not {_show(value['const'])}")
        else:
            parts.append(f"matches {json.dumps({keyword: value})}")
    return " and ".join(parts) if parts else "is anything"


def _show(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:,}"
    return json.dumps(value) if not isinstance(value, str) else value


def _label(name: str, vocabulary: Vocabulary) -> str:
    spec = vocabulary.properties.get(name)
    return spec.label if spec else name


def _context(settings: Settings) -> tuple[list[ChecklistFile], dict[str, float], set[str]]:
    files = discover(settings.checklist_paths)
    return files, *rule_context(settings, files)
