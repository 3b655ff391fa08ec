"""A path to GO people can walk: the site's field names and options, who acts, and verdict changes.

On a loopback Jira whose fields have their own names and whose select options read the site's own
way (Capability: Full / Partial / None; Contract form without a plain "Time and materials"), every
`set_to` of a path is written back the way a person would (an option by its name, through `PUT
issue`, which refuses an option the edit screen does not offer) and the ticket is checked again.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import requests
from hostile_corpus import FIELD_NAME, OPTION_VALUE
from jiraserver import JiraServer, JiraUser, running_server
from portfolio_helpers import EXAMPLE_NAMES, env_for, example, seed_portfolio
from realdeps import require_real_or_skip
from support import EXAMPLES, TODAY, Gonogo, comment_words, wiki_comment
from wiki_oracle import live_constructs, oracle_unavailable_reason, render_wiki_to_adf, text_as_typed

from gonogo.core.pipeline.ticket import ticket_from_rest
from gonogo.flows.assessor import build_assessor
from gonogo.sources.config import Settings

# The site's own field names, by the examples' field ids.
SITE_NAMES = {
    "customfield_10101": "Budget (EUR)",
    "customfield_10102": "Proposal due",
    "customfield_10104": "PWin %",
    "customfield_10105": "Estimated Effort (person-days)",
    "customfield_10106": "Known bidders",
    "customfield_10107": "Contract form",
    "customfield_10108": "Capability",
    "customfield_10110": "Liability cap",
    "customfield_10112": "Delivery team free",
    "customfield_10114": "Access to decider",
    "customfield_10115": "Current supplier",
}
# The site's options, and how the examples' option texts read there.
SITE_OPTIONS = {
    "customfield_10107": ["Fixed price", "Capped T&M", "Framework", "Other"],  # no plain T&M on this site
    "customfield_10108": ["Full", "Partial", "None"],
    "customfield_10110": ["Capped", "Unlimited"],
    "customfield_10112": ["Yes", "Partly", "No"],
    "customfield_10114": ["Met", "Introduced", "No contact"],
    "customfield_10115": ["Us", "Nobody", "Another supplier"],
}
TRANSLATED = {
    ("customfield_10107", "Time and materials"): "Capped T&M",
    ("customfield_10108", "Strong"): "Full",
    ("customfield_10112", "Partial"): "Partly",
    ("customfield_10114", "None"): "No contact",
    ("customfield_10115", "None"): "Nobody",
    ("customfield_10115", "Competitor"): "Another supplier",
}
CONFIG = """
[fields]
budget = "Budget (EUR)"
deadline = "Proposal due"
win_probability = "PWin %"
effort_days = "Estimated Effort (person-days)"
competitors = "Known bidders"
contract_type = "Contract form"
capability_fit = "Capability"
liability = "Liability cap"
team_available = "Delivery team free"
decision_maker_access = "Access to decider"
incumbent = "Current supplier"

[values.capability_fit]
"Full" = "strong"

[values.contract_type]
"Capped T&M" = "capped-time-and-materials"

[values.team_available]
"Partly" = "partial"

[values.decision_maker_access]
"No contact" = "none"

[values.incumbent]
"Nobody" = "none"
"Another supplier" = "competitor"
"""
# Vocabulary values this site never uses: none may reach a reader as a value. (A checklist's prose
# may still say "a capped time-and-materials model": that is English, not a value to enter.)
FOREIGN_WORDS = (
    "strong",
    "fixed-price",
    "capped-time-and-materials",
    "Time and materials",
    ": time-and-materials",
)
# Examples (and a few single show-stoppers on the healthy one) whose path needs no missing answer.
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    # Without "fixed price requested" in its text: a description that says fixed price keeps the
    # fixed-price limit whatever the field says (docs/checklists.md), and this case changes the field.
    "conditions": (
        "conditions",
        {"description": "Move the on-premise warehouse to a managed cloud platform."},
    ),
    "commercial-squeeze": ("commercial-squeeze", {}),
    "crowded-field": ("crowded-field", {}),
    "stretched-team": ("stretched-team", {}),
    "unprofitable": ("unprofitable", {}),
    "no-capability": ("healthy", {"customfield_10108": {"value": "None"}}),
    "unlimited": ("healthy", {"customfield_10110": {"value": "Unlimited"}}),
    "low-odds": ("healthy", {"customfield_10104": 5}),
    "late": ("healthy", {"customfield_10102": "2026-11-27"}),
}
SAM = JiraUser(account_id="5b10-sam", display_name="Sam Ode", email="sam@example.com", name="sam.ode")
RIA = JiraUser(account_id="5b10-ria", display_name="Ria Chen", email="ria@example.com", name="ria.chen")


def site_fields(name: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The example's fields as this site holds them: its options spelled the site's way."""
    fields = {k: v for k, v in example(name)["fields"].items() if k != "comment"}
    fields.update(changes)
    for field_id, value in list(fields.items()):
        if isinstance(value, dict) and isinstance(value.get("value"), str):
            text = TRANSLATED.get((field_id, value["value"]), value["value"])
            fields[field_id] = {"value": text}
    return fields


@pytest.fixture(params=["Cloud", "Server"])
def site(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[JiraServer]:
    auth: Any = ("bearer", "pat-site-words") if request.param == "Server" else None
    with running_server(deployment=request.param, **({"auth": auth} if auth else {})) as server:
        names = {**example("healthy")["names"], **SITE_NAMES}
        for number, (case, (name, changes)) in enumerate(CASES.items(), start=1):
            server.add_issue(f"BID-{number}", {**site_fields(name, changes), "summary": case}, names=names)
        unrated = site_fields("healthy", {"customfield_10108": None})  # NEEDS INFO: the fit is not rated
        server.add_issue("BID-20", {**unrated, "summary": "unrated"}, names=names)
        for field_id, options in SITE_OPTIONS.items():
            server.set_field_options(field_id, options)
        (tmp_path / "gonogo.toml").write_text(CONFIG)
        yield server
        assert server.internal_errors == []


@pytest.fixture
def oracle() -> None:
    reason = oracle_unavailable_reason()
    if reason:
        require_real_or_skip(reason)


def check_json(gonogo: Gonogo, server: JiraServer, key: str, *extra: str) -> dict[str, Any]:
    run = gonogo("check", key, "--today", TODAY, "--format", "json", *extra, env=env_for(server))
    assert run.exit_code in (0, 10, 11, 12), run.stderr
    document: dict[str, Any] = json.loads(run.stdout)
    return document


def write_as_a_person(server: JiraServer, key: str, fields: dict[str, Any]) -> requests.Response:
    return requests.put(
        f"{server.url}/rest/api/2/issue/{key}",
        json={"fields": fields},
        headers=server.auth_headers,
        timeout=5,
    )


def test_every_set_to_written_into_the_site_is_accepted_and_turns_the_ticket_go(
    gonogo: Gonogo, site: JiraServer
) -> None:
    names = {**example("healthy")["names"], **SITE_NAMES}
    names_to_ids = {name: field_id for field_id, name in names.items()}
    for number, case in enumerate(CASES, start=1):
        key = f"BID-{number}"
        document = check_json(gonogo, site, key, "--dry-run")
        assert document["verdict"] != "go", case
        steps = document["path_to_go"]
        assert steps, case
        edit: dict[str, Any] = {}
        for step in steps:
            field_id = names_to_ids[step["field"]]  # the path names the site's field
            if field_id in SITE_OPTIONS:
                assert step["set_to"] in SITE_OPTIONS[field_id], (case, step)
                edit[field_id] = {"value": step["set_to"]}
            else:
                edit[field_id] = step["set_to"]
        answer = write_as_a_person(site, key, edit)
        assert answer.status_code == 204, (case, answer.text)
        assert check_json(gonogo, site, key, "--dry-run")["verdict"] == "go", case


def test_an_option_the_edit_screen_does_not_offer_is_never_proposed(gonogo: Gonogo, site: JiraServer) -> None:
    document = check_json(gonogo, site, "BID-1", "--dry-run")  # conditions: fixed price on 600 person-days
    contract = next(s for s in document["path_to_go"] if s["property"] == "contract_type")
    # Time and materials is nearer fixed price in the vocabulary, but this site does not offer it.
    assert (contract["needed"], contract["set_to"], contract["actor"]) == (
        "capped-time-and-materials",
        "Capped T&M",
        "customer",
    )
    assert (
        write_as_a_person(site, "BID-1", {"customfield_10107": {"value": "Time and materials"}}).status_code
        == 400
    )


def test_report_post_proposes_only_options_the_edit_screen_offers(gonogo: Gonogo, site: JiraServer) -> None:
    run = gonogo("report", "--project", "BID", "--post", "--today", TODAY, env=env_for(site))
    assert run.exit_code == 0, run.stderr
    (comment,) = site.comments("BID-1")  # conditions: fixed price on 600 person-days
    body = json.dumps(comment["body"], ensure_ascii=False) if site.deployment == "Cloud" else comment["body"]
    text = body.replace("\u2060", "").replace("\\", "")
    # The edit screen comes with a search too: never the nearer "Time and materials" this site lacks.
    assert "Ask the customer for Contract form: Capped T&M (now Fixed price)" in text
    assert "Time and materials" not in text
    searches = [r for r in site.requests if r.path.endswith(("/search", "/search/jql"))]
    assert searches
    # one more search per page whose tickets get a comment, asking for their edit screens
    assert any("editmeta" in r.query["expand"] for r in searches)
    assert not [r for r in site.requests if r.method == "GET" and "/issue/" in r.path]  # no request more


def test_the_comment_speaks_the_sites_words_and_says_who_acts(gonogo: Gonogo, site: JiraServer) -> None:
    for number, case in enumerate(CASES, start=1):
        run = gonogo(
            "check", f"BID-{number}", "--today", TODAY, "--format", "jira", "--dry-run", env=env_for(site)
        )
        comment = run.stdout.replace("\u2060", "")
        for word in FOREIGN_WORDS:
            assert not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", comment, re.I), (case, word)
        assert "Capability fit:" not in comment, case  # gonogo's field names, not the site's
        assert "Contract type:" not in comment, case
        assert "gonogo check" not in comment
    unrated = gonogo("check", "BID-20", "--today", TODAY, "--format", "jira", "--dry-run", env=env_for(site))
    question = (
        "* Capability: Have we delivered this kind of work before, and how fully? (Full, Partial, None)"
    )
    assert question in unrated.stdout.replace("\u2060", "")
    assert "strong" not in unrated.stdout.casefold()
    conditions = gonogo(
        "check", "BID-1", "--today", TODAY, "--format", "jira", "--dry-run", env=env_for(site)
    )
    text = conditions.stdout.replace("\u2060", "").replace("\\", "")
    assert "Ask the customer for Contract form: Capped T&M (now Fixed price)" in text
    assert "Only if a re-estimate with evidence puts Capability at Full (now Partial)" in text
    assert "Only if a re-estimate with evidence puts PWin % at 30 or more (now 25)" in text
    assert "Bid for a first phase of at most 400 person-days" in text  # the alternative to Capped T&M
    crowded = gonogo("check", "BID-3", "--today", TODAY, "--format", "jira", "--dry-run", env=env_for(site))
    assert (
        "Known bidders 9 (the checks want at most 5) is a market fact: answer it with a differentiator"
        in (crowded.stdout.replace("\u2060", ""))
    )


def test_a_recheck_after_edits_that_flip_the_verdict_says_from_what_since_when_and_who(
    gonogo: Gonogo, site: JiraServer
) -> None:
    key = "BID-8"  # healthy, but the win probability is 5: NO-GO
    first = gonogo("check", key, "--today", "2026-11-20", env=env_for(site))
    assert first.exit_code == 12, first.stderr
    site.change_issue(key, {"customfield_10104": 20}, author=SAM, at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    site.change_issue(
        key, {"customfield_10104": 35}, author=RIA, at=datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
    )
    site.change_issue(key, {"customfield_10106": 2}, author=SAM, at=datetime(2026, 11, 22, 16, 0, tzinfo=UTC))
    again = gonogo("check", key, "--today", "2026-11-23", env=env_for(site))
    assert again.exit_code == 0, again.stderr
    (comment,) = site.comments(key)
    body = json.dumps(comment["body"], ensure_ascii=False) if site.deployment == "Cloud" else comment["body"]
    text = body.replace("\u2060", "").replace("\\", "")
    assert "Was NO-GO on 2026-11-20, GO since 2026-11-23." in text
    assert "PWin % 5 → 35 (Sam Ode, Ria Chen)" in text
    assert "Known bidders 3 → 2 (Sam Ode)" in text
    if site.deployment != "Cloud":
        assert comment_words(comment["body"]) <= 150  # a GO's budget holds with the change line
    document = check_json(gonogo, site, key, "--dry-run")
    assert document["verdict"] == "go"
    # Edits to a market fact took part, so the portfolio does not mark it as moved by estimates alone.
    assert report_change(gonogo, site, key)["estimates_only"] is False
    # A later re-check with no verdict change still says how the GO came about.
    later = gonogo("check", key, "--today", "2026-11-24", "--format", "jira", "--dry-run", env=env_for(site))
    assert "Was NO-GO on 2026-11-20, GO since 2026-11-23." in later.stdout.replace("\u2060", "")


def shifted_comment_adf(gonogo: Gonogo, site: JiraServer, key: str, name: str, option: str) -> Any:
    """The comment after `name` edited PWin and set Delivery team free to `option`, flipping a NO-GO."""
    names = {**example("healthy")["names"], **SITE_NAMES}
    site.add_issue(key, {**site_fields("healthy", {"customfield_10104": 5}), "summary": key}, names=names)
    assert gonogo("check", key, "--today", "2026-11-20", env=env_for(site)).exit_code == 12
    user = JiraUser(account_id=f"5b10-{key}", display_name=name, email=f"{key}@example.com", name=key)
    at = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    edits = {"customfield_10104": 35, "customfield_10112": {"value": option}}
    site.change_issue(key, edits, author=user, at=at)
    assert gonogo("check", key, "--today", "2026-11-23", env=env_for(site)).exit_code != 12
    (comment,) = site.comments(key)
    body = comment["body"]
    return body if isinstance(body, dict) else render_wiki_to_adf([body])[0]


@pytest.mark.usefixtures("oracle")
def test_who_edited_and_what_they_typed_stay_inert_in_the_verdict_change_line(
    gonogo: Gonogo, site: JiraServer
) -> None:
    hostile = shifted_comment_adf(gonogo, site, "BID-31", FIELD_NAME, OPTION_VALUE)
    benign = shifted_comment_adf(gonogo, site, "BID-32", "Sam Ode " * 8, "plain words " * 4)
    assert Counter(live_constructs(hostile)) == Counter(live_constructs(benign))
    seen = text_as_typed(hostile)
    assert f"Yes → {OPTION_VALUE}" in seen
    assert f"({FIELD_NAME})" in seen


@pytest.mark.parametrize(
    ("name", "changed", "budget"), [("doomed", {}, 400), ("conditions", {"customfield_10101": 0}, 200)]
)
def test_a_no_go_keeps_its_word_budget_with_the_verdict_change_line(
    name: str, changed: dict[str, Any], budget: int
) -> None:
    data = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    data["fields"].update(changed)
    history = [{"on": "2026-11-10", "verdict": "go-with-conditions", "score": 80}]
    data["properties"] = {Settings().jira.comment_property: {"commentId": "1", "history": history}}
    edited = ("customfield_10101", "customfield_10104", "customfield_10105")  # 3 fields, as "Sam Ode"
    data["changelog"] = {
        "histories": [
            {
                "id": field_id,
                "author": {"accountId": SAM.account_id, "displayName": SAM.display_name},
                "created": "2026-11-12T10:00:00.000+0000",
                "items": [
                    {
                        "field": data["names"][field_id],
                        "fieldId": field_id,
                        "fromString": "500000",
                        "toString": "0",
                    }
                ],
            }
            for field_id in edited
        ]
    }
    assessor = build_assessor(Settings())
    assessment = assessor.assess(ticket_from_rest(data, origin="test"), today=date(2026, 11, 16))
    comment = wiki_comment(assessor.renderer, assessment)
    assert "Was GO WITH CONDITIONS on 2026-11-10, NO-GO since 2026-11-16." in comment.replace("\u2060", "")
    assert assessment.change is not None
    assert len(assessment.change.edits) == 3
    assert comment_words(comment) <= budget


def report_change(gonogo: Gonogo, server: JiraServer, key: str) -> dict[str, Any]:
    run = gonogo("report", "--project", "BID", "--format", "json", "--today", TODAY, env=env_for(server))
    assert run.exit_code == 0, run.stderr
    (row,) = [t for t in json.loads(run.stdout)["tickets"] if t["key"] == key]
    change: dict[str, Any] = row["change"]
    return change


def test_the_portfolio_marks_a_verdict_moved_by_estimates_alone(gonogo: Gonogo, site: JiraServer) -> None:
    key = "BID-6"  # healthy, but the capability fit is None: NO-GO
    assert gonogo("check", key, "--today", "2026-11-20", env=env_for(site)).exit_code == 12
    site.change_issue(
        key, {"customfield_10108": {"value": "Full"}}, author=SAM, at=datetime(2026, 11, 21, tzinfo=UTC)
    )
    change = report_change(gonogo, site, key)
    assert (change["from"], change["to"], change["estimates_only"]) == ("no-go", "go", True)
    text = gonogo("report", "--project", "BID", "--today", TODAY, env=env_for(site)).stdout
    assert "NO-GO → GO, today, by estimates only" in text


@pytest.mark.parametrize("today", [TODAY, "2027-01-05"])  # later, deadlines have passed
@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_no_comment_has_a_command_a_rule_id_a_negative_spare_or_a_score_beside_no_go(
    name: str, today: str, gonogo: Gonogo
) -> None:
    run = gonogo("check", str(EXAMPLES / f"{name}.json"), "--today", today, "--format", "jira")
    comment = run.stdout.replace("\u2060", "").replace("\\", "")
    assert "gonogo check" not in comment
    assert not re.search(r"\b(doomed|commercial|capability|customer|completeness|strategic)/[a-z-]+", comment)
    assert "Days to spare: -" not in comment
    if run.exit_code in (11, 12):  # NEEDS INFO, NO-GO
        assert "Bid score" not in comment
        assert "/100" not in comment
    if run.exit_code in (0, 12):
        assert comment_words(run.stdout) <= (150 if run.exit_code == 0 else 400)


def test_the_html_report_says_why_bids_fail_in_failure_words_and_shows_go_caveats(
    gonogo: Gonogo, tmp_path: Any
) -> None:
    with running_server(deployment="Cloud") as server:
        seeded = seed_portfolio(server, len(EXAMPLE_NAMES))
        server.add_issue(
            "BID-99", {**server.issue_fields("BID-1"), "summary": "Pay \u202eriTS\u202c now \u2066x\u2069"}
        )
        out = tmp_path / "portfolio.html"
        run = gonogo(
            "report",
            "--project",
            "BID",
            "--today",
            TODAY,
            "--format",
            "html",
            "-o",
            str(out),
            env=env_for(server),
        )
        assert run.exit_code == 0, run.stderr
    page = out.read_text(encoding="utf-8")
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", page)  # neutralised, as in the terminal
    assert "Pay  riTS  now  x " in page
    chart = page[
        page.index('<svg id="failure-chart"') : page.index("</svg>", page.index('<svg id="failure-chart"'))
    ]
    labels = re.findall(r'<text x="0" y="\d+">([^<]+)</text>', chart)
    assert "We have not met the decision maker" in labels  # the failure, not the rule's aim
    failing = len(set(re.findall(r'data-rule="([^"]+)"', page)))
    assert len(labels) == 10 < failing
    assert f"top 10 of {failing} failing rules" in page
    waived_key = next(key for key, name in seeded.items() if name == "waived")
    row = page[page.index(f'data-key="{waived_key}" data-verdict="go"') :]
    row = row[: row.index("</tr>")]
    assert '<span class="kind">Caveats</span>' in row
    assert "(waived)" in row
