"""What no single ticket shows: which rules fail most, which questions stay open, whose verdict moved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from gonogo.core.pipeline.rules import Severity
from gonogo.core.pipeline.verdict import Verdict
from gonogo.core.pipeline.verdict_history import VerdictChange
from gonogo.core.portfolio.rows import Row, sort_key

SEVERITY_ORDER = (Severity.BLOCKER, Severity.MAJOR, Severity.MINOR)


@dataclass(frozen=True)
class RuleFailures:
    """One rule across the portfolio: how many tickets fail it, their share, and which they are."""

    ref: str
    title: str
    problem: str  # how the rule words its failure: the heading a reader scans for
    severity: Severity
    count: int
    share: int  # percent of the assessed tickets
    keys: tuple[str, ...]


@dataclass(frozen=True)
class MissingCount:
    """One piece of information across the portfolio: how many tickets lack it, and which."""

    property: str
    label: str
    count: int
    share: int
    keys: tuple[str, ...]


@dataclass(frozen=True)
class FailurePatterns:
    """The rules failing most (most first) and the information most often missing."""

    assessed: int
    rules: tuple[RuleFailures, ...]
    missing: tuple[MissingCount, ...]

    def by_severity(self) -> tuple[tuple[Severity, tuple[RuleFailures, ...]], ...]:
        """The same rules grouped by severity, show-stoppers first; empty groups left out."""
        groups = ((s, tuple(r for r in self.rules if r.severity is s)) for s in SEVERITY_ORDER)
        return tuple((severity, rules) for severity, rules in groups if rules)


@dataclass(frozen=True)
class ChangedTicket:
    """A ticket whose verdict changed, for the `--since` section."""

    key: str
    summary: str | None
    before: Verdict
    after: Verdict
    on: date
    days_ago: int


def failure_patterns(rows: Sequence[Row]) -> FailurePatterns:
    """Count failed rules (waived ones are accepted, not failing) and missing information per ticket."""
    assessed = [row for row in rows if row.verdict is not None]
    in_key_order = sorted(assessed, key=lambda row: sort_key(row)[2:])
    failing: dict[str, list[str]] = {}
    titles: dict[str, tuple[str, str, Severity]] = {}
    missing: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for row in in_key_order:
        for rule in row.failed_rules:
            if rule.waived:
                continue
            failing.setdefault(rule.ref, []).append(row.key)
            titles[rule.ref] = (rule.title, rule.problem or rule.title, rule.severity)
        for item in row.missing:
            missing.setdefault(item.property, []).append(row.key)
            labels.setdefault(item.property, item.label)
    total = len(assessed)
    rules = sorted(
        (
            RuleFailures(ref, *titles[ref], len(keys), _share(len(keys), total), tuple(keys))
            for ref, keys in failing.items()
        ),
        key=lambda r: (-r.count, SEVERITY_ORDER.index(r.severity), r.ref),
    )
    gaps = sorted(
        (
            MissingCount(name, labels[name], len(keys), _share(len(keys), total), tuple(keys))
            for name, keys in missing.items()
        ),
        key=lambda m: (-m.count, m.property),
    )
    return FailurePatterns(assessed=total, rules=tuple(rules), missing=tuple(gaps))


def changed_since(rows: Sequence[Row], since: date, *, today: date) -> tuple[ChangedTicket, ...]:
    """Tickets whose latest verdict change happened on or after `since`, latest first."""
    changes = []
    for row in rows:
        change = row.change(today)
        if change is not None and change.on >= since:
            changes.append(_changed_ticket(row, change, today))
    order = {row.key: index for index, row in enumerate(sorted(rows, key=lambda row: sort_key(row)[2:]))}
    return tuple(sorted(changes, key=lambda c: (-c.on.toordinal(), order[c.key])))


def _changed_ticket(row: Row, change: VerdictChange, today: date) -> ChangedTicket:
    return ChangedTicket(
        key=row.key,
        summary=row.summary,
        before=change.before,
        after=change.after,
        on=change.on,
        days_ago=(today - change.on).days,
    )


def change_of(row: Row, today: date) -> ChangedTicket | None:
    """The row's latest verdict change with its age, for the report's "changed" column."""
    change = row.change(today)
    return None if change is None else _changed_ticket(row, change, today)


def _share(count: int, total: int) -> int:
    return round(100 * count / total) if total else 0
