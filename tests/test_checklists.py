"""Checklist files: the linter's precise messages, loading, overriding, YAML, and the authoring commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import BUNDLED_CHECKLISTS, EXAMPLES, TODAY, Gonogo

from gonogo.core.errors import ConfigurationError
from gonogo.core.pipeline.rules import (
    compile_condition,
    properties_used,
    remembered,
    thresholds_in_force,
)
from gonogo.core.vocabulary import Vocabulary
from gonogo.sources.checklists import discover
from gonogo.sources.resources import bundled_vocabulary

HERE = Path(__file__).parent / "checklists"
BROKEN = HERE / "broken"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing-reason.json", "missing-reason.json: rule has-budget: 'why' is a required property"),
        ("bad-severity.json", "bad-severity.json: rule has-budget severity: 'critical' is not one of"),
        ("invalid-schema.json", "invalid-schema.json: rule has-budget: condition is not a valid JSON Schema"),
        ("duplicate-rule.json", "duplicate-rule.json: rule has-budget: duplicate rule id"),
        ("unknown-property.json", "unknown-property.json: rule has-budget: unknown property budjet"),
        ("unknown-threshold.json", "unknown-threshold.json: rule has-budget: unknown threshold 'min_budjet'"),
        ("no-property.json", "no-property.json: rule has-budget: condition names no property"),
        ("not-json.json", "not-json.json: file: not valid JSON (line 2, column 1"),
        ("bad-yaml.yaml", "bad-yaml.yaml: file: not valid YAML (line 4, column 1"),
    ],
)
def test_lint_names_file_rule_and_problem(gonogo: Gonogo, name: str, message: str) -> None:
    run = gonogo("checklists", "lint", str(BROKEN / name))
    assert run.exit_code == 3
    (line,) = run.stdout.splitlines()
    assert line.startswith(str(BROKEN / name))
    assert message in line
    assert "1 problem(s)" in run.stderr


def test_lint_passes_on_the_bundled_library_and_a_good_yaml_checklist(gonogo: Gonogo) -> None:
    run = gonogo("checklists", "lint")
    assert (run.exit_code, run.stdout) == (0, "")
    assert "0 problem(s)" in run.stderr
    assert gonogo("checklists", "lint", str(HERE / "good")).exit_code == 0


def test_lint_reports_every_problem_of_a_folder(gonogo: Gonogo) -> None:
    run = gonogo("checklists", "lint", str(BROKEN))
    assert run.exit_code == 3
    assert len(run.stdout.splitlines()) == len(list(BROKEN.iterdir()))


def test_a_check_refuses_a_broken_checklist_with_the_first_problem(gonogo: Gonogo, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "two.json").write_text(
        json.dumps(
            {
                "id": "two",
                "title": "Two problems",
                "version": "1",
                "description": "A checklist with two broken rules.",
                "rules": [
                    {
                        "id": "a",
                        "title": "Rule a",
                        "failed_title": "Rule a fails",
                        "severity": "major",
                        "condition": {"required": ["nope"]},
                        "why": "A reason that is long enough.",
                        "fix": "A fix that is long enough too.",
                    },
                    {
                        "id": "b",
                        "title": "Rule b",
                        "failed_title": "Rule b fails",
                        "severity": "major",
                        "condition": {"required": ["nada"]},
                        "why": "A reason that is long enough.",
                        "fix": "A fix that is long enough too.",
                    },
                ],
            }
        )
    )
    (tmp_path / "gonogo.toml").write_text('[checklists]\npaths = ["mine"]\n')
    run = gonogo("check", str(EXAMPLES / "healthy.json"))
    assert run.exit_code == 3
    assert "two.json: rule a: unknown property nope" in run.stderr
    assert "(and 1 more: run gonogo checklists lint)" in run.stderr


def test_a_yaml_checklist_from_the_configured_folder_takes_part_in_the_check(
    gonogo: Gonogo, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text(
        f'[checklists]\npaths = ["{HERE / "good"}"]\n[thresholds]\nmin_budget = 1000000\n'
    )
    run = gonogo("check", str(EXAMPLES / "healthy.json"), "--today", TODAY, "--format", "json")
    document = json.loads(run.stdout)
    (finding,) = [f for f in document["findings"] if f["checklist"] == "funding"]
    assert finding["outcome"] == "failed"
    assert finding["reason"] == "Below 1,000,000 the cost of a formal response eats most of the margin."
    assert document["verdict"] == "go-with-conditions"


def test_a_user_checklist_replaces_a_bundled_one_with_the_same_id(tmp_path: Path) -> None:
    bundled = {f.id: f for f in discover()}["strategic"]
    replacement = tmp_path / "mine.json"
    replacement.write_text(bundled.path.read_text().replace('"version": "1.0"', '"version": "9.9"'))
    by_id = {f.id: f for f in discover([tmp_path])}
    assert by_id["strategic"].path == replacement
    assert by_id["strategic"].data["version"] == "9.9"


def test_a_broken_checklist_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "missing-reason.json").write_bytes((BROKEN / "missing-reason.json").read_bytes())
    with pytest.raises(ConfigurationError, match=r"missing-reason\.json: rule has-budget: 'why'"):
        discover([tmp_path])


def test_thresholds_take_defaults_and_refuse_unknown_overrides() -> None:
    declared = Vocabulary(properties={}, thresholds={"min_win_probability": 10.0})
    assert thresholds_in_force([], declared, {}) == {"min_win_probability": 10}
    assert thresholds_in_force([], declared, {"min_win_probability": 20}) == {"min_win_probability": 20}
    with pytest.raises(
        ConfigurationError, match=r"unknown threshold.*min_win_probabilty.*known: min_win_probability"
    ):
        thresholds_in_force([], declared, {"min_win_probabilty": 20})


def test_properties_used_looks_through_combinators_and_conditionals() -> None:
    condition = {
        "required": ["contract_type"],
        "if": {"properties": {"contract_type": {"const": "fixed-price"}}},
        "then": {"properties": {"effort_days": {"maximum": 400}}},
        "anyOf": [{"required": ["budget"]}],
    }
    assert properties_used(condition) == ("contract_type", "budget", "effort_days")


def test_list_shows_every_checklist_with_version_rules_and_source(gonogo: Gonogo) -> None:
    run = gonogo("checklists", "list")
    assert run.exit_code == 0
    rows = {line.split()[0]: line for line in run.stdout.splitlines()[1:]}
    assert set(rows) == set(BUNDLED_CHECKLISTS)
    assert "doomed" in rows
    assert "Doomed from the start" in rows["doomed"]
    assert rows["doomed"].rstrip().endswith("checklists/doomed.json")


def test_show_explains_rules_in_plain_words_with_thresholds_in_force(gonogo: Gonogo, tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text("[thresholds]\nmin_margin_percent = 22\n")
    run = gonogo("checklists", "show", "commercial")
    assert run.exit_code == 0
    assert "MAJOR margin-floor (weight 4): The expected margin meets our floor" in run.stdout
    assert "Holds when:   Expected margin (%) is at least 22" in run.stdout
    unknown = gonogo("checklists", "show", "nope")
    assert unknown.exit_code == 4
    assert "no checklist 'nope'; known: capability, commercial" in unknown.stderr


def test_schema_prints_the_meta_schema_path(gonogo: Gonogo) -> None:
    path = Path(gonogo("checklists", "schema").stdout.strip())
    assert json.loads(path.read_text())["title"] == "gonogo checklist"


def test_the_guides_document_every_property_and_threshold() -> None:
    docs = Path(__file__).parent.parent / "docs"
    readme = (docs / "configuration.md").read_text() + (docs / "checklists.md").read_text()
    vocabulary = bundled_vocabulary()
    names = [*vocabulary.properties, *thresholds_in_force(discover(), vocabulary, {})]
    assert [name for name in names if f"| `{name}` |" not in readme] == []


def test_lint_and_check_agree_on_unknown_threshold_overrides(gonogo: Gonogo, tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text("[thresholds]\nmin_margn_percent = 20\n")
    lint = gonogo("checklists", "lint")
    assert lint.exit_code == 3
    assert (
        "gonogo.toml: [thresholds]: [thresholds] in gonogo.toml names unknown threshold(s) min_margn_percent"
        in lint.stdout
    )
    assert gonogo("check", str(EXAMPLES / "healthy.json")).exit_code == 3


@pytest.mark.parametrize("engine", ["jsonschema", "jsonschema-rs"])
def test_a_remembered_condition_tells_true_one_and_one_point_zero_apart(engine: str) -> None:
    """True == 1 == 1.0 in Python, not in JSON Schema: a remembered answer must not cross types."""
    holds = compile_condition({"properties": {"n": {"type": "integer"}}}, engine)
    assert [holds({"n": 1}), holds({"n": True}), holds({"n": 1.0}), holds({"n": 1.5})] == [
        True,
        False,
        True,
        False,
    ]
    assert [holds({"n": True}), holds({"n": 1})] == [False, True]  # asked again: same answers


def test_a_condition_is_asked_once_per_plain_values_and_always_about_lists() -> None:
    asked: list[object] = []

    def predicate(instance: object) -> bool:
        asked.append(instance)
        return True

    holds = remembered(predicate)
    for _ in range(3):
        holds({"budget": 10, "deadline": "2026-12-01"})
        holds({"labels": ["a"]})
    assert asked == [{"budget": 10, "deadline": "2026-12-01"}, *[{"labels": ["a"]}] * 3]
