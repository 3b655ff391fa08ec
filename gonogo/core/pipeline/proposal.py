"""From Jira field values to a proposal: the plain, typed properties that checklists test. A value that
cannot be used is not guessed at: it is left out and its problem recorded (NEEDS INFO, not GO on bad data)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from gonogo.core.errors import ConfigurationError
from gonogo.core.pipeline.ticket import CUSTOM_FIELD_ID, Ticket
from gonogo.core.vocabulary import PropertySpec, Vocabulary, option_key

# A number as people type it: an optional currency sign or ISO code, digits, an optional decimal
# part, an optional % or currency after. Digits may be grouped in threes by one separator used
# throughout ("480,000", "1 200 000", "1'200'000"); anything else ("12,5", "12 5") is ambiguous.
_NUMBER_TEXT = re.compile(
    r"(?:[€$£¥]|[A-Z]{3})?[ \u00a0]*"
    r"(?P<number>[+-]?\d[\d,'_ \u00a0\u202f]*(?:\.\d+)?)"
    r"[ \u00a0]*(?:%|[€$£¥]|[A-Z]{3})?"
)
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S")
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}(?P<sep>[,'_ \u00a0\u202f])\d{3}(?:(?P=sep)\d{3})*(?:\.\d+)?")


class SiteOption(str):
    """A vocabulary value read from the site's own option text, which `site_text` keeps for people."""

    site_text: str

    def __new__(cls, value: str, *, site_text: str) -> SiteOption:
        option = super().__new__(cls, value)
        option.site_text = site_text
        return option


class PlaceholderValue(ValueError):
    """The whole value stands for "not known yet" (TBD, n/a, -): missing, with what was written."""

    def __init__(self, text: str) -> None:
        self.text = text if len(text) <= 60 else f"{text[:60]}…"
        super().__init__(f"'{self.text}' is a placeholder")


@dataclass(frozen=True)
class Quote:
    """The sentence a text signal rests on; `agrees` is None when there is no field value to compare."""

    field: str  # the label of the field the sentence is in: "Description"
    sentence: str  # shortened around what matched
    about: str | None = None  # the label of the field the sentence speaks to: "Liability"
    about_value: Any = None
    agrees: bool | None = None


@dataclass(frozen=True)
class Source:
    field_id: str | None
    field_name: str


@dataclass(frozen=True)
class Proposal:
    """Normalised properties (only usable values) with where each came from and its problems."""

    values: Mapping[str, Any]
    sources: Mapping[str, Source] = field(default_factory=dict)
    problems: Mapping[str, str] = field(default_factory=dict)
    counted: frozenset[str] = frozenset()  # integer properties whose field held a list, counted
    thresholds: Mapping[str, float] = field(default_factory=dict)  # in force; derivations assume them
    site_texts: Mapping[str, str] = field(default_factory=dict)
    placeholders: Mapping[str, str] = field(default_factory=dict)  # what a placeholder value said
    quotes: Mapping[str, Quote] = field(default_factory=dict)  # text signals: the sentence each rests on
    unrecorded: frozenset[str] = frozenset()  # properties this site does not record: never asked for

    def evidence_value(self, prop: str) -> Any:
        """The value as evidence quotes it: an option keeps the site's words."""
        value = self.values.get(prop)
        site_text = self.site_texts.get(prop)
        return SiteOption(value, site_text=site_text) if site_text and isinstance(value, str) else value


def build_proposal(
    ticket: Ticket,
    *,
    field_map: Mapping[str, str],
    vocabulary: Vocabulary,
    thresholds: Mapping[str, float],
    today: date,
    option_aliases: Mapping[str, Mapping[str, str]] | None = None,
    unrecorded: frozenset[str] = frozenset(),
) -> Proposal:
    """Map, normalise and derive every property; a field the ticket does not carry is missing."""
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    problems: dict[str, str] = {}
    site_texts: dict[str, str] = {}
    placeholders: dict[str, str] = {}
    counted: set[str] = set()
    for prop, field_ref in field_map.items():
        spec = vocabulary.properties.get(prop)
        field_id = resolve_field_ref(field_ref, names=ticket.names, ids=ticket.fields)
        sources[prop] = Source(field_id, ticket.names.get(field_id, field_ref) if field_id else field_ref)
        if field_id is None:
            continue
        raw = ticket.fields.get(field_id)
        aliases = (option_aliases or {}).get(prop)
        try:
            value = normalise(raw, spec, aliases=aliases, placeholder=vocabulary.placeholder)
        except ValueError as exc:
            problems[prop] = str(exc)
            if isinstance(exc, PlaceholderValue):
                placeholders[prop] = exc.text
            continue
        if isinstance(value, SiteOption):
            site_texts[prop] = value.site_text
            value = str(value)  # rules (and jsonschema-rs) see a plain string
        if value is not None:
            values[prop] = value
            if isinstance(raw, list) and spec is not None and spec.type == "integer":
                counted.add(prop)
    values.update(derive(values, thresholds=thresholds, today=today))
    return Proposal(
        values=values,
        sources=sources,
        problems=problems,
        counted=frozenset(counted),
        thresholds=dict(thresholds),
        site_texts=site_texts,
        placeholders=placeholders,
        unrecorded=unrecorded,
    )


def resolve_field_ref(field_ref: str, *, names: Mapping[str, str], ids: Collection[str]) -> str | None:
    """The field id an id or a (case-insensitive) display name means; two fields of one name are refused."""
    if field_ref in ids or CUSTOM_FIELD_ID.fullmatch(field_ref):
        return field_ref
    wanted = field_ref.casefold()
    matches = sorted(fid for fid, name in names.items() if name.casefold() == wanted)
    if len(matches) > 1:
        raise ConfigurationError(
            f'{len(matches)} Jira fields are named "{field_ref}" ({", ".join(matches)}): '
            "map the property to one of these ids in [fields] of gonogo.toml"
        )
    return matches[0] if matches else {fid.casefold(): fid for fid in ids}.get(wanted)


def normalise(
    raw: Any,
    spec: PropertySpec | None,
    *,
    aliases: Mapping[str, str] | None = None,
    placeholder: Callable[[str], bool] = lambda _text: False,
) -> Any:
    """One Jira value in the property's type; None means missing, ValueError unusable. Aliases come
    first (an option called "None" is an answer); a placeholder ("TBD") is not a value."""
    value, aliases = _unwrap(raw), aliases or {}
    if _is_empty(value):
        return None
    value = _without_placeholders(value, spec, aliases, placeholder)
    if spec is None:
        return value
    if is_countable(value, spec):
        return _within_limits(len(value), spec)
    if spec.type in ("number", "integer"):
        return _within_limits(_number(value, integer=spec.type == "integer"), spec)
    if spec.type == "date":
        return _date(value)
    if spec.type == "string":
        text = ", ".join(map(str, value)) if isinstance(value, list) else value
        if not isinstance(text, str):
            raise ValueError(f"expected text, found {_describe(value)}")
        if not spec.enum:
            return text.strip()
        # Case, spaces and punctuation do not matter: `Time and Materials` is `time-and-materials`.
        member = aliases.get(option_key(text)) or canonical_option(text)
        if member not in spec.enum:
            choices = f"{', '.join(spec.enum)} (or name it in [values.{spec.name}])"
            raise ValueError(f"{_describe(text)} is not one of: {choices}")
        # The site's own words are what its readers know: "Time and materials", not the value.
        return SiteOption(member, site_text=text.strip()) if text.strip() != member else member
    return value


def _without_placeholders(
    value: Any, spec: PropertySpec | None, aliases: Mapping[str, str], placeholder: Callable[[str], bool]
) -> Any:
    def stands_in(item: Any) -> bool:
        if not isinstance(item, str) or (spec and spec.prose) or not placeholder(item):
            return False
        return not (option_key(item) in aliases or canonical_option(item) in (spec.enum if spec else ()))

    if isinstance(value, list):
        if not (kept := [item for item in value if not stands_in(item)]):
            raise PlaceholderValue(", ".join(map(str, value)))
        return kept
    if stands_in(value):
        raise PlaceholderValue(value)
    return value


def is_countable(value: Any, spec: PropertySpec | None) -> bool:
    """A count held as a list of plain names (eight competitors named): its length is the count."""
    if spec is None or spec.type != "integer" or not isinstance(value, list) or not value:
        return False
    return all(isinstance(item, str) and item.strip() for item in value)


def derive(values: Mapping[str, Any], *, thresholds: Mapping[str, float], today: date) -> dict[str, Any]:
    """The derived properties, exact: a 14.96 % margin must not pass a 15 % floor by rounding."""
    derived: dict[str, Any] = {}
    deadline = values.get("deadline")
    if isinstance(deadline, str):
        derived["days_to_deadline"] = (date.fromisoformat(deadline) - today).days
    effort = values.get("effort_days")
    if isinstance(effort, (int, float)):
        needed = math.ceil(effort * thresholds["bid_days_per_100_effort_days"] / 100)
        derived["bid_days_needed"] = max(math.ceil(thresholds["min_bid_days"]), needed)
    if "days_to_deadline" in derived and "bid_days_needed" in derived:
        derived["deadline_slack_days"] = derived["days_to_deadline"] - derived["bid_days_needed"]
    budget = values.get("budget")
    if isinstance(budget, (int, float)) and isinstance(effort, (int, float)) and effort > 0:
        derived["day_rate"] = budget / effort
        if budget > 0:
            derived["margin_percent"] = (budget - effort * thresholds["cost_per_day"]) / budget * 100
    months = values.get("delivery_months")
    if isinstance(effort, (int, float)) and isinstance(months, (int, float)) and months > 0:
        derived["team_size_needed"] = effort / (months * thresholds["working_days_per_month"])
    return derived


def _unwrap(raw: Any) -> Any:
    """Reduce Jira's option/user/named objects to the text a person sees."""
    if isinstance(raw, list):
        return [item for item in map(_unwrap, raw) if not _is_empty(item)]
    if isinstance(raw, dict):
        for key in ("value", "displayName", "name"):
            if isinstance(raw.get(key), (str, int, float)) and not isinstance(raw.get(key), bool):
                return raw[key]
        raise ValueError(f"expected a plain value, found {_describe(raw)}")
    return raw.strip() if isinstance(raw, str) else raw


def _is_empty(value: Any) -> bool:
    return value is None or value in ("", [], {})


def _number(value: Any, *, integer: bool) -> int | float:
    if isinstance(value, str):
        if (match := _NUMBER_TEXT.fullmatch(value.strip())) is None:
            raise ValueError(f"expected a number, found {_describe(value)}")
        number = match.group("number").rstrip(" \u00a0\u202f")  # "45 %": the space is not a separator
        if not (_PLAIN_NUMBER.fullmatch(number) or _GROUPED_NUMBER.fullmatch(number)):
            raise ValueError(f"{_describe(value)} is not a number gonogo can read unambiguously")
        value = float(re.sub(r"[,'_ \u00a0\u202f]", "", number))
    try:
        finite = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        finite = False
    if not finite:
        raise ValueError(f"expected a number, found {_describe(value)}")
    if integer and value != int(value):
        raise ValueError(f"expected a whole number, found {value:g}")
    return int(value) if integer or float(value).is_integer() else float(value)


def _within_limits(number: int | float, spec: PropertySpec) -> int | float:
    """A value outside what the property can mean (negative effort, 500 % win chance) is unusable."""
    shown = f"{number:,}"
    if spec.minimum is not None and number < spec.minimum:
        raise ValueError(f"{shown} is below the smallest possible value, {spec.minimum:g}")
    if spec.exclusive_minimum is not None and number <= spec.exclusive_minimum:
        raise ValueError(f"{shown} must be more than {spec.exclusive_minimum:g}")
    if spec.maximum is not None and number > spec.maximum:
        raise ValueError(f"{shown} is above the largest possible value, {spec.maximum:g}")
    return number


def _date(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    for pattern in () if len(text) == 10 else _DATETIME_FORMATS:
        with suppress(ValueError):
            return datetime.strptime(text, pattern).date().isoformat()
    try:
        day = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(f"expected a date like 2027-01-31, found {_describe(value)}") from None
    return day.isoformat()


def canonical_option(text: str) -> str:
    """An option's text as a vocabulary value would read: `Time and Materials` → `time-and-materials`."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value[:60]}…"' if len(value) > 60 else f'"{value}"'
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)
