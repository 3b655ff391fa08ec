"""A site with eight bid fields, named its own way: what most real Jira sites look like.

Value, deadline (a date-time field), decision maker, win probability (a text field holding "45 %"),
effort, Competitors as a labels field, and two selects with options of the site's own (Full /
Partial / None; Fixed price / T&M). No liability, team, payment terms, customer, strategy or
waiver reason field. README "Set up on your site" walks this site from setup to a first verdict.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jiraserver import JiraServer, running_server
from support import EXAMPLES

# gonogo's default field name → (this site's field id, its name)
FIELDS = {
    "Contract value": ("customfield_20001", "Deal size"),
    "Submission deadline": ("customfield_20002", "Proposal due date"),
    "Decision maker": ("customfield_20003", "Economic buyer"),
    "Win probability": ("customfield_20004", "PWin"),
    "Effort (person-days)": ("customfield_20005", "Estimated effort"),
    "Competitors": ("customfield_20006", "Competing bidders"),
    "Capability fit": ("customfield_20007", "Capability match"),
    "Contract type": ("customfield_20008", "Commercial model"),
}
OPTIONS = {
    "Capability match": {"strong": "Full", "partial": "Partial", "none": "None"},
    "Commercial model": {"fixed-price": "Fixed price", "time-and-materials": "T&M", "framework": "Framework"},
}
RIVALS = ["Accenture", "Capgemini", "Sopra-Steria", "CGI", "Atos", "Tietoevry", "Netcompany", "Devoteam"]
# What a person who knows the site would write by hand.
HAND_WRITTEN = """\
[fields]
budget = "Deal size"
deadline = "Proposal due date"
decision_maker = "Economic buyer"
win_probability = "PWin"
effort_days = "Estimated effort"
competitors = "Competing bidders"
capability_fit = "Capability match"
contract_type = "Commercial model"
customer = false
liability = false
payment_terms_days = false
team_available = false
delivery_months = false
decision_maker_access = false
incumbent = false
strategic_fit = false
waiver_reason = false

[values.capability_fit]
"Full" = "strong"

[values.contract_type]
"T&M" = "time-and-materials"
"""
# key → (example, changes by gonogo's default field name)
TICKETS: dict[str, tuple[str, dict[str, Any]]] = {
    "BID-1": ("healthy", {}),
    "BID-2": ("healthy", {"Capability fit": "None"}),
    "BID-3": ("conditions", {}),
    "BID-4": ("needs-info", {}),
    "BID-5": ("healthy", {"Submission deadline": None}),
}
VERDICTS = {"BID-1": "go", "BID-2": "no-go", "BID-3": "go-with-conditions", "BID-4": "needs-info"}


def site_ticket(example: str, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """An example ticket as this site holds it: only its eight fields, in its own shapes."""
    data = json.loads((EXAMPLES / f"{example}.json").read_text())
    fields = {fid: v for fid, v in data["fields"].items() if not fid.startswith("customfield_")}
    fields.pop("comment", None)
    names = {}
    for fid, default_name in data["names"].items():
        if default_name not in FIELDS:
            continue
        site_id, site_name = FIELDS[default_name]
        names[site_id] = site_name
        fields[site_id] = _as_site_holds(site_name, changes.get(default_name, data["fields"].get(fid)))
    return fields, names


def _as_site_holds(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in OPTIONS:
        text = value["value"] if isinstance(value, dict) else value
        return {"value": OPTIONS[name][text.casefold().replace(" ", "-")]}
    if name == "Proposal due date":
        return f"{value}T17:00:00.000+0000"
    if name == "PWin":
        return f"{value} %"
    if name == "Competing bidders":
        return RIVALS[:value]
    return value


@contextmanager
def eight_field_site(deployment: str = "Cloud") -> Iterator[JiraServer]:
    auth: Any = ("basic", "bot@example.com", "s3cr3t-t0ken") if deployment == "Cloud" else ("bearer", "pat")
    with running_server(deployment=deployment, auth=auth) as server:
        for key, (example, changes) in TICKETS.items():
            fields, names = site_ticket(example, changes)
            server.add_issue(key, fields, names=names)
        for name, options in OPTIONS.items():
            field_id = next(fid for fid, n in FIELDS.values() if n == name)
            server.set_field_options(field_id, list(options.values()))
        yield server
        assert server.internal_errors == []
