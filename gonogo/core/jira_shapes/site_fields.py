"""Is a mapped field on the site at all? A typo in `[fields]` must not read as missing information.
Asked only when a mapped field is not on the ticket: a normal check costs no extra round-trip."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gonogo.core.errors import ConfigurationError
from gonogo.core.pipeline.proposal import resolve_field_ref
from gonogo.core.pipeline.ticket import Ticket
from gonogo.core.vocabulary import PropertySpec

# Jira schema types (`GET field` → schema.type) a property of each vocabulary type can be read from.
# A whole number may be a list's length (labels, multi-select, multi-user, checkboxes: "Competitors"
# naming eight bidders counts eight), as a check reads it (`core.pipeline.proposal.is_countable`).
_SUITABLE_TYPES = {
    "number": {"number", "string", "any"},
    "integer": {"number", "string", "any", "array"},
    "date": {"date", "datetime", "string", "any"},
    "options": {"option", "string", "any"},
    "string": {"string", "option", "user", "any", "array"},
}


@dataclass(frozen=True)
class SiteField:
    """One field as the site describes it; `options` are known only from a ticket's edit metadata."""

    id: str
    name: str
    type: str
    items: str | None = None
    options: tuple[str, ...] = ()

    @property
    def described(self) -> str:
        """How setup and doctor name it: `"Capability" (customfield_10107, option)`."""
        return f'"{self.name}" ({self.id}, {self.type})'


def site_fields_from(listing: Any) -> list[SiteField]:
    """`GET field`'s answer as SiteFields (entries without an id are skipped)."""
    return [_site_field(item) for item in listing if isinstance(item, dict) and "id" in item]


def editable_fields_from(editmeta: Any) -> dict[str, SiteField]:
    """`GET issue/KEY/editmeta`'s fields by id, with the option texts of select fields."""
    fields = editmeta.get("fields") if isinstance(editmeta, dict) else None
    return {
        str(field_id): _site_field({"id": field_id, **item})
        for field_id, item in (fields or {}).items()
        if isinstance(item, dict)
    }


def _site_field(item: Mapping[str, Any]) -> SiteField:
    schema: dict[str, Any] = item["schema"] if isinstance(item.get("schema"), dict) else {}
    items = schema.get("items")
    allowed = item.get("allowedValues")  # a select's options: on the edit screen, not in `GET field`
    return SiteField(
        id=str(item["id"]),
        name=str(item.get("name") or item["id"]),
        type=str(schema.get("type", "any")),
        items=str(items) if items else None,
        options=tuple(
            str(value["value"])
            for value in (allowed if isinstance(allowed, list) else [])
            if isinstance(value, dict) and isinstance(value.get("value"), str)
        ),
    )


def type_problem(spec: PropertySpec, site_field: SiteField) -> str | None:
    """Why this field cannot hold the property's values (a date in a number field…), or None."""
    suitable = _SUITABLE_TYPES.get("options" if spec.enum else spec.type)
    if suitable is None or site_field.type in suitable:
        return None
    wanted = "a select or text" if spec.enum else f"a {spec.type} or text"
    if spec.type == "integer":
        wanted = "a number, text or list"
    return f"{site_field.described} is a {site_field.type} field; {spec.name} needs {wanted} field"


def unfound_on_ticket(ticket: Ticket, refs: Mapping[str, str]) -> dict[str, str]:
    """The property → field mappings whose field this ticket does not carry (by id or name)."""
    unfound: dict[str, str] = {}
    for prop, ref in refs.items():
        field_id = resolve_field_ref(ref, names=ticket.names, ids=ticket.fields)
        if field_id is None or (field_id not in ticket.fields and field_id not in ticket.names):
            unfound[prop] = ref
    return unfound


def unknown_to_site(refs: Mapping[str, str], site: Mapping[str, str]) -> dict[str, str]:
    """The mappings that name no field of the site; `site` is its field id → display name."""
    known = {text.casefold() for text in (*site, *site.values())}
    return {prop: ref for prop, ref in refs.items() if ref.casefold() not in known}


def closest_fields(ref: str, site: Mapping[str, str], *, limit: int = 3) -> list[str]:
    """The site's fields whose names (or ids) read most like `ref`, as `"Name" (id)`."""
    by_text: dict[str, str] = {}
    for field_id, name in sorted(site.items()):
        by_text.setdefault(name.casefold(), field_id)
        by_text.setdefault(field_id.casefold(), field_id)
    close = difflib.get_close_matches(ref.casefold(), list(by_text), n=limit * 2, cutoff=0.6)
    chosen = list(dict.fromkeys(by_text[text] for text in close))[:limit]
    return [f'"{site[field_id]}" ({field_id})' for field_id in chosen]


def require_known_fields(refs: Mapping[str, str], site: Mapping[str, str]) -> None:
    """Raise a ConfigurationError naming each mapping the site does not know, with the closest fields."""
    unknown = unknown_to_site(refs, site)
    if not unknown:
        return
    problems = []
    for prop, ref in unknown.items():
        close = ", ".join(closest_fields(ref, site))
        hint = f"closest: {close}" if close else "gonogo setup --list-fields lists the site's fields"
        problems.append(f'[fields] {prop} = "{ref}" is not a field of this Jira site ({hint})')
    raise ConfigurationError("; ".join(problems) + ": fix [fields] in gonogo.toml")


def require_some_known_field(refs: Mapping[str, str], site: Mapping[str, str], *, key: str) -> None:
    """Refuse a configuration none of whose mapped fields the site has: every ticket would be NEEDS INFO."""
    if refs and len(unknown_to_site(refs, site)) == len(refs):
        raise ConfigurationError(
            f"none of the fields gonogo reads ({', '.join(list(refs.values())[:3])}, ...) is a field "
            f"of this Jira site: run gonogo setup --from {key} --write gonogo.toml to match the site's "
            "own fields"
        )
