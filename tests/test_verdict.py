"""The verdict rule: blockers first, then missing information, then majors."""

from __future__ import annotations

import pytest

from gonogo.core.errors import ExitCode
from gonogo.core.verdict import Verdict, decide


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
    codes = {v: v.exit_code for v in Verdict}
    assert codes == {
        Verdict.GO: ExitCode.GO,
        Verdict.GO_WITH_CONDITIONS: 10,
        Verdict.NEEDS_INFO: 11,
        Verdict.NO_GO: 12,
    }
    assert [v.label for v in Verdict] == ["GO", "GO WITH CONDITIONS", "NEEDS INFO", "NO-GO"]
