"""Path to GO: the smallest set of changes to the ticket's editable inputs after which the verdict is GO,
asked of the real compiled rules (it cannot drift from the checklists), among the options the site's
fields can hold, each change in the site's words; missing information is listed with `needed` None."""

from __future__ import annotations

import builtins
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from gonogo.core.pipeline.findings import Assessment, Finding, FindingStatus, read_from
from gonogo.core.pipeline.proposal import Proposal, SiteOption, canonical_option
from gonogo.core.pipeline.rules import Checklist, Rule, Severity
from gonogo.core.vocabulary import PropertySpec, Vocabulary, option_key

_MAX_STEPS = 20  # more changes than this is not a path anybody follows
_DATE_REACH_DAYS = 3650
_NUMBER_REACH = 10**12  # the farthest a number is moved: beyond any contract value or effort
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # a needed date, as the search writes it; not an option


@dataclass(frozen=True)
class Fix:
    """An input set to the value that clears a rule (`needed` None: provide it); `set_to` in site words."""

    property: str
    field: str
    current: Any
    needed: Any
    set_to: Any = None
    actor: str | None = None

    @builtins.property  # `property` is a field name here
    def direction(self) -> str:
        """How a template words the change: "up", "down", "set" (an option) or "provide"."""
        if self.needed is None:
            return "provide"
        if isinstance(self.needed, str) and not _ISO_DATE.fullmatch(self.needed):
            return "set"
        return "up" if self.current is None or self.needed > self.current else "down"


@dataclass(frozen=True)
class Step:
    """One change on the path, the rules it clears, and other single changes that would clear them."""

    change: Fix
    rules: tuple[str, ...]
    alternatives: tuple[Fix, ...] = ()


@dataclass(frozen=True)
class PathToGo:
    """The steps, and whether applying every non-null change was verified to leave no failed rule."""

    steps: tuple[Step, ...]
    verified: bool
    uncleared: tuple[str, ...] = ()  # failed rules no single input change clears


Derive = Callable[[Mapping[str, Any]], Mapping[str, Any]]
Reassess = Callable[[Mapping[str, Any], Sequence[Checklist]], Assessment]
# Property → vocabulary value → the site's text for it (only values the site can hold).
OptionTexts = Mapping[str, Mapping[str, str]]


def find_path(
    assessment: Assessment,
    *,
    proposal: Proposal,
    derive: Derive,
    reassess: Reassess,
    vocabulary: Vocabulary,
    options: OptionTexts,
) -> PathToGo:
    """The path from this assessment to GO (empty for a GO); `reassess` judges changed inputs (the
    proposal's values less the derived ones). Each change is in the site's words: `options` (what its
    fields can hold) for the value needed, the proposal's own option texts for the current one."""
    if not _blocking(assessment.findings, held=False) and not assessment.missing_information:
        return PathToGo(steps=(), verified=True)
    derived = {name for name, spec in vocabulary.properties.items() if spec.is_derived}
    inputs = {name: value for name, value in proposal.values.items() if name not in derived}
    rejudge = Rejudge(reassess, assessment.checklists, vocabulary)
    search = _Search(assessment, proposal, inputs, derive, rejudge, vocabulary, options)
    changes, uncleared = search.greedy()
    search.prune(changes)
    if len(changes) > 1:
        changes = search.reminimised(changes)
    final = rejudge({**inputs, **changes})
    verified = not _blocking(final, held=bool(changes)) and not uncleared
    steps = search.steps(changes, final) + search.missing_steps()
    return PathToGo(steps=tuple(steps), verified=verified, uncleared=tuple(uncleared))


class Rejudge:
    """The findings of every rule on changed inputs, judging again only the rules the change touches: a
    rule reading no input that differs from the previous call keeps its finding, unless it shares a value
    with a rule that asks (which may put it in doubt): those are judged every time."""

    def __init__(self, reassess: Reassess, checklists: Sequence[Checklist], vocabulary: Vocabulary) -> None:
        self._reassess, self._checklists = reassess, checklists
        self._reads = {id(r): set(read_from(r.uses, vocabulary)) for c in checklists for r in c.rules}
        doubtable = {name for c in checklists for r in c.rules if r.asks for name in self._reads[id(r)]}
        self._always = {key for key, reads in self._reads.items() if reads & doubtable}
        self._inputs: dict[str, tuple[type, Any]] | None = None
        self._findings: dict[str, Finding] = {}

    def __call__(self, inputs: Mapping[str, Any]) -> list[Finding]:
        # Each value with its type: 1, 1.0 and true are told apart, as JSON Schema does.
        typed, before = {name: (type(value), value) for name, value in inputs.items()}, self._inputs
        changed = None if before is None else {n for n in {*typed, *before} if typed.get(n) != before.get(n)}
        touched = tuple(
            replace(c, rules=tuple(r for r in c.rules if self._touches(r, changed))) for c in self._checklists
        )
        for finding in self._reassess(inputs, touched).findings:
            self._findings[finding.ref] = finding
        self._inputs = typed
        return list(self._findings.values())

    def _touches(self, rule: Rule, changed: set[str] | None) -> bool:
        return changed is None or id(rule) in self._always or not self._reads[id(rule)].isdisjoint(changed)


@dataclass(frozen=True)
class _Search:
    assessment: Assessment
    proposal: Proposal
    inputs: Mapping[str, Any]
    derive: Derive
    rejudge: Callable[[Mapping[str, Any]], list[Finding]]
    vocabulary: Vocabulary
    options: OptionTexts

    def greedy(self) -> tuple[dict[str, Any], list[str]]:
        """One change at a time, for the worst failed gate, the whole ticket re-assessed after each."""
        changes: dict[str, Any] = {}
        uncleared: list[str] = []
        current: Sequence[Finding] = self.assessment.findings
        for _ in range(_MAX_STEPS):
            # What the ticket's own questions hold back is theirs to settle; on a changed ticket it counts.
            held = current is not self.assessment.findings
            if not (todo := [f for f in _blocking(current, held=held) if f.ref not in uncleared]):
                break
            if not (clearing := self.clearing_changes([todo[0].rule], {**self.inputs, **changes})):
                uncleared.append(todo[0].ref)
                continue
            name = next(iter(clearing))
            changes[name] = clearing[name]
            current = self.rejudge({**self.inputs, **changes})
        return changes, uncleared

    def prune(self, changes: dict[str, Any]) -> None:
        """Drop every change whose removal keeps the ticket clear."""
        for name in list(changes) if len(changes) > 1 else ():
            if not _blocking(self.rejudge({**self.inputs, **_without(changes, name)})):
                del changes[name]

    def reminimised(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Each kept change moved back to the nearest value that still clears, with the others applied:
        a later change (less effort) can make an earlier one (a budget for that effort) too large."""
        kept = dict(changes)
        # A rule that asks (an implausible value) is a question, not a gate: it also holds nowhere
        # near the far ends a search probes, which the bisection's one-sidedness cannot take.
        gates = [f.rule for f in _gates_first(self.assessment.findings) if not f.rule.asks]
        for _ in range(len(kept)):
            if not self._moved_nearer(kept, gates):
                break
        return kept

    def _moved_nearer(self, kept: dict[str, Any], gates: Sequence[Rule]) -> bool:
        moved = False
        for name in list(kept):
            others = {**self.inputs, **_without(kept, name)}
            values = self.derive({**others, name: kept[name]})
            rules = [r for r in gates if name in self.sources(r) and _holds(r, values)]
            nearer = self.clearing_value(name, rules, others)
            if nearer is None or nearer == kept[name]:
                continue
            if not _blocking(self.rejudge({**others, name: nearer})):
                kept[name] = nearer
                moved = True
        return moved

    def steps(self, changes: Mapping[str, Any], final: Sequence[Finding]) -> list[Step]:
        """Each change with the gates it clears, including gates that could not run before it (no margin
        on a zero budget), which often set the amount."""
        passing = {f.ref for f in final if f.outcome is FindingStatus.PASSED}
        held = (FindingStatus.FAILED, FindingStatus.SKIPPED)
        freed = [f for f in _gates_first(self.assessment.findings) if f.outcome in held and f.ref in passing]
        steps = []
        for name, needed in changes.items():
            cleared = [f for f in freed if name in self.sources(f.rule)]
            rest = {**self.inputs, **_without(changes, name)}
            instead = self.clearing_changes([f.rule for f in cleared], rest).items()
            change = self.change(name, needed)
            others = tuple(self.change(n, v) for n, v in instead if n not in changes)
            steps.append(Step(change, tuple(f.ref for f in cleared), others))
        return steps

    def missing_steps(self) -> list[Step]:
        asked = [f for f in self.assessment.findings if f.outcome is FindingStatus.MISSING]
        return [
            Step(self.change(m.property, None), tuple(f.ref for f in asked if f.rule.id in m.needed_by))
            for m in self.assessment.missing_information
        ]

    def change(self, name: str, needed: Any) -> Fix:
        """A change in the site's words: its field name, its option texts, the current value as evidence
        quotes it (none for a value to provide); `needed` stays the vocabulary's value (a `SiteOption`
        where the site spells it otherwise), which templates compare."""
        current = None if needed is None else self.proposal.evidence_value(name)
        spec = self.vocabulary.properties.get(name)
        shown = (e.label for f in self.assessment.findings for e in f.evidence if e.property == name)
        label = next(shown, spec.label if spec else name)
        set_to = needed
        if spec is not None and spec.enum and isinstance(needed, str):
            set_to = self.options.get(name, {}).get(needed, needed)
            needed = SiteOption(needed, site_text=set_to) if set_to != needed else needed
        actor = spec.actor if spec else None
        return Fix(property=name, field=label, current=current, needed=needed, set_to=set_to, actor=actor)

    def clearing_changes(self, rules: Sequence[Rule], inputs: Mapping[str, Any]) -> dict[str, Any]:
        """For each input the rules depend on, the nearest value after which all hold; most direct first."""
        names = dict.fromkeys(name for rule in rules for name in self.sources(rule))
        found = ((name, self.clearing_value(name, rules, inputs)) for name in names)
        return {name: needed for name, needed in found if needed is not None}

    def clearing_value(self, name: str, rules: Sequence[Rule], inputs: Mapping[str, Any]) -> Any:
        """The value of input `name` nearest to its value in `inputs` after which all the rules hold."""
        if inputs.get(name) is None:
            return None

        def holds(candidate: Any) -> bool:
            values = self.derive({**inputs, name: candidate})
            return all(_holds(rule, values) for rule in rules)

        spec = self.vocabulary.properties[name]
        if spec.enum:  # the options the site's field can hold, and the ticket's own
            held = self.options.get(name, spec.enum)
            choices = [v for v in spec.enum if v in held or v == self.inputs.get(name)]
            return _nearest_option(inputs[name], choices, holds)
        return _nearest(inputs[name], spec, holds)

    def sources(self, rule: Rule) -> list[str]:
        """The editable inputs a rule's properties come from: derived ones replaced by their sources."""
        specs = [self.vocabulary.properties.get(name) for name in read_from(rule.uses, self.vocabulary)]
        searchable = ("number", "integer", "date")
        return [s.name for s in specs if s and not s.is_derived and (s.type in searchable or s.enum)]


def _without(changes: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in changes.items() if k != name}


def _gates_first(findings: Iterable[Finding]) -> list[Finding]:
    gates = [f for f in findings if f.rule.severity is not Severity.MINOR]
    return sorted(gates, key=lambda f: f.rule.severity is not Severity.BLOCKER)


def _holds(rule: Rule, values: Mapping[str, Any]) -> bool:
    present = {n: values[n] for n in rule.uses if n in values}
    return len(present) == len(rule.uses) and bool(rule.holds(present))


def _blocking(findings: Sequence[Finding], *, held: bool = True) -> list[Finding]:
    """Failed gates, blockers first; with `held`, a rule on hold counts as it came out."""
    failed = FindingStatus.FAILED
    return [f for f in _gates_first(findings) if f.outcome is failed or (held and f.on_hold is failed)]


def _nearest(value: Any, spec: PropertySpec, holds: Callable[[Any], bool]) -> Any:
    if spec.type != "date":
        return _nearest_number(value, spec, holds)
    start = date.fromisoformat(value)
    # A side reaching beyond year 1 or 9999 is not searched: there is no such date to propose.
    up = _DATE_REACH_DAYS if (date.max - start).days >= _DATE_REACH_DAYS else 0
    down = _DATE_REACH_DAYS if (start - date.min).days >= _DATE_REACH_DAYS else 0
    offset = _nearest_offset(lambda k: holds((start + timedelta(days=k)).isoformat()), up=up, down=down)
    return None if offset is None else (start + timedelta(days=offset)).isoformat()


def _nearest_option(value: Any, options: Sequence[str], holds: Callable[[Any], bool]) -> str | None:
    """The passing option closest to the current one in the property's order (none < partial < strong)."""
    here = options.index(value) if value in options else 0
    others = [o for o in options if o != value]
    ranked = sorted(others, key=lambda o: (abs(options.index(o) - here), -options.index(o)))
    return next((o for o in ranked if holds(o)), None)


def _nearest_number(value: float, spec: PropertySpec, holds: Callable[[Any], bool]) -> int | float | None:
    """Whole steps away from the current value, then rounded to a readable amount that still passes."""

    def allowed(candidate: float) -> bool:
        if spec.minimum is not None and candidate < spec.minimum:
            return False
        if spec.exclusive_minimum is not None and candidate <= spec.exclusive_minimum:
            return False
        return spec.maximum is None or candidate <= spec.maximum

    def at(k: int) -> int | float:
        number = value + k
        return int(number) if float(number).is_integer() else number

    floor = spec.minimum if spec.minimum is not None else spec.exclusive_minimum
    up = _NUMBER_REACH if spec.maximum is None else math.floor(spec.maximum - value)
    down = _NUMBER_REACH if floor is None else math.ceil(value - floor) - (spec.minimum is None)
    offset = _nearest_offset(lambda k: allowed(at(k)) and holds(at(k)), up=up, down=down)
    if offset is None:
        return None
    exact = at(offset)
    rounded = _readable(exact, up=offset > 0)
    return rounded if allowed(rounded) and holds(rounded) else exact


def _nearest_offset(passes: Callable[[int], bool], *, up: int, down: int) -> int | None:
    """The smallest step k (up to `up` above, `down` below) with passes(k); assumes each side monotone."""
    above = _probe(passes, up) if up > 0 else None
    below = _probe(lambda k: passes(-k), down) if down > 0 else None
    return -below if below is not None and (above is None or below < above) else above


def _probe(passes: Callable[[int], bool], reach: int) -> int | None:
    """The first passing step in 1..reach by doubling and bisection (one evaluation if `reach` fails)."""
    if not passes(reach):
        return None
    low, high = 0, 1
    while high < reach and not passes(high):
        low, high = high, min(high * 2, reach)
    while high - low > 1:
        middle = (low + high) // 2
        if passes(middle):
            high = middle
        else:
            low = middle
    return high


def _readable(number: int | float, *, up: bool) -> int | float:
    """Three significant figures, rounded away from the failing side: 540,001 → 541,000."""
    step = 1 if abs(number) < 1000 else 10 ** (int(math.log10(abs(number))) - 2)
    return int((math.ceil if up else math.floor)(number / step) * step)


def site_options(
    spec: PropertySpec, *, offered: Sequence[str] | None, table: Mapping[str, str], aliases: Mapping[str, str]
) -> dict[str, str]:
    """Vocabulary value → the site's text, for the values the site's field can hold: those its edit
    screen offers, or (not known) every value, as `[values]` (`table`) first spells it, or as gonogo does."""
    if offered is None:
        spelled: dict[str, str] = {}
        for text, value in table.items():
            spelled.setdefault(value, " ".join(text.split()))  # the first spelling wins
        return {value: spelled.get(value) or value.replace("-", " ").capitalize() for value in spec.enum}
    found: dict[str, str] = {}
    for text in offered:
        if (value := aliases.get(option_key(text)) or canonical_option(text)) in spec.enum:
            found.setdefault(value, text)
    return found
