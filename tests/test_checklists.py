"""Checklist files are checked on load: a broken one is a clear error naming file and rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonogo.checklists import (
    compile_checklist,
    discover,
    properties_used,
    read_checklist_file,
    resolve_thresholds,
)
from gonogo.errors import ConfigurationError
from gonogo.vocabulary import ThresholdSpec

BROKEN = Path(__file__).parent / "checklists" / "broken"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing-reason", r"missing-reason\.json: rule has-budget: 'why' is a required property"),
        ("bad-severity", r"bad-severity\.json: rule has-budget severity: 'critical' is not one of"),
        (
            "invalid-schema",
            r"invalid-schema\.json: rule has-budget: condition is not a valid JSON Schema",
        ),
        ("duplicate-rule", r"duplicate-rule\.json: rule has-budget: duplicate rule id"),
        (
            "unknown-threshold",
            r"unknown-threshold\.json: rule has-budget: unknown threshold 'min_budjet'",
        ),
        ("no-property", r"no-property\.json: rule has-budget: condition names no property"),
        ("not-json", r"not-json\.json: not valid JSON"),
    ],
)
def test_each_broken_checklist_is_reported_precisely(name: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        compile_checklist(read_checklist_file(BROKEN / f"{name}.json"), {})


def test_bundled_checklists_all_compile() -> None:
    files = discover()
    assert {f.id for f in files} >= {"doomed", "completeness", "risks"}
    thresholds = {name: spec.default for f in files for name, spec in f.thresholds.items()}
    thresholds.update(min_bid_days=5, bid_days_per_100_effort_days=2)
    for checklist_file in files:
        checklist = compile_checklist(checklist_file, thresholds)
        assert all(rule.why and rule.fix for rule in checklist.rules)


def test_a_user_checklist_replaces_a_bundled_one_with_the_same_id(tmp_path: Path) -> None:
    source = discover()[0]
    replacement = tmp_path / "mine.json"
    replacement.write_text(source.path.read_text().replace('"version": "1.0"', '"version": "9.9"'))
    by_id = {f.id: f for f in discover([tmp_path])}
    assert by_id[source.id].path == replacement
    assert by_id[source.id].data["version"] == "9.9"


def test_thresholds_take_defaults_and_refuse_unknown_overrides() -> None:
    declared = {"min_win_probability": ThresholdSpec("min_win_probability", 10, "%", "floor")}
    assert resolve_thresholds(declared, {}) == {"min_win_probability": 10}
    assert resolve_thresholds(declared, {"min_win_probability": 20}) == {"min_win_probability": 20}
    with pytest.raises(
        ConfigurationError,
        match=r"unknown threshold.*min_win_probabilty.*known: min_win_probability",
    ):
        resolve_thresholds(declared, {"min_win_probabilty": 20})


def test_properties_used_looks_through_combinators_and_conditionals() -> None:
    condition = {
        "required": ["contract_type"],
        "if": {"properties": {"contract_type": {"const": "fixed-price"}}},
        "then": {"properties": {"effort_days": {"maximum": 400}}},
        "anyOf": [{"required": ["budget"]}],
    }
    assert properties_used(condition) == ("contract_type", "budget", "effort_days")
