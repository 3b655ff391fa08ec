"""Checklists' rules: the model, thresholds resolved, conditions checked and compiled once. `gonogo
checklists lint` and a check share these checks, so a file that lints loads (files: `gonogo.sources`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import jsonschema
from jsonschema import Draft202012Validator

from gonogo.core.errors import ConfigurationError
from gonogo.core.vocabulary import Vocabulary, thresholds_declared

if TYPE_CHECKING:
    from pathlib import Path  # a checklist's file, as a name: the core never opens it

_COMBINATORS = ("allOf", "anyOf", "oneOf")
TEXT_PREFIX = "text_"  # the properties text signals set (checklist.schema.json holds them to it)
_SUBSCHEMA_KEYWORDS = ("not", "if", "then", "else")
# {name} quotes a value; {name|day|days} is the word for that count: "1 day", "3 days";
# {name|zero|one|other} has a word for 0 too: "breaks even" at a margin of 0.
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)((?:\|[^{}|]*){2,3})?\}")


class Severity(StrEnum):
    BLOCKER = "blocker"
    MAJOR = "major"
    MINOR = "minor"


_DEFAULT_WEIGHTS = {Severity.BLOCKER: 5, Severity.MAJOR: 3, Severity.MINOR: 1}


@dataclass(frozen=True)
class Rule:
    """One compiled rule: the condition, compiled once, plus the words a bid team acts on."""

    id: str
    title: str
    failed_title: str  # thresholds filled in; {property} placeholders are filled per finding
    failed_label: str  # the failure without the ticket's values: one heading across many tickets
    severity: Severity
    weight: int
    why: str
    fix: str
    uses: tuple[str, ...]
    ask_when_missing: bool
    condition: dict[str, Any]
    holds: Callable[[Any], bool] = field(repr=False)  # follows from `condition`; its repr names an address
    bounds: tuple[Bound, ...] = ()  # thresholds the condition compares a property with directly
    missing_is_condition: bool = False  # when_missing "condition": an empty field is a condition to meet
    asks: bool = False  # when_failed "ask": a failure is a question (NEEDS INFO), not a judgement

    @cached_property  # asked per finding, many times a ticket
    def asks_only_if_known(self) -> bool:
        """An "is it known?" check: it decides NEEDS INFO but says nothing about the bid (not scored)."""
        return set(self.condition) <= {"required"}

    @cached_property
    def quotes(self) -> tuple[str, ...]:
        """The properties whose values its failed title quotes (thresholds are already filled in)."""
        return tuple(match.group(1) for match in _PLACEHOLDER.finditer(self.failed_title))


@dataclass(frozen=True)
class Bound:
    """A top-level `{P: {minimum: {$threshold: T}}}`: P held to T; outcome reports compare T with results."""

    threshold: str
    property: str
    keyword: str


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
        types = {t.casefold() for t in self.issue_types}
        of_type = not types or (issue_type is not None and issue_type.casefold() in types)
        return of_type and (not self.projects or project in self.projects)


@dataclass(frozen=True)
class ChecklistFile:
    """A checklist as written, before thresholds are known; what the linter and loader share."""

    path: Path
    data: Mapping[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def thresholds(self) -> dict[str, float]:
        return thresholds_declared(self.data.get("thresholds", {}))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a checklist file, located as precisely as possible."""

    path: Path
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.message}"


class ChecklistFileError(ConfigurationError):
    """A checklist file cannot be used: its first problem, and how many more `checklists lint` lists."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        more = f" (and {len(problems) - 1} more: run gonogo checklists lint)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")


def thresholds_in_force(
    files: Iterable[ChecklistFile], vocabulary: Vocabulary, overrides: Mapping[str, float]
) -> dict[str, float]:
    """The vocabulary's and the files' defaults, overridden by [thresholds] (an unknown name: a typo)."""
    declared = {**vocabulary.thresholds, **{k: v for file in files for k, v in file.thresholds.items()}}
    if unknown := sorted(set(overrides) - set(declared)):
        raise ConfigurationError(
            f"[thresholds] in gonogo.toml names unknown threshold(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(declared))}"
        )
    return {name: overrides.get(name, default) for name, default in declared.items()}


def compile_checklist(
    checklist_file: ChecklistFile,
    thresholds: Mapping[str, float],
    known_properties: Collection[str],
    *,
    validator: str = "jsonschema",
) -> Checklist:
    """Compile every rule, or raise with every problem found."""
    rules, problems = _compile_rules(checklist_file, thresholds, known_properties, validator)
    if problems:
        raise ChecklistFileError(problems)
    data = checklist_file.data
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


def lint_rules(
    checklist_file: ChecklistFile, *, thresholds: Mapping[str, float], known_properties: Collection[str]
) -> list[Problem]:
    """Every problem in the rules of a parsed checklist; thresholds it declares itself count as known."""
    return _compile_rules(checklist_file, {**thresholds, **checklist_file.thresholds}, known_properties)[1]


def properties_used(condition: Any) -> tuple[str, ...]:
    """The top-level proposal properties a condition looks at, in first-mention order."""
    found: dict[str, None] = {}

    def visit(schema: Any) -> None:
        if not isinstance(schema, dict):
            return
        for keyword in ("required", "properties", "dependentRequired", "dependentSchemas"):
            found.update(dict.fromkeys(schema.get(keyword, ())))
        subs = [*(s for k in _COMBINATORS for s in schema.get(k, ())), *map(schema.get, _SUBSCHEMA_KEYWORDS)]
        for sub in subs:
            visit(sub)

    visit(condition)
    return tuple(found)


_BOUND_KEYWORDS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")


def threshold_bounds(condition: Any) -> tuple[Bound, ...]:
    """The properties a raw condition bounds by a threshold unconditionally (top-level `properties`)."""
    found: list[Bound] = []
    properties = condition.get("properties") if isinstance(condition, dict) else None
    for name, schema in (properties or {}).items():
        for keyword in _BOUND_KEYWORDS:
            value = schema.get(keyword) if isinstance(schema, dict) else None
            if isinstance(value, dict) and isinstance(value.get("$threshold"), str):
                found.append(Bound(value["$threshold"], name, keyword))
    return tuple(found)


def _compile_rules(
    checklist_file: ChecklistFile,
    thresholds: Mapping[str, float],
    known_properties: Collection[str],
    validator: str = "jsonschema",
) -> tuple[list[Rule], list[Problem]]:
    rules: list[Rule] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for raw in checklist_file.data["rules"]:
        messages = ["duplicate rule id; give each rule its own id"] if raw["id"] in seen else []
        seen.add(raw["id"])
        rule = _compile_rule(raw, thresholds, known_properties, messages, validator)
        problems += [Problem(checklist_file.path, f"rule {raw['id']}", m) for m in messages]
        if rule is not None and not messages:
            rules.append(rule)
    return rules, problems


def _compile_rule(
    raw: Mapping[str, Any],
    thresholds: Mapping[str, float],
    known_properties: Collection[str],
    problems: list[str],
    validator: str,
) -> Rule | None:
    """Compile one rule, appending what is wrong with it to `problems`."""
    condition = _substitute_thresholds(raw["condition"], thresholds, problems)
    try:
        check_condition(condition)
    except jsonschema.SchemaError as exc:
        problems.append(f"condition is not a valid JSON Schema: {exc.message}")
        return None
    uses = properties_used(condition)
    if not uses:
        problems.append("condition names no property; use 'required' or 'properties'")
    if unknown := [name for name in uses if name not in known_properties]:
        problems.append(
            f"unknown property {', '.join(unknown)}: use one from the vocabulary (docs/configuration.md) "
            "or map it to a Jira field in [fields] of gonogo.toml"
        )
    failed_title = _fill_placeholders(raw["failed_title"], thresholds, problems, properties=known_properties)
    if "failed_label" in raw:
        failed_label = _fill_placeholders(raw["failed_label"], thresholds, problems)
    else:  # the failed title with "…" for each ticket value: still the failure, in its own words
        failed_label = _PLACEHOLDER.sub(lambda m: m[2].split("|")[-1] if m[2] else "…", failed_title)
    severity = Severity(raw["severity"])
    rule = Rule(
        id=raw["id"],
        title=raw["title"],
        failed_title=failed_title,
        failed_label=failed_label,
        severity=severity,
        weight=int(raw.get("weight", _DEFAULT_WEIGHTS[severity])),
        why=_fill_placeholders(raw["why"], thresholds, problems),
        fix=_fill_placeholders(raw["fix"], thresholds, problems),
        uses=uses,
        ask_when_missing=raw.get("when_missing", "needs-info") == "needs-info",
        condition=condition,
        holds=compile_condition(condition, validator),
        bounds=threshold_bounds(raw["condition"]),
        missing_is_condition=raw.get("when_missing") == "condition",
        asks=raw.get("when_failed") == "ask",
    )
    problems.extend(_contradictions(raw, severity))
    return rule


_SUBSCHEMA = {"$ref": "#"}
_NUMBER = {"type": "number"}
_SUBSCHEMA_LIST = {"type": "array", "minItems": 1, "items": _SUBSCHEMA}
_TYPES = {"enum": ["array", "boolean", "integer", "null", "number", "object", "string"]}
# The draft 2020-12 meta-schema's own rules for the keywords checklists' conditions use, with
# subschemas held to this schema again; any other keyword is left to the full meta-schema.
COMMON_CONDITIONS = Draft202012Validator(
    {
        "type": ["object", "boolean"],
        "additionalProperties": False,
        "properties": {
            "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "properties": {"type": "object", "additionalProperties": _SUBSCHEMA},
            "const": True,
            "enum": {"type": "array"},
            "type": {
                "anyOf": [_TYPES, {"type": "array", "items": _TYPES, "minItems": 1, "uniqueItems": True}]
            },
            **dict.fromkeys(_BOUND_KEYWORDS, _NUMBER),
            **dict.fromkeys(_SUBSCHEMA_KEYWORDS, _SUBSCHEMA),
            **dict.fromkeys(_COMBINATORS, _SUBSCHEMA_LIST),
        },
    }
)


def check_condition(condition: Any) -> None:
    """Raise jsonschema.SchemaError, with the meta-schema's message, for an invalid condition. The draft
    2020-12 meta-schema costs about 0.35 ms a condition, the most of a 400-rule check; the common keywords'
    rules alone (COMMON_CONDITIONS) cost a tenth and never accept what it refuses."""
    if not COMMON_CONDITIONS.is_valid(condition):
        Draft202012Validator.check_schema(condition)


def _contradictions(raw: Mapping[str, Any], severity: Severity) -> list[str]:
    found = []
    if raw["why"].strip().casefold() == raw["fix"].strip().casefold():
        found.append("'why' and 'fix' say the same thing: 'why' is the consequence, 'fix' the way out")
    if severity is Severity.BLOCKER and raw.get("when_missing") == "skip":
        found.append(
            'a show-stopper cannot be skipped when a ticket leaves its data empty (when_missing "skip"): '
            "remove when_missing so the ticket is asked for it"
        )
    if severity is Severity.MINOR and raw.get("when_missing") == "condition":
        found.append(
            'a note cannot become a condition when its data is empty (when_missing "condition"): '
            'use "needs-info" or "skip"'
        )
    return found


def compile_condition(condition: dict[str, Any], validator: str = "jsonschema") -> Callable[[Any], bool]:
    """A predicate for the condition, from `jsonschema` or (extra `fast`) `jsonschema-rs`."""
    if validator == "jsonschema-rs":
        try:
            import jsonschema_rs  # noqa: PLC0415 - an optional extra, imported only when chosen
        except ImportError:
            raise ConfigurationError(
                '[checklists].validator = "jsonschema-rs" needs the extra: pip install "gonogo[fast]"'
            ) from None
        return remembered(jsonschema_rs.Draft202012Validator(dict(condition), validate_formats=True).is_valid)
    checker = Draft202012Validator(condition, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return remembered(checker.is_valid)


def remembered(predicate: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """The predicate with its answers remembered by the values asked about (the path to GO asks them
    again); keys carry each value's type, since JSON Schema tells `true`, `1` and `1.0` apart."""

    @lru_cache(maxsize=512)
    def answer(key: tuple[tuple[str, type, Any], ...]) -> bool:
        return bool(predicate({name: value for name, _, value in key}))

    def holds(instance: Any) -> bool:
        if type(instance) is dict and all(type(v) in _SCALARS for v in instance.values()):
            return answer(tuple((name, type(v), v) for name, v in instance.items()))
        return bool(predicate(instance))

    return holds


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _substitute_thresholds(schema: Any, thresholds: Mapping[str, float], problems: list[str]) -> Any:
    if isinstance(schema, dict):
        if set(schema) == {"$threshold"}:
            name = schema["$threshold"]
            if name not in thresholds:
                problems.append(f'unknown threshold {name!r}; declare it under "thresholds"')
                return 0
            return _plain_number(thresholds[name])
        return {key: _substitute_thresholds(value, thresholds, problems) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_substitute_thresholds(item, thresholds, problems) for item in schema]
    return schema


def _fill_placeholders(
    text: str, thresholds: Mapping[str, float], problems: list[str], *, properties: Collection[str] = ()
) -> str:
    """Threshold values into a rule's prose; ticket values are left for `fill_values`."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in thresholds:
            number = _plain_number(thresholds[name])
            return _counted_word(number, match) if match.group(2) is not None else f"{number:,}"
        if name not in properties:
            problems.append(f"text mentions unknown threshold {{{name}}}")
        return match.group(0)

    return _PLACEHOLDER.sub(value, text)


def fill_values(text: str, values: Mapping[str, Any], show: Callable[[str, Any], str]) -> str:
    """Quote the ticket's values into a failed title, each formatted by `show`; `{n|one|other}` counts."""

    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(1))
        return _counted_word(found, match) if match.group(2) is not None else show(match.group(1), found)

    return _PLACEHOLDER.sub(value, text)


def _counted_word(count: Any, match: re.Match[str]) -> str:
    words = match.group(2)[1:].split("|")
    if len(words) == 3 and count == 0:
        return words[0]
    return words[-2] if count == 1 else words[-1]


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
