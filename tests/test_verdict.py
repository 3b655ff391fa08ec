"""The verdict rule: blockers first, then missing information, then majors."""

from __future__ import annotations

import pytest

from gonogo.cli.exits import ExitCode, FailedRows, Problems, for_error, for_result
from gonogo.core.errors import ConfigurationError, EditRefused, GonogoError, InputError, JiraError
from gonogo.core.pipeline.verdict import Verdict, decide


@pytest.mark.parametrize(
    ("blockers", "missing", "majors", "expected"),
    [
        (1, 3, 2, Verdict.NO_GO),
        (0, 1, 2, Verdict.NEEDS_INFO),
        (0, 0, 1, Verdict.GO_WITH_CONDITIONS),
        (0, 0, 0, Verdict.GO),
    ],
)
def test_precedence(blockers: int, missing: int, majors: int, expected: Verdict) -> None:
    assert decide(failed_blockers=blockers, missing_information=missing, failed_majors=majors) is expected


def test_each_verdict_has_its_own_documented_exit_code() -> None:
    codes = {v: for_result(v) for v in Verdict}
    assert codes == {
        Verdict.GO: ExitCode.GO,
        Verdict.GO_WITH_CONDITIONS: 10,
        Verdict.NEEDS_INFO: 11,
        Verdict.NO_GO: 12,
    }
    assert [v.label for v in Verdict] == ["GO", "GO WITH CONDITIONS", "NEEDS INFO", "NO-GO"]


def test_each_error_family_has_its_own_documented_exit_code() -> None:
    assert for_error(ConfigurationError("x")) == 3
    assert for_error(InputError("x")) == 4
    assert for_error(JiraError("x")) == 5
    assert for_error(EditRefused("x")) == 5  # a refused edit is a Jira error like any other
    assert for_error(GonogoError("x")) == ExitCode.INTERNAL_ERROR


def test_a_command_result_becomes_its_exit_code() -> None:
    assert for_result(Verdict.NO_GO) == 12
    assert for_result(FailedRows(2)) == 6
    assert for_result(Problems(1)) == 3
    assert for_result(Problems(0)) == for_result(FailedRows(0)) == 0
    assert for_result(None) == 0
