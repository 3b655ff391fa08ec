"""Checklists: loading, checking and compiling the declarative go/no-go rules.

A checklist file is validated against the meta-schema, its thresholds are resolved against
gonogo.toml, and every rule condition is checked as a JSON Schema and compiled once. A bad file is
a ConfigurationError naming the file and the rule, never a traceback in the middle of a check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from gonogo.errors import ConfigurationError
from gonogo.resources import bundled_dir, schema_path
from gonogo.vocabulary import ThresholdSpec, Vocabulary, parse_thresholds

_COMBINATORS = ("allOf", "anyOf", "oneOf")
_SUBSCHEMA_KEYWORDS = ("not", "if", "then", "else")
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


class Severity(StrEnum):
    BLOCKER = "blocker"
    MAJOR = "major"
    MINOR = "minor"


@dataclass(frozen=True)
class Rule:
    """One compiled rule: the condition validator plus the words a bid team acts on."""

    id: str
    title: str
    severity: Severity
    why: str
    fix: str
    uses: tuple[str, ...]
    ask_when_missing: bool
    validator: Draft202012Validator


@dataclass(frozen=True)
class Checklist:
    id: str
    title: str
    version: str
    description: str
    projects: frozenset[str]
    issue_types: frozenset[str]
    rules: tuple[Rule, ...]
    source: Path

    def applies_to(self, *, project: str, issue_type: str | None) -> bool:
        if self.projects and project not in self.projects:
            return False
        return not self.issue_types or (
            issue_type is not None and issue_type.casefold() in {t.casefold() for t in self.issue_types}
        )


@dataclass(frozen=True)
class ChecklistFile:
    """A checklist as written, before thresholds are known; what the linter and loader share."""

    path: Path
    data: Mapping[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def thresholds(self) -> dict[str, ThresholdSpec]:
        return parse_thresholds(self.data.get("thresholds", {}))


def discover(extra_dirs: Sequence[Path] = ()) -> list[ChecklistFile]:
    """Read the bundled checklists, then user folders; a user checklist replaces a bundled one by id."""
    by_id: dict[str, ChecklistFile] = {}
    for folder in (bundled_dir("checklists"), *extra_dirs):
        if not folder.is_dir():
            raise ConfigurationError(
                f"checklist folder {folder} does not exist: fix [checklists].paths in gonogo.toml"
            )
        for path in sorted(folder.glob("*.json")):
            checklist_file = read_checklist_file(path)
            by_id[checklist_file.id] = checklist_file
    return list(by_id.values())


def read_checklist_file(path: Path) -> ChecklistFile:
    """Parse one file and check it against the checklist meta-schema."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read it ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"{path}: not valid JSON ({exc})") from None
    error = jsonschema.exceptions.best_match(_meta_validator().iter_errors(data))
    if error is not None:
        raise ConfigurationError(f"{path}: {_locate(data, error)}: {error.message}")
    return ChecklistFile(path=path, data=data)


def all_thresholds(files: Iterable[ChecklistFile], vocabulary: Vocabulary) -> dict[str, ThresholdSpec]:
    declared = dict(vocabulary.thresholds)
    for checklist_file in files:
        declared.update(checklist_file.thresholds)
    return declared


def resolve_thresholds(
    declared: Mapping[str, ThresholdSpec], overrides: Mapping[str, float]
) -> dict[str, float]:
    """Defaults from the files, overridden by [thresholds]; an unknown name is a typo to report."""
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ConfigurationError(
            f"[thresholds] in gonogo.toml names unknown threshold(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(declared))}"
        )
    return {name: overrides.get(name, spec.default) for name, spec in declared.items()}


def compile_checklist(checklist_file: ChecklistFile, thresholds: Mapping[str, float]) -> Checklist:
    data = checklist_file.data
    seen: set[str] = set()
    rules = []
    for raw_rule in data["rules"]:
        where = f"{checklist_file.path}: rule {raw_rule['id']}"
        if raw_rule["id"] in seen:
            raise ConfigurationError(f"{where}: duplicate rule id; give each rule its own id")
        seen.add(raw_rule["id"])
        rules.append(_compile_rule(raw_rule, thresholds, where))
    applies = data.get("applies_to", {})
    return Checklist(
        id=checklist_file.id,
        title=data["title"],
        version=data["version"],
        description=data["description"],
        projects=frozenset(applies.get("projects", ())),
        issue_types=frozenset(applies.get("issue_types", ())),
        rules=tuple(rules),
        source=checklist_file.path,
    )


def properties_used(condition: Any) -> tuple[str, ...]:
    """The top-level proposal properties a condition looks at, in first-mention order."""
    found: list[str] = []

    def visit(schema: Any) -> None:
        if not isinstance(schema, dict):
            return
        for name in [*schema.get("required", ()), *schema.get("properties", {})]:
            if name not in found:
                found.append(name)
        for keyword in ("dependentRequired", "dependentSchemas"):
            for name in schema.get(keyword, {}):
                if name not in found:
                    found.append(name)
        for keyword in _COMBINATORS:
            for sub in schema.get(keyword, ()):
                visit(sub)
        for keyword in _SUBSCHEMA_KEYWORDS:
            visit(schema.get(keyword))

    visit(condition)
    return tuple(found)


def _compile_rule(raw: Mapping[str, Any], thresholds: Mapping[str, float], where: str) -> Rule:
    condition = _substitute_thresholds(raw["condition"], thresholds, where)
    try:
        Draft202012Validator.check_schema(condition)
    except jsonschema.SchemaError as exc:
        raise ConfigurationError(f"{where}: condition is not a valid JSON Schema: {exc.message}") from None
    uses = properties_used(condition)
    if not uses:
        raise ConfigurationError(f"{where}: condition names no property; use 'required' or 'properties'")
    return Rule(
        id=raw["id"],
        title=raw["title"],
        severity=Severity(raw["severity"]),
        why=_fill_placeholders(raw["why"], thresholds, where),
        fix=_fill_placeholders(raw["fix"], thresholds, where),
        uses=uses,
        ask_when_missing=raw.get("when_missing", "needs-info") == "needs-info",
        validator=Draft202012Validator(condition, format_checker=Draft202012Validator.FORMAT_CHECKER),
    )


def _substitute_thresholds(schema: Any, thresholds: Mapping[str, float], where: str) -> Any:
    if isinstance(schema, dict):
        if set(schema) == {"$threshold"}:
            name = schema["$threshold"]
            if name not in thresholds:
                raise ConfigurationError(
                    f'{where}: unknown threshold {name!r}; declare it under "thresholds"'
                )
            return _plain_number(thresholds[name])
        return {key: _substitute_thresholds(value, thresholds, where) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_substitute_thresholds(item, thresholds, where) for item in schema]
    return schema


def _fill_placeholders(text: str, thresholds: Mapping[str, float], where: str) -> str:
    """Put threshold values into a rule's prose, so the reasoning quotes the numbers in force."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in thresholds:
            raise ConfigurationError(f"{where}: text mentions unknown threshold {{{name}}}")
        return f"{_plain_number(thresholds[name]):,}"

    return _PLACEHOLDER.sub(value, text)


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _locate(data: Any, error: jsonschema.ValidationError) -> str:
    path = list(error.absolute_path)
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rules = data.get("rules", []) if isinstance(data, dict) else []
        rule = rules[path[1]] if path[1] < len(rules) else {}
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        rest = ".".join(map(str, path[2:]))
        name = f"rule {rule_id}" if rule_id else f"rule #{path[1] + 1}"
        return f"{name}{' ' + rest if rest else ''}"
    return ".".join(map(str, path)) or "top level"


@cache
def _meta_validator() -> Draft202012Validator:
    schema = json.loads(schema_path("checklist.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)
