"""`gonogo setup`: match the vocabulary to a site's own fields and options, as a plan to review.

Matched by name (the vocabulary's words and other sites' in `schemas/site-names.json`), only among
fields whose type can hold the value. A property no field is clearly named for is written as not
recorded (`liability = false`) so doctor passes; its closest candidates are a TODO for a person.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gonogo.core.jira_shapes.site_fields import SiteField, type_problem
from gonogo.core.pipeline.proposal import canonical_option
from gonogo.core.vocabulary import PropertySpec, Vocabulary, option_key
from gonogo.sources.resources import bundled_json

CLEAR_MATCH = 0.8  # below this a field is only a candidate for a person to choose
CANDIDATE = 0.45


@dataclass(frozen=True)
class FieldMatch:
    """A property and the field chosen for it (None: a person must choose among `candidates`)."""

    spec: PropertySpec
    field: SiteField | None
    candidates: tuple[SiteField, ...] = ()


@dataclass(frozen=True)
class OptionPlan:
    spec: PropertySpec
    field: SiteField
    aliases: tuple[tuple[str, str], ...]  # (site text, value) that need a [values] alias
    direct: tuple[str, ...]  # options that already read as a value ("Partial" → partial)
    unmatched: tuple[str, ...]


@dataclass(frozen=True)
class SetupPlan:
    fields: tuple[FieldMatch, ...]
    options: tuple[OptionPlan, ...]

    @property
    def matched(self) -> list[FieldMatch]:
        return [m for m in self.fields if m.field is not None]

    @property
    def unmatched(self) -> list[FieldMatch]:
        return [m for m in self.fields if m.field is None]

    @property
    def unrecorded(self) -> list[FieldMatch]:
        """Written as `property = false`, so checks needing them do not run."""
        return [m for m in self.unmatched if not m.spec.optional]

    @property
    def todo_lines(self) -> int:
        """Choices a person still has to make."""
        return sum(1 for m in self.unrecorded if m.candidates) + sum(len(o.unmatched) for o in self.options)


def plan_setup(
    vocabulary: Vocabulary, site: Sequence[SiteField], editable: Mapping[str, SiteField] | None = None
) -> SetupPlan:
    """Match every mappable property to a site field, and each matched select field's options."""
    specs = [spec for spec in vocabulary.properties.values() if _mappable(spec)]
    scores = {  # only fields whose type can hold the value
        (spec.name, site_field.id): _score(spec, site_field)
        for spec in specs
        for site_field in site
        if type_problem(spec, site_field) is None
    }
    by_id = {site_field.id: site_field for site_field in site}
    chosen = _clear_matches(scores, by_id)
    taken = {site_field.id for site_field in chosen.values()}
    matches = tuple(
        FieldMatch(spec, chosen[spec.name])
        if spec.name in chosen
        else FieldMatch(spec, None, _candidates(spec.name, scores, by_id, taken))
        for spec in specs
    )
    return SetupPlan(matches, _option_plans(matches, editable or {}))


def _option_plans(matches: Sequence[FieldMatch], editable: Mapping[str, SiteField]) -> tuple[OptionPlan, ...]:
    """For each matched select field on the edit screen, how its options read as values."""
    selects = [(m.spec, m.field) for m in matches if m.field is not None and m.spec.enum]
    return tuple(_option_plan(spec, editable[f.id]) for spec, f in selects if f.id in editable)


def _mappable(spec: PropertySpec) -> bool:
    """Not derived, and not the summary or description (system fields, the same on every site)."""
    return not spec.is_derived and bool(spec.default_field) and spec.name not in ("summary", "description")


def _clear_matches(
    scores: Mapping[tuple[str, str], float], by_id: Mapping[str, SiteField]
) -> dict[str, SiteField]:
    """Greedy, best first, one field per property: "Decision maker access" is not taken for
    "Decision maker" when a field has that very name."""
    chosen: dict[str, SiteField] = {}
    taken: set[str] = set()
    for (prop, field_id), score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
        if score < CLEAR_MATCH:
            break
        if prop not in chosen and field_id not in taken:
            chosen[prop] = by_id[field_id]
            taken.add(field_id)
    return chosen


def _candidates(
    prop: str, scores: Mapping[tuple[str, str], float], by_id: Mapping[str, SiteField], taken: set[str]
) -> tuple[SiteField, ...]:
    """The three likeliest fields for a person to choose from; never one another property took, nor
    a system field but the due date: a site without a decision field is not asked whether
    "Description" is one."""
    ranked = sorted(
        (score, by_id[field_id])
        for (name, field_id), score in scores.items()
        if name == prop
        and score >= CANDIDATE
        and field_id not in taken
        and (field_id.startswith("customfield_") or field_id == "duedate")
    )
    return tuple(site_field for _, site_field in reversed(ranked[-3:]))


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9%&]+", " ", text.casefold()).split())


def _score(spec: PropertySpec, site_field: SiteField) -> float:
    """How clearly the field's name names the property: 1 for the same words, less for looser likeness."""
    name = _words(site_field.name)
    tokens = set(name.split())
    best = 0.0
    phrases = [spec.default_field or "", spec.label, spec.name.replace("_", " ")]
    for phrase in [*phrases, *bundled_json("site-names.json")["fields"].get(spec.name, [])]:
        words = _words(phrase)
        if not words:
            continue
        if words == name:
            return 1.0
        wanted = set(words.split())
        if wanted <= tokens:  # "Bid deadline" contains "deadline": close, less so with more extra words
            best = max(best, 0.92 - 0.04 * len(tokens - wanted))
        best = max(best, difflib.SequenceMatcher(None, words, name).ratio() * 0.95)
    return best


def _option_plan(spec: PropertySpec, site_field: SiteField) -> OptionPlan:
    """How a select field's options read as values: directly, through an alias, or not at all."""
    synonyms: Mapping[str, list[str]] = bundled_json("site-names.json")["options"].get(spec.name, {})
    direct = tuple(text for text in site_field.options if canonical_option(text) in spec.enum)
    read = [(text, _option_value(text, spec, synonyms)) for text in site_field.options if text not in direct]
    aliases = tuple((text, value) for text, value in read if value is not None)
    return OptionPlan(spec, site_field, aliases, direct, tuple(text for text, value in read if value is None))


def _option_value(text: str, spec: PropertySpec, synonyms: Mapping[str, list[str]]) -> str | None:
    """The one value `text` clearly stands for: a known synonym, or a near-identical spelling."""
    key = option_key(text)
    named = {value for value, words in synonyms.items() if key in {option_key(w) for w in words}}
    if len(named) == 1:
        return named.pop()
    close = difflib.get_close_matches(canonical_option(text), list(spec.enum), n=2, cutoff=0.85)
    return close[0] if len(close) == 1 else None


def mapped_properties(
    site: Sequence[SiteField], field_map: Mapping[str, str]
) -> list[tuple[SiteField, tuple[str, ...]]]:
    """Each site field with the properties the configuration reads from it (by id or name), by name."""
    refs = [(prop, ref.casefold()) for prop, ref in field_map.items()]
    return [
        (f, tuple(prop for prop, ref in refs if ref in (f.id.casefold(), f.name.casefold())))
        for f in sorted(site, key=lambda f: (f.name.casefold(), f.id))
    ]
