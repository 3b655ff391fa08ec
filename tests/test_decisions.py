"""The human decision on record: who decided to bid, against which verdict, on which facts.

Every case runs `gonogo check KEY` against the loopback Jira, whose change history records who
set the decision and when, exactly as `expand=changelog` reports it (Cloud by account id, Data
Center by user name). The verdict never moves: the decision is shown beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jiraserver import BOT_USER, DIRECTOR_USER, HUMAN_USER, JiraServer, JiraUser, running_server
from site_helpers import jira_env as env
from support import EXAMPLES, TODAY, Gonogo, comment_words
from tickets import fields, issue
from webhook_helpers import Service, sample, signed, wait_until

from gonogo.core.jira_shapes.site_fields import SiteField
from gonogo.core.pipeline.decisions import BidDecision, is_against
from gonogo.core.pipeline.verdict import Verdict
from gonogo.flows.site_setup import plan_setup
from gonogo.sources.resources import bundled_vocabulary
from gonogo.webhook.classify import CheckTicket, Filters, Ignore, classify

DECISION_FIELD = "customfield_10195"
REASON_FIELD = "customfield_10196"
NAMES = {**issue("doomed")["names"], DECISION_FIELD: "Bid decision", REASON_FIELD: "Decision reason"}
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # the server's clock on TODAY
PAT = "pat-decisions-0001"


def days_ago(days: int) -> datetime:
    return NOON - timedelta(days=days)


@contextmanager
def seeded(deployment: str, **options: Any) -> Iterator[JiraServer]:
    """The doomed example as BID-7, with a decision field and a decision reason field."""
    if deployment == "Server":
        options["auth"] = ("bearer", PAT)
    with running_server(deployment=deployment, now=NOON, **options) as server:
        data = issue("doomed")
        stored = {k: v for k, v in data["fields"].items() if k != "comment"}
        stored.update({DECISION_FIELD: None, REASON_FIELD: None})
        server.add_issue("BID-7", stored, names=NAMES)
        yield server
        assert server.internal_errors == []


@pytest.fixture(params=["Cloud", "Server"])
def jira(request: pytest.FixtureRequest) -> Iterator[JiraServer]:
    """A Cloud site (account ids) and a Data Center one (user names): both must say the same."""
    with seeded(request.param) as server:
        yield server


@pytest.fixture
def cloud() -> Iterator[JiraServer]:
    with seeded("Cloud") as server:
        yield server


def me(server: JiraServer, user: JiraUser) -> str:
    """How gonogo.toml names a person on this deployment: account id on Cloud, user name on DC."""
    return user.account_id if server.deployment == "Cloud" else user.name


def configure(tmp_path: Path, owners: list[str]) -> None:
    (tmp_path / "gonogo.toml").write_text(f"[decisions]\nowners = {json.dumps(owners)}\n")


def check(gonogo: Gonogo, server: JiraServer) -> tuple[dict[str, Any], str]:
    """The JSON document of a dry-run check, and the wiki comment it would post, as a reader sees it."""
    run = gonogo("check", "BID-7", "--today", TODAY, "--dry-run", "--format", "json", env=env(server))
    assert run.exit_code == 12, run.stderr  # NO-GO, whatever anyone decided
    document = json.loads(run.stdout)
    return document, document["comment"]["body"].replace("\u2060", "").replace("\\", "")


def decide_in_field(server: JiraServer, who: JiraUser, when: datetime, reason: str = "") -> None:
    change = changed(
        decision={"value": "Bid", "id": "12100"}, **({"decision_reason": reason} if reason else {})
    )
    server.change_issue("BID-7", change, author=who, at=when)


def changed(**properties: Any) -> dict[str, Any]:
    """A change of BID-7's fields, by property name."""
    return fields(NAMES, **properties)


def test_a_decision_by_an_owner_shows_who_when_and_why_beside_the_unchanged_verdict(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    configure(tmp_path, [me(jira, DIRECTOR_USER)])
    # two people change the ticket on different days: the last one to set the decision decided
    jira.change_issue("BID-7", changed(win_probability=12), author=HUMAN_USER, at=days_ago(9))
    decide_in_field(jira, DIRECTOR_USER, days_ago(3), reason="Strategic account.")

    document, comment = check(gonogo, jira)

    assert document["verdict"] == "no-go"
    assert document["decision"] == {
        "decision": "bid",
        "source": "field",
        "where": "Bid decision",
        "by": "Dana Director",
        "on": "2026-11-20",
        "reason": "Strategic account.",
        "counts": True,
        "against_verdict": True,
        "older_facts": None,
        "owners": [],
    }
    assert "account.." not in comment  # the reason's own full stop is not doubled
    assert (
        "Decision: BID, by Dana Director on 20 Nov 2026, against this NO-GO. Reason: Strategic account."
        in comment
    )
    assert "gonogo verdict: NO-GO" in comment


def test_a_decision_label_by_someone_who_is_not_an_owner_is_shown_and_does_not_count(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    configure(tmp_path, [me(jira, DIRECTOR_USER)])
    jira.change_issue("BID-7", changed(win_probability=12), author=DIRECTOR_USER, at=days_ago(9))
    jira.change_issue("BID-7", {"labels": ["gonogo-decision-bid"]}, author=HUMAN_USER, at=days_ago(2))

    document, comment = check(gonogo, jira)

    decision = document["decision"]
    assert (decision["source"], decision["where"], decision["by"], decision["on"]) == (
        "label",
        "gonogo-decision-bid",
        "Alex Reviewer",
        "2026-11-21",
    )
    assert (decision["counts"], decision["owners"]) == (False, ["Dana Director"])
    assert (
        "Decision: BID, recorded by Alex Reviewer on 21 Nov 2026, who is not a decision owner, so it "
        "does not count. Decision owners: Dana Director." in comment
    )
    assert "against this NO-GO" not in comment


def test_a_change_to_a_field_the_checks_read_after_the_decision_marks_it_as_made_on_older_facts(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    configure(tmp_path, [me(jira, DIRECTOR_USER)])
    decide_in_field(jira, DIRECTOR_USER, days_ago(6), reason="Strategic account.")
    jira.change_issue("BID-7", changed(win_probability=12), author=HUMAN_USER, at=days_ago(4))
    jira.change_issue("BID-7", changed(competitors=9), author=HUMAN_USER, at=days_ago(1))
    jira.change_issue("BID-7", {"summary": "Renamed"}, author=HUMAN_USER, at=NOON)  # no check reads it

    document, comment = check(gonogo, jira)

    field = "Competitors"
    assert document["decision"]["older_facts"] == {"field": field, "by": "Alex Reviewer", "on": "2026-11-22"}
    assert document["decision"]["counts"] is True
    assert (
        f"Made on older facts: {field} changed by Alex Reviewer on 22 Nov 2026, after the decision."
        in comment
    )


def test_without_owners_anyone_decides_and_the_latest_recording_is_the_decision(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    decide_in_field(jira, DIRECTOR_USER, days_ago(6))
    jira.change_issue("BID-7", {"labels": ["gonogo-decision-no-bid"]}, author=HUMAN_USER, at=days_ago(2))

    document, comment = check(gonogo, jira)

    assert (document["decision"]["decision"], document["decision"]["by"]) == ("no-bid", "Alex Reviewer")
    assert document["decision"]["counts"] is True
    assert document["decision"]["against_verdict"] is False  # holding back on a NO-GO
    assert "Decision: NO BID, by Alex Reviewer on 21 Nov 2026, in line with this NO-GO." in comment
    assert "Reason: none recorded." in comment


def test_a_ticket_without_a_decision_says_nothing_about_one(gonogo: Gonogo, jira: JiraServer) -> None:
    document, comment = check(gonogo, jira)
    assert document["decision"] is None
    assert "Decision:" not in comment


def test_the_decision_keeps_a_one_show_stopper_no_go_within_its_word_budget(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    """The comment budgets (tests/test_comment_truth.py) hold with a decision and its older facts."""
    configure(tmp_path, [me(jira, DIRECTOR_USER)])
    conditions = json.loads((EXAMPLES / "conditions.json").read_text())["fields"]
    jira.change_issue(
        "BID-7",
        {k: v for k, v in conditions.items() if k.startswith("customfield_")} | changed(budget=0),
        author=HUMAN_USER,
        at=days_ago(10),
    )
    decide_in_field(jira, DIRECTOR_USER, days_ago(6), reason="Strategic account, worth the risk.")
    jira.change_issue("BID-7", changed(competitors=9), author=HUMAN_USER, at=days_ago(1))
    run = gonogo("check", "BID-7", "--today", TODAY, "--dry-run", "--format", "json", env=env(jira))
    document = json.loads(run.stdout)
    blockers = [f for f in document["findings"] if f["outcome"] == "failed" and f["severity"] == "blocker"]
    assert len(blockers) == 1
    assert document["decision"]["older_facts"] is not None
    assert comment_words(document["comment"]["body"]) <= 200


def test_a_long_reason_is_shortened_in_the_comment_only(gonogo: Gonogo, jira: JiraServer) -> None:
    """People's reason is quoted, not their minutes: the comment keeps its word budget."""
    reason = "Strategic account, worth the risk. " * 30
    decide_in_field(jira, DIRECTOR_USER, days_ago(3), reason=reason)

    document, comment = check(gonogo, jira)
    report = gonogo("check", "BID-7", "--today", TODAY, "--dry-run", env=env(jira)).stdout

    assert document["decision"]["reason"] == reason.strip()
    (sentence,) = [line for line in comment.splitlines() if line.startswith("Decision: BID")]
    assert sentence.endswith("worth the risk. Strategic account,…")
    assert comment_words(sentence) < 40
    assert " ".join(report.split()).count("Strategic account, worth the risk.") == 30


def test_a_decision_whose_author_the_history_no_longer_shows_is_not_said_to_be_a_non_owners(
    gonogo: Gonogo, tmp_path: Path
) -> None:
    """Jira sends only the latest changelog entries: who set the field long ago is then unknown."""
    with seeded("Cloud", changelog_cap=1) as jira:
        configure(tmp_path, [me(jira, DIRECTOR_USER)])
        decide_in_field(jira, DIRECTOR_USER, days_ago(6))
        jira.change_issue("BID-7", {"summary": "Renamed"}, author=HUMAN_USER, at=days_ago(1))

        document, comment = check(gonogo, jira)

    assert (document["decision"]["by"], document["decision"]["counts"]) == (None, False)
    assert (
        "Decision: BID, recorded by someone the change history does not name, so it does not count. "
        f"Decision owners: {DIRECTOR_USER.account_id}." in comment
    )


@pytest.mark.parametrize(
    ("decision", "against"),
    [
        (BidDecision.BID, {Verdict.NO_GO}),
        (BidDecision.NO_BID, {Verdict.GO, Verdict.GO_WITH_CONDITIONS}),
    ],
)
def test_a_decision_is_against_a_clear_verdict_only(decision: BidDecision, against: set[Verdict]) -> None:
    """NEEDS INFO is no verdict to go against; a bid is against NO-GO only, a no bid against a GO."""
    assert {v for v in Verdict if is_against(decision, v)} == against


# --- the service re-checks on a decision change, never on its own writes ----------------------------


CHECKED = ("posted", "unchanged", "dead_letter")  # what a check's delivery line ends with


def decision_event(key: str, issue_id: str | None, user: JiraUser, items: list[dict[str, Any]]) -> bytes:
    """Jira Cloud's `issue_updated` for a change by `user` (the samples' shape) with these items."""
    data = sample("cloud-issue-updated-field.json")
    data["issue"]["key"], data["issue"]["id"] = key, issue_id
    data["user"] = {**data["user"], "accountId": user.account_id, "displayName": user.display_name}
    data["changelog"]["items"] = items
    return json.dumps(data).encode()


def labels_item(before: str, after: str) -> dict[str, Any]:
    return {"field": "labels", "fieldId": "labels", "fromString": before, "toString": after}


def test_a_decision_change_is_rechecked_even_with_updates_off_and_gonogos_own_echo_is_not() -> None:
    watched = ["customfield_10101"]
    decided = ["Bid decision", "Decision reason"]
    off = Filters(ignore_accounts=frozenset({BOT_USER.account_id}))

    def verdict(body: bytes) -> object:
        return classify(
            body, filters=off, watched_fields=watched, label_prefix="gonogo-", decision_fields=decided
        )

    by_label = decision_event(
        "BID-7", "10007", DIRECTOR_USER, [labels_item("big", "big gonogo-decision-bid")]
    )
    assert verdict(by_label) == CheckTicket("BID-7", "10007", "jira:issue_updated")
    in_field = {"field": "Bid decision", "fieldId": DECISION_FIELD, "fromString": "", "toString": "Bid"}
    assert verdict(decision_event("BID-7", "10007", HUMAN_USER, [in_field])) == CheckTicket(
        "BID-7", "10007", "jira:issue_updated"
    )
    reason = {"field": "Decision reason", "fieldId": REASON_FIELD, "fromString": "", "toString": "Why"}
    assert isinstance(verdict(decision_event("BID-7", "10007", HUMAN_USER, [reason])), CheckTicket)
    other = decision_event("BID-7", "10007", HUMAN_USER, [labels_item("big", "big small")])
    assert isinstance(verdict(other), Ignore)  # any other label: updates are off
    wrote = labels_item("gonogo-decision-bid", "gonogo-decision-bid gonogo-no-go")
    echo = decision_event("BID-7", "10007", BOT_USER, [wrote])
    assert verdict(echo) == Ignore("jira:issue_updated", "caused by gonogo's own account", "BID-7")


def test_the_service_rechecks_once_on_a_decision_and_never_on_its_own_label_write(
    tmp_path: Path, cloud: JiraServer
) -> None:
    """check_on_update stays off: a decision is re-checked like a moved verdict label."""
    jira = cloud
    owners = f'[decisions]\nowners = ["{DIRECTOR_USER.account_id}"]\n'
    service = Service(tmp_path / "svc", jira, webhook='projects = ["BID"]\n')
    service.config.write_text(service.config.read_text() + owners)
    service.start()
    try:
        jira.change_issue("BID-7", {"labels": ["gonogo-decision-bid"]}, author=DIRECTOR_USER, at=days_ago(1))
        body = decision_event("BID-7", None, DIRECTOR_USER, [labels_item("", "gonogo-decision-bid")])
        assert service.post(body, signed(body, "decided")).json()["outcome"] == "queued"
        wait_until(lambda: bool(jira.comments("BID-7")), timeout=20, what="the comment")
        wait_until(service.idle, timeout=10, what="the check")
        comment = jira.comments("BID-7")[0]["body"].replace("\u2060", "").replace("\\", "")
        assert "Decision: BID, by Dana Director on 22 Nov 2026, against this NO-GO." in comment
        assert jira.issue_fields("BID-7")["labels"] == ["gonogo-decision-bid", "gonogo-no-go"]

        # gonogo's own label write comes back as a webhook: not anyone's decision, not checked
        wrote = labels_item("gonogo-decision-bid", "gonogo-decision-bid gonogo-no-go")
        echo = decision_event("BID-7", None, BOT_USER, [wrote])
        answer = service.post(echo, signed(echo, "echo")).json()
        assert (answer["outcome"], answer["reason"]) == ("ignored", "caused by gonogo's own account")
        wait_until(service.idle, timeout=10, what="the queue to settle")
    finally:
        service.stop()
    checks = [line for line in service.delivery_lines() if line.get("outcome") in CHECKED]
    assert [(line["ticket"], line["outcome"]) for line in checks] == [("BID-7", "posted")]
    reads = [r for r in jira.requests if r.method == "GET" and r.path.endswith("/issue/BID-7")]
    assert len(reads) == 1


# --- setup finds a decision field; doctor proves the owners exist -----------------------------------


def test_setup_finds_a_decision_field_and_reads_its_options_in_the_sites_words() -> None:
    site = [
        SiteField("customfield_10103", "Economic buyer", "string"),
        SiteField("customfield_10301", "Bid/No-bid decision", "option"),
        SiteField("customfield_10302", "Decision rationale", "string"),
    ]
    editable = {"customfield_10301": replace(site[1], options=("Go", "No go"))}
    plan = plan_setup(bundled_vocabulary(), site, editable)
    chosen = {m.spec.name: m.field.id for m in plan.matched if m.field is not None}
    assert chosen["decision"] == "customfield_10301"
    assert chosen["decision_reason"] == "customfield_10302"
    assert chosen["decision_maker"] == "customfield_10103"  # not taken for the decision
    (options,) = [o for o in plan.options if o.spec.name == "decision"]
    assert options.aliases == (("Go", "bid"), ("No go", "no-bid"))


def test_a_site_without_a_decision_field_gets_no_todo_for_one() -> None:
    site = [
        SiteField("customfield_10103", "Decision maker", "string"),
        SiteField("description", "Description", "string"),
    ]
    plan = plan_setup(bundled_vocabulary(), site)
    absent = {m.spec.name for m in plan.unmatched if m.spec.optional and not m.candidates}  # a note, no TODO
    assert {"decision", "decision_reason"} <= absent


def test_doctor_looks_up_every_decision_owner(gonogo: Gonogo, jira: JiraServer, tmp_path: Path) -> None:
    jira.add_group("bid-board", [DIRECTOR_USER])
    configure(tmp_path, [me(jira, DIRECTOR_USER), "ghost.owner", "group:bid-board"])
    run = gonogo("doctor", env=env(jira))
    lines = run.stdout.splitlines()
    assert run.exit_code == 3, run.stdout
    assert "ok   decisions: 3 decision owners may record the bid decision" in lines
    assert f"ok   decision owner {me(jira, DIRECTOR_USER)}: Jira knows Dana Director" in lines
    assert any(line.startswith("ok   decision owner group:bid-board: ") for line in lines)
    assert (
        "FAIL decision owner ghost.owner: Jira has no user ghost.owner (Cloud names people by account id, "
        "Data Center by user name) (fix: correct it in [decisions].owners)"
    ) in lines
