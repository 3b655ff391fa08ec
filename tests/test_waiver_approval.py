"""Waivers a bid director can stand behind: approved by an approver, current, and about today's facts.

Every case runs `gonogo check KEY` against the loopback Jira, whose change history records who
added each label and when, exactly as Jira's `expand=changelog` reports it (Cloud by account id,
Data Center by user name).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hostile_corpus import FIELD_NAME_WITH_MACRO, PERSON_NAME
from jiraserver import DIRECTOR_USER, HUMAN_USER, JiraServer, JiraUser, running_server
from realdeps import require_real_or_skip
from support import EXAMPLES, TODAY, Gonogo
from wiki_oracle import live_constructs, oracle_unavailable_reason, render_wiki_to_adf, text_as_typed

from gonogo.core.pipeline.ticket import ticket_from_rest
from gonogo.core.pipeline.waivers import WaiverPolicy, expiry
from gonogo.flows.assessor import build_assessor
from gonogo.sources.config import Settings

DIRECTOR = DIRECTOR_USER
LABELS = [
    "gonogo-waive-win-probability-target",
    "gonogo-waive-commercial.fixed-price-size",
    "gonogo-waive-capability-proven",
]
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # the server's clock on TODAY
PAT = "pat-waivers-0001"


def days_ago(days: int) -> datetime:
    return NOON - timedelta(days=days)


@pytest.fixture(params=["Cloud", "Server"])
def jira(request: pytest.FixtureRequest) -> Iterator[JiraServer]:
    """A Cloud site (account ids) and a Data Center one (user names): both must say the same."""
    auth: Any = ("bearer", PAT) if request.param == "Server" else None
    options = {"auth": auth} if auth else {}
    with running_server(deployment=request.param, now=NOON, **options) as server:
        data = json.loads((EXAMPLES / "waived.json").read_text())
        fields = {k: v for k, v in data["fields"].items() if k != "comment"}
        server.add_issue("BID-7", {**fields, "labels": []}, names=data["names"])
        yield server
        assert server.internal_errors == []


def me(server: JiraServer, user: JiraUser) -> str:
    """How gonogo.toml names a person on this deployment: account id on Cloud, user name on DC."""
    return user.account_id if server.deployment == "Cloud" else user.name


def configure(tmp_path: Path, *, approvers: list[str], max_days: int | None = None) -> None:
    lines = ["[waivers]", f"approvers = {json.dumps(approvers)}"]
    if max_days is not None:
        lines.append(f"max_days = {max_days}")
    (tmp_path / "gonogo.toml").write_text("\n".join(lines) + "\n")


def env(server: JiraServer) -> dict[str, str]:
    if server.deployment == "Cloud":
        email, token = server.basic_auth
        return {"JIRA_URL": server.url, "JIRA_USER": email, "JIRA_API_TOKEN": token}
    return {"JIRA_URL": server.url, "JIRA_API_TOKEN": server.token}


def check(gonogo: Gonogo, server: JiraServer) -> tuple[dict[str, Any], str]:
    """The JSON document of a dry-run check, and the comment it would post (markup noise removed)."""
    run = gonogo("check", "BID-7", "--today", TODAY, "--dry-run", "--format", "json", env=env(server))
    assert run.exit_code in (0, 10), run.stderr
    document = json.loads(run.stdout)
    return document, document["comment"]["body"].replace("\u2060", "").replace("\\", "")


def waivers(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule"]: f["waiver"] for f in document["findings"] if f["waiver"]}


def group_requests(server: JiraServer) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/group/member"))


def test_a_waiver_from_someone_who_may_not_approve_changes_nothing_and_says_who_can(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    configure(tmp_path, approvers=[me(jira, DIRECTOR), "group:bid-board"])
    jira.add_group("bid-board", [DIRECTOR])
    jira.change_issue("BID-7", {"labels": LABELS}, author=HUMAN_USER, at=days_ago(2))

    document, comment = check(gonogo, jira)

    assert document["verdict"] == "go-with-conditions"  # exactly as without the labels
    assert {w["status"] for w in waivers(document).values()} == {"not-approved"}
    target = waivers(document)["win-probability-target"]
    assert (target["by"], target["approved_by"], target["expires_on"]) == ("Alex Reviewer", None, None)
    assert (
        "gonogo-waive-win-probability-target (The chance to win meets our target): requested by "
        "Alex Reviewer, not approved, so the rule still counts. It can be approved by "
        f"{me(jira, DIRECTOR)}, members of the Jira group bid-board" in comment
    )
    assert group_requests(jira) == 1  # three labels by the same person: the group is asked once


def test_approvers_are_named_as_people_know_them_and_only_they_are_told_to_add_the_label(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    """Review 1, finding 10: "approved by 5c22bd9f04f27d44ee9f6a17", and "add the label" to anyone."""
    configure(tmp_path, approvers=[me(jira, DIRECTOR), "group:bid-board"])
    jira.add_group("bid-board", [DIRECTOR])
    jira.change_issue("BID-7", {"summary": "Renamed by the director"}, author=DIRECTOR, at=days_ago(5))
    jira.change_issue("BID-7", {"labels": LABELS[:1]}, author=HUMAN_USER, at=days_ago(2))

    _, comment = check(gonogo, jira)

    assert (
        "It can be approved by Dana Director, members of the Jira group bid-board, by adding the label "
        "themselves." in comment
    )
    assert me(jira, DIRECTOR) not in comment  # the history gave the display name
    hint = (
        "To accept the risk, an approver (Dana Director, members of the Jira group bid-board) adds the label"
    )
    assert hint in comment
    assert "accept the risk, add the label" not in comment
    text = gonogo("check", "BID-7", "--today", TODAY, "--dry-run", env=env(jira)).stdout
    assert "To accept the risk, an approver (Dana Director, members of the Jira group bid-board) adds" in text


def test_an_until_date_beyond_max_days_says_it_was_capped(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    """Review 1, finding 11: the approver's 2027-06-01 became 2026-12-20 without a word."""
    configure(tmp_path, approvers=[me(jira, DIRECTOR)])
    labels = ["gonogo-waive-capability-proven-until-2027-06-01", "gonogo-waive-win-probability-target"]
    jira.change_issue("BID-7", {"labels": labels}, author=DIRECTOR, at=days_ago(3))

    document, comment = check(gonogo, jira)

    assert waivers(document)["capability-proven"]["expires_on"] == "2026-12-20"
    capped = "until 2026-12-20 (the label asked for 2027-06-01; the waivers.max_days setting caps it)"
    assert capped in comment
    assert comment.count("caps it") == 1  # the other waiver had no date of its own to cut
    text = gonogo("check", "BID-7", "--today", TODAY, "--dry-run", env=env(jira)).stdout
    assert capped in text


def test_the_same_label_added_by_an_approver_applies_with_who_when_and_until(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    configure(tmp_path, approvers=[me(jira, DIRECTOR)])
    jira.change_issue("BID-7", {"labels": LABELS}, author=DIRECTOR, at=days_ago(3))

    document, comment = check(gonogo, jira)

    assert document["verdict"] == "go"
    target = waivers(document)["win-probability-target"]
    assert target["status"] == "active"
    assert (target["approved_by"], target["approved_on"], target["expires_on"]) == (
        "Dana Director",
        "2026-11-20",
        "2026-12-20",  # max_days defaults to 30
    )
    # the problem, its label, then one line for waivers approved together (issue 10's word budget)
    assert (
        "Win probability 25%, below the 30% target: waived with label gonogo-waive-win-probability-target"
        in comment
    )
    assert (
        "All 3 were approved by Dana Director on 2026-11-20, until 2026-12-20. Reason: Phase 1 delivered"
        in comment
    )
    assert group_requests(jira) == 0  # named outright: no group to ask


def test_a_member_of_an_approver_group_approves_and_the_group_is_read_once(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    configure(tmp_path, approvers=["group:bid-board"])
    jira.add_group("bid-board", [HUMAN_USER, DIRECTOR])
    jira.change_issue("BID-7", {"labels": LABELS}, author=DIRECTOR, at=days_ago(1))

    document, _ = check(gonogo, jira)

    assert document["verdict"] == "go"
    assert {w["status"] for w in waivers(document).values()} == {"active"}
    assert group_requests(jira) == 1


def test_an_empty_approver_list_lets_anyone_waive_as_before(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    jira.change_issue("BID-7", {"labels": LABELS}, author=HUMAN_USER, at=days_ago(1))

    document, _ = check(gonogo, jira)

    assert document["verdict"] == "go"
    assert waivers(document)["capability-proven"]["approved_by"] == "Alex Reviewer"


def test_no_waiver_label_means_no_group_lookup(gonogo: Gonogo, jira: JiraServer, tmp_path: Path) -> None:
    configure(tmp_path, approvers=["group:bid-board"])
    jira.change_issue("BID-7", {"labels": ["urgent"]}, author=HUMAN_USER, at=days_ago(1))

    document, _ = check(gonogo, jira)

    assert document["verdict"] == "go-with-conditions"
    assert group_requests(jira) == 0


def test_a_waiver_approved_max_days_plus_one_ago_has_expired(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    configure(tmp_path, approvers=[me(jira, DIRECTOR)], max_days=10)
    jira.change_issue("BID-7", {"labels": LABELS}, author=DIRECTOR, at=days_ago(11))

    document, comment = check(gonogo, jira)

    assert document["verdict"] == "go-with-conditions"
    target = waivers(document)["win-probability-target"]
    assert (target["status"], target["approved_on"], target["expires_on"]) == (
        "expired",
        "2026-11-12",
        "2026-11-22",
    )
    assert (
        "gonogo-waive-win-probability-target (The chance to win meets our target): approved by "
        "Dana Director on 2026-11-12, expired after 2026-11-22, so the rule counts again." in comment
    )


def test_on_its_last_day_a_waiver_still_applies(gonogo: Gonogo, jira: JiraServer, tmp_path: Path) -> None:
    configure(tmp_path, approvers=[me(jira, DIRECTOR)], max_days=10)
    jira.change_issue("BID-7", {"labels": LABELS}, author=DIRECTOR, at=days_ago(10))

    document, _ = check(gonogo, jira)

    assert document["verdict"] == "go"
    assert waivers(document)["win-probability-target"]["expires_on"] == TODAY


def test_a_past_until_date_has_expired_and_a_later_one_is_capped_by_max_days(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    configure(tmp_path, approvers=[me(jira, DIRECTOR)], max_days=30)
    labels = [
        "gonogo-waive-win-probability-target-until-2026-11-21",
        "gonogo-waive-capability-proven-until-2027-06-30",
        "gonogo-waive-commercial.fixed-price-size-until-2026-11-31",
    ]
    jira.change_issue("BID-7", {"labels": labels}, author=DIRECTOR, at=days_ago(5))

    document, comment = check(gonogo, jira)

    found = waivers(document)
    assert (found["win-probability-target"]["status"], found["win-probability-target"]["expires_on"]) == (
        "expired",
        "2026-11-21",
    )
    assert (found["capability-proven"]["status"], found["capability-proven"]["expires_on"]) == (
        "active",
        "2026-12-18",  # 30 days after approval, not the far-off until date
    )
    assert found["fixed-price-size"]["status"] == "refused"
    assert "its until date 2026-11-31 is not a date" in found["fixed-price-size"]["refused"]
    assert "expired after 2026-11-21" in comment


def test_a_waiver_whose_rule_input_changed_after_approval_has_lapsed(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    configure(tmp_path, approvers=[me(jira, DIRECTOR)])
    jira.change_issue("BID-7", {"labels": LABELS}, author=DIRECTOR, at=days_ago(6))
    jira.change_issue("BID-7", {"customfield_10109": "Castell Retail Group"}, at=days_ago(5))  # not read
    jira.change_issue("BID-7", {"customfield_10104": 20}, author=HUMAN_USER, at=days_ago(4))

    document, comment = check(gonogo, jira)

    assert document["verdict"] == "go-with-conditions"
    found = waivers(document)
    assert found["win-probability-target"]["status"] == "lapsed-by-change"
    assert found["win-probability-target"]["lapsed_by_change"] == {
        "field": "Win probability",
        "by": "Alex Reviewer",
        "on": "2026-11-19",
    }
    assert found["capability-proven"]["status"] == "active"  # its rule reads nothing that changed
    assert (
        "approved by Dana Director on 2026-11-17, lapsed on 2026-11-19 when Alex Reviewer changed "
        "Win probability: the risk accepted is no longer the one on the ticket." in comment
    )


def test_re_adding_the_label_after_the_change_approves_the_new_facts(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    configure(tmp_path, approvers=[me(jira, DIRECTOR)])
    jira.change_issue("BID-7", {"labels": LABELS}, author=DIRECTOR, at=days_ago(6))
    jira.change_issue("BID-7", {"customfield_10104": 20}, author=HUMAN_USER, at=days_ago(4))
    jira.change_issue("BID-7", {"labels": LABELS[1:]}, author=DIRECTOR, at=days_ago(3))
    jira.change_issue("BID-7", {"labels": LABELS}, author=DIRECTOR, at=days_ago(2))

    document, _ = check(gonogo, jira)

    assert document["verdict"] == "go"
    assert waivers(document)["win-probability-target"]["approved_on"] == "2026-11-21"


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ("approvers = 'dana'", "approvers"),
        ("approvers = ['group:']", "approvers"),
        ("max_days = -1", "max_days"),
        ("max_days = 'soon'", "max_days"),
    ],
)
def test_waiver_settings_are_checked(gonogo: Gonogo, tmp_path: Path, toml: str, says: str) -> None:
    (tmp_path / "gonogo.toml").write_text(f"[waivers]\n{toml}\n")
    run = gonogo("check", str(EXAMPLES / "waived.json"))
    assert run.exit_code == 3
    assert says in run.stderr
    assert "Traceback" not in run.stderr


def test_an_unknown_approver_group_is_a_configuration_error(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    configure(tmp_path, approvers=["group:bid-bored"])
    jira.change_issue("BID-7", {"labels": LABELS}, author=DIRECTOR, at=days_ago(1))

    run = gonogo("check", "BID-7", "--today", TODAY, env=env(jira))

    assert run.exit_code == 3
    assert "group:bid-bored, but Jira has no group of that name" in run.stderr
    assert jira.comments("BID-7") == []  # nothing half-written


def test_expiry_is_the_earlier_of_until_and_max_days() -> None:
    day = date(2026, 11, 1)
    assert expiry(day, None, 30) == date(2026, 12, 1)
    assert expiry(day, date(2026, 11, 5), 30) == date(2026, 11, 5)
    assert expiry(day, date(2027, 1, 5), 30) == date(2026, 12, 1)
    assert expiry(day, None, 0) is None  # 0: no end
    assert expiry(day, date(2027, 1, 5), 0) == date(2027, 1, 5)
    assert expiry(None, None, 30) is None  # the history does not say when: only an until date limits it


def waiver_comment(gonogo: Gonogo, server: JiraServer, tmp_path: Path, name: str, field: str) -> str:
    """The comment posted for a ticket whose waiver lapsed through `field` and another one unapproved."""
    data = json.loads((EXAMPLES / "waived.json").read_text())
    fields = {k: v for k, v in data["fields"].items() if k != "comment"}
    server.add_issue("BID-9", {**fields, "labels": []}, names={**data["names"], "customfield_10104": field})
    person = JiraUser(account_id="712020:hostile", display_name=name, email="h@x.test", name="hostile")
    server.change_issue("BID-9", {"labels": LABELS[:1]}, author=DIRECTOR, at=days_ago(5))
    server.change_issue("BID-9", {"labels": LABELS}, author=person, at=days_ago(4))
    server.change_issue("BID-9", {"customfield_10104": 21}, author=person, at=days_ago(3))
    configure(tmp_path, approvers=[me(server, DIRECTOR)])
    with (tmp_path / "gonogo.toml").open("a") as toml:  # the field's odd name: map it by id
        toml.write('[fields]\nwin_probability = "customfield_10104"\n')
    run = gonogo("check", "BID-9", "--today", TODAY, env=env(server))
    assert run.exit_code == 10, run.stderr
    (comment,) = server.comments("BID-9")
    return str(comment["body"])


def test_names_and_fields_from_the_change_history_are_inert_in_the_comment(
    gonogo: Gonogo, tmp_path: Path
) -> None:
    reason = oracle_unavailable_reason()
    if reason:
        require_real_or_skip(reason)
    with running_server(now=NOON) as hostile_site, running_server(now=NOON) as benign_site:
        hostile = waiver_comment(gonogo, hostile_site, tmp_path, PERSON_NAME, FIELD_NAME_WITH_MACRO)
        benign = waiver_comment(gonogo, benign_site, tmp_path, "Ordinary Person " * 5, "Win probability now")
    hostile_adf, benign_adf = render_wiki_to_adf([hostile, benign])

    assert Counter(live_constructs(hostile_adf)) == Counter(live_constructs(benign_adf))
    seen = text_as_typed(hostile_adf)
    assert f"requested by {PERSON_NAME}, not approved" in seen
    assert f"when {PERSON_NAME} changed {FIELD_NAME_WITH_MACRO}" in seen


def created_with_labels(server: JiraServer, key: str, *, by: JiraUser, days: int) -> None:
    """A ticket created with its waiver labels: no changelog entry says who added them."""
    data = json.loads((EXAMPLES / "waived.json").read_text())
    fields = {k: v for k, v in data["fields"].items() if k != "comment"}
    creator = {"accountId": by.account_id, "name": by.name, "displayName": by.display_name}
    created = (NOON - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    server.add_issue(key, {**fields, "creator": creator, "created": created}, names=data["names"])


def test_labels_set_when_the_ticket_was_created_were_added_by_its_creator_that_day(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    configure(tmp_path, approvers=[me(jira, DIRECTOR)])
    created_with_labels(jira, "BID-70", by=DIRECTOR, days=3)
    created_with_labels(jira, "BID-71", by=DIRECTOR, days=40)

    fresh = json.loads(
        gonogo("check", "BID-70", "--today", TODAY, "--dry-run", "--format", "json", env=env(jira)).stdout
    )
    old = json.loads(
        gonogo("check", "BID-71", "--today", TODAY, "--dry-run", "--format", "json", env=env(jira)).stdout
    )

    assert fresh["verdict"] == "go"
    assert (
        waivers(fresh)["capability-proven"]["approved_by"],
        waivers(fresh)["capability-proven"]["approved_on"],
    ) == (
        "Dana Director",
        "2026-11-20",
    )
    assert old["verdict"] == "go-with-conditions"  # created with the labels 40 days ago: long expired
    assert waivers(old)["capability-proven"]["status"] == "expired"


def test_a_partial_change_history_cannot_vouch_for_who_added_a_label(tmp_path: Path) -> None:
    """Jira pages a long changelog: a label missing from the page shown may have been added by anyone."""
    data = json.loads((EXAMPLES / "waived.json").read_text())
    data["fields"]["creator"] = {"accountId": DIRECTOR.account_id, "displayName": DIRECTOR.display_name}
    data["changelog"] = {"startAt": 0, "maxResults": 0, "total": 250, "histories": []}
    settings = Settings(waivers=WaiverPolicy(approvers=(DIRECTOR.account_id,)))
    assessment = build_assessor(settings).assess(
        ticket_from_rest(data, origin="test"), today=date(2026, 11, 23)
    )

    rulings = {f.rule.id: f.waiver_ruling for f in assessment.findings if f.waiver_ruling}
    assert {r.status.value for r in rulings.values()} == {"not-approved"}
    data["changelog"]["total"] = 0  # the whole history, and the label is not in it: set at creation
    whole = build_assessor(settings).assess(ticket_from_rest(data, origin="test"), today=date(2026, 11, 23))
    assert whole.verdict.value == "go"
