"""Checklist files and conditions that passed their schema check are not checked again; anything else is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from support import EXAMPLES, TODAY, Gonogo

from gonogo.sources.known_valid import DISABLE_ENV, FILE_NAME, KnownValid, known_valid_cache

BROKEN = Path(__file__).parent / "checklists" / "broken"


class CountingCheck:
    """The real meta-schema check, counting the conditions it was asked about."""

    def __init__(self) -> None:
        self.asked: list[Any] = []

    def __call__(self, condition: Any) -> None:
        self.asked.append(condition)
        jsonschema.Draft202012Validator.check_schema(condition)


def test_a_condition_that_passed_is_not_checked_again_by_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "cache" / FILE_NAME
    first, second = CountingCheck(), CountingCheck()
    run = KnownValid(path, meta_check=first)
    run.check_schema({"required": ["budget"]})
    run.save()
    later = KnownValid(path, meta_check=second)
    later.check_schema({"required": ["budget"]})
    later.check_schema({"required": ["deadline"]})  # changed: checked
    assert first.asked == [{"required": ["budget"]}]
    assert second.asked == [{"required": ["deadline"]}]


def test_an_invalid_condition_is_caught_on_every_run_and_never_stored(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    bad = {"properties": {"budget": {"type": "numbr"}}}
    for _ in range(2):
        run = KnownValid(path)
        with pytest.raises(jsonschema.SchemaError):
            run.check_schema(bad)
        run.check_schema({"required": ["budget"]})
        run.save()
    assert len(json.loads(path.read_text())["valid"]) == 1


def test_an_unreadable_or_foreign_cache_is_empty_and_an_unwritable_one_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_text("{not json")
    check = CountingCheck()
    KnownValid(path, meta_check=check).check_schema({"required": ["budget"]})
    path.write_text(json.dumps({"stamp": "gonogo 0.0.1; another jsonschema", "valid": ["x"]}))
    KnownValid(path, meta_check=check).check_schema({"required": ["budget"]})
    assert len(check.asked) == 2  # neither file was trusted
    blocked = tmp_path / "a-file" / FILE_NAME
    blocked.parent.write_text("not a folder")
    run = KnownValid(blocked)
    run.check_schema({"required": ["budget"]})
    run.save()  # no error: a cache never fails a run
    assert blocked.parent.read_text() == "not a folder"


def test_switched_off_it_checks_everything_and_writes_nothing(tmp_path: Path) -> None:
    environ = {"XDG_CACHE_HOME": str(tmp_path), DISABLE_ENV: "1"}
    run = known_valid_cache(environ)
    run.check_schema({"required": ["budget"]})
    run.save()
    assert list(tmp_path.iterdir()) == []


def test_a_changed_checklist_is_checked_again_and_its_mistakes_caught(gonogo: Gonogo, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    folder = tmp_path / "mine"
    folder.mkdir()
    checklist = folder / "budget.json"
    broken = (BROKEN / "invalid-schema.json").read_text()
    checklist.write_text(broken.replace('"numbr"', '"number"'))
    (tmp_path / "gonogo.toml").write_text('[checklists]\npaths = ["mine"]\n')
    args = ("check", str(EXAMPLES / "healthy.json"), "--dry-run", "--today", TODAY)

    uncached = gonogo(*args, env={**env, DISABLE_ENV: "1"})
    assert not cache.exists()
    first = gonogo(*args, env=env)  # checks everything, stores what passed
    stored = json.loads((cache / "gonogo" / FILE_NAME).read_text())["valid"]
    second = gonogo(*args, env=env)  # everything known valid
    assert uncached.exit_code == first.exit_code == second.exit_code == 0
    assert uncached.stdout == first.stdout == second.stdout
    assert sum(d.startswith("checklist ") for d in stored) == 7  # six bundled and the user's

    checklist.write_text(broken)  # an invalid condition
    run = gonogo(*args, env=env)
    assert run.exit_code == 3
    assert "budget.json: rule has-budget: condition is not a valid JSON Schema" in run.stderr
    checklist.write_text(broken.replace('"numbr"', '"number"').replace('"blocker"', '"critical"'))
    run = gonogo(*args, env=env)  # breaks the checklist schema
    assert run.exit_code == 3
    assert "budget.json: rule has-budget severity: 'critical' is not one of" in run.stderr
