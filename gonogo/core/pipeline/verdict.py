"""The four verdicts and the one rule that picks between them, in the product's promised order: a failed
blocker is NO-GO whatever else is known; then missing information is NEEDS INFO (never a GO on missing
data); then failed majors are GO WITH CONDITIONS."""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """Declared best first: `WORST_FIRST` is this order reversed."""

    GO = "go"
    GO_WITH_CONDITIONS = "go-with-conditions"
    NEEDS_INFO = "needs-info"
    NO_GO = "no-go"

    @property
    def label(self) -> str:
        """The value in capitals, as people say it: GO WITH CONDITIONS; NO-GO keeps its hyphen."""
        return "NO-GO" if self is Verdict.NO_GO else self.value.replace("-", " ").upper()


# Worst first (what to drop, then what needs information, then what to pursue): the order `decide`
# tries them, and every portfolio table, chart and CSV lists them in.
WORST_FIRST: tuple[Verdict, ...] = tuple(reversed(Verdict))


def decide(*, failed_blockers: int, missing_information: int, failed_majors: int) -> Verdict:
    if failed_blockers:
        return Verdict.NO_GO
    if missing_information:
        return Verdict.NEEDS_INFO
    return Verdict.GO_WITH_CONDITIONS if failed_majors else Verdict.GO
