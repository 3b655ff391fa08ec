"""What a delivery asks for, decided from its bytes alone (the samples are Jira-shaped bodies)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from webhook_helpers import label_edit, sample

from gonogo.webhook.classify import CheckTicket, Filters, Ignore, Malformed, classify, filtered_out

BOT = "712020:0c3b1f2e-bot"
FILTERS = Filters(
    projects=frozenset({"BID"}), issue_types=frozenset({"proposal"}), ignore_accounts=frozenset({BOT})
)
WATCHED = ["customfield_10101", "Customer Decision Maker"]


def decide(data: Any, filters: Filters = FILTERS) -> Any:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return classify(body, filters=filters, watched_fields=WATCHED)


def test_an_issue_created_event_asks_for_a_check_by_key_and_id() -> None:
    assert decide(sample("cloud-issue-created.json")) == CheckTicket("BID-42", "20042", "jira:issue_created")


def test_an_automation_body_asks_for_a_check() -> None:
    assert decide(sample("automation-send-web-request.json")) == CheckTicket("BID-42", "20042", "automation")
    assert decide({"issueKey": "bid-7"}) == CheckTicket("BID-7", None, "automation")
    assert isinstance(decide({"issueKey": "OPS-7"}), Ignore)
    assert isinstance(decide({"issueKey": "BID-7", "issueType": "Bug"}), Ignore)


def test_automations_built_in_issue_data_body_asks_for_a_check_too() -> None:
    issue = sample("cloud-issue-created.json")["issue"]
    issue["id"] = 20042  # Automation's format sends the id as a number
    assert decide(issue) == CheckTicket("BID-42", "20042", "automation")
    issue["fields"]["issuetype"]["name"] = "Bug"
    assert isinstance(decide(issue), Ignore)


def test_updates_count_only_when_switched_on_and_a_field_the_checklists_read_changed() -> None:
    update = sample("cloud-issue-updated-field.json")
    assert isinstance(decide(update), Ignore)
    on = Filters(projects=FILTERS.projects, check_on_update=True, ignore_accounts=FILTERS.ignore_accounts)
    assert decide(update, on) == CheckTicket("BID-42", "20042", "jira:issue_updated")
    unrelated = copy.deepcopy(update)
    unrelated["changelog"]["items"] = [{"field": "labels", "fieldId": "labels", "toString": "x"}]
    assert decide(unrelated, on) == Ignore(
        "jira:issue_updated", "no field the checklists read has changed", "BID-42"
    )


def test_gonogos_own_comment_never_triggers_a_check() -> None:
    bot_comment = sample("cloud-issue-commented-by-bot.json")
    on = Filters(check_on_update=True, ignore_accounts=frozenset({BOT}))
    assert decide(bot_comment, on) == Ignore("jira:issue_updated", "caused by gonogo's own account", "BID-42")
    # Even without knowing the bot's account, a comment event is not a field change.
    anonymous = Filters(check_on_update=True)
    assert decide(bot_comment, anonymous) == Ignore(
        "jira:issue_updated", "a comment event, not a field change", "BID-42"
    )


@pytest.mark.parametrize("odd", [["712020:0c3b1f2e-bot"], {"id": 1}, 42, None])
def test_a_person_named_by_something_other_than_text_is_nobody_gonogo_ignores(odd: Any) -> None:
    """Only text names an account; a list there (no Jira sends one) must not end the delivery in a 500."""
    event = sample("cloud-issue-created.json")
    event["user"] = {"accountId": odd, "name": odd, "key": odd}
    assert decide(event) == CheckTicket("BID-42", "20042", "jira:issue_created")


@pytest.mark.parametrize("after", ["big gonogo-go", "big", "big gonogo-needs-info"])
def test_a_verdict_label_moved_by_a_person_is_rechecked_even_when_no_checklist_reads_labels(
    after: str,
) -> None:
    """A forged gonogo-go (or a removed gonogo-no-go) must not stand: the re-check puts it back."""
    person = sample("cloud-issue-updated-field.json")["user"]  # Dana Reyes, a human account
    body = label_edit(person, before="big gonogo-no-go", after=after)
    for check_on_update in (True, False):  # other updates may be off; a forged verdict is not one
        on = Filters(check_on_update=check_on_update, ignore_accounts=frozenset({BOT}))
        assert classify(body, filters=on, watched_fields=WATCHED, label_prefix="gonogo-") == CheckTicket(
            "BID-42", "20042", "jira:issue_updated"
        )


def test_only_a_verdict_label_counts_as_moved_whatever_else_changed() -> None:
    """A person's own label, or any label while verdict labels are off (prefix ""), is an ordinary
    update: not checked while updates are off."""
    person = sample("cloud-issue-updated-field.json")["user"]
    moved = json.loads(label_edit(person, before="a gonogo-no-go", after="a gonogo-go"))
    moved["changelog"]["items"].insert(0, {"field": "Contract value"})
    body, theirs = json.dumps(moved).encode(), label_edit(person, before="a", after="a gonogo-waive-x")
    off = Filters(ignore_accounts=frozenset({BOT}))
    updates_off = Ignore("jira:issue_updated", "updates are not checked ([webhook].check_on_update is off)")
    assert classify(body, filters=off, label_prefix="gonogo-") == CheckTicket(
        "BID-42", "20042", "jira:issue_updated"
    )
    assert classify(theirs, filters=off, label_prefix="gonogo-") == updates_off
    assert classify(body, filters=off, label_prefix="") == updates_off


def test_a_custom_field_named_labels_moves_no_verdict_label() -> None:
    """Verdict labels live in Jira's labels field (its id); a custom field a site named "Labels" is
    an ordinary update."""
    person = sample("cloud-issue-updated-field.json")["user"]
    edit = json.loads(label_edit(person, before="a", after="a gonogo-go"))
    edit["changelog"]["items"][0]["fieldId"] = "customfield_10900"
    off = Filters(ignore_accounts=frozenset({BOT}))
    assert classify(json.dumps(edit).encode(), filters=off, label_prefix="gonogo-") == Ignore(
        "jira:issue_updated", "updates are not checked ([webhook].check_on_update is off)"
    )


def test_the_echo_of_gonogos_own_label_edit_never_triggers_a_check() -> None:
    """Only gonogo's own account (configured, or the one `gonogo serve` reads from GET myself)."""
    bot = {**sample("cloud-issue-updated-field.json")["user"], "accountId": BOT, "displayName": "gonogo"}
    on = Filters(check_on_update=True, ignore_accounts=frozenset({BOT}))
    body = label_edit(bot, before="big gonogo-go", after="big gonogo-no-go")
    assert classify(body, filters=on, watched_fields=["labels"], label_prefix="gonogo-") == Ignore(
        "jira:issue_updated", "caused by gonogo's own account", "BID-42"
    )
    # The same edit by a person, and a waiver label a person adds, are checked.
    person = sample("cloud-issue-updated-field.json")["user"]
    for body in (
        label_edit(person, before="big gonogo-go", after="big gonogo-no-go"),
        label_edit(person, before="big gonogo-go", after="big gonogo-go gonogo-waive-fixed-price-size"),
    ):
        assert classify(body, filters=on, watched_fields=["labels"], label_prefix="gonogo-") == CheckTicket(
            "BID-42", "20042", "jira:issue_updated"
        )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # The project comes from the issue key only: the fetched ticket settles the rest.
        ({"project": {"key": "OPS"}}, None),
        ({"project": {"key": "<script>"}}, None),
        ({"issuetype": {"name": "Bug"}}, "the issue type is not a proposal type"),
    ],
)
def test_projects_and_issue_types_outside_the_filters_are_ignored(
    change: dict[str, Any], reason: str | None
) -> None:
    event = sample("cloud-issue-created.json")
    event["issue"]["fields"].update(change)
    decision = decide(event)
    if reason is None:
        assert isinstance(decision, CheckTicket)
    else:
        assert decision == Ignore("jira:issue_created", reason, "BID-42")


def test_other_events_are_ignored_and_empty_filters_accept_every_project() -> None:
    assert decide({"webhookEvent": "jira:issue_deleted"}) == Ignore(
        "jira:issue_deleted", "jira:issue_deleted events are not checked"
    )
    ops = sample("cloud-issue-created.json")
    ops["issue"]["key"] = "OPS-1"
    ops["issue"]["fields"]["project"]["key"] = "OPS"
    assert decide(ops, Filters()) == CheckTicket("OPS-1", "20042", "jira:issue_created")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"\xff\xfe",
        b"[1, 2]",
        b'"BID-1"',
        b"[" * 100_000,
        json.dumps({"hello": "world"}).encode(),
        json.dumps({"webhookEvent": 42}).encode(),
        json.dumps({"webhookEvent": "jira:issue_created"}).encode(),
        json.dumps({"webhookEvent": "jira:issue_created", "issue": {"key": "not a key"}}).encode(),
        json.dumps(
            {"webhookEvent": "jira:issue_created", "issue": {"key": "BID-1", "id": "1; DROP"}}
        ).encode(),
        json.dumps({"issueKey": "BID-1/../../admin"}).encode(),
        json.dumps({"issueKey": "BID-1", "issueId": ["1"]}).encode(),
    ],
)
def test_anything_else_is_malformed(body: bytes) -> None:
    assert isinstance(decide(body), Malformed)


def test_urls_and_other_payload_fields_are_never_part_of_the_decision() -> None:
    event = sample("cloud-issue-created.json")
    event["issue"]["self"] = "http://169.254.169.254/latest/meta-data"
    event["issue"]["fields"]["summary"] = "[~admin] {panel}x{panel} http://evil.example/"
    decision = decide(event)
    assert decision == CheckTicket("BID-42", "20042", "jira:issue_created")


def test_the_project_is_the_issue_keys_whatever_the_payload_says_it_is() -> None:
    """A sender cannot talk its way past the project filter with a `fields.project` of its own."""
    event = sample("cloud-issue-created.json")
    event["issue"]["key"] = "HR-7"
    event["issue"]["fields"]["project"] = {"key": "BID"}
    assert decide(event) == Ignore("jira:issue_created", "project HR is not a proposal project", "HR-7")
    issue_data = {"key": "HR-7", "id": "10500", "fields": {"project": {"key": "BID"}}}
    assert decide(issue_data) == Ignore("automation", "project HR is not a proposal project", "HR-7")
    # A key in a proposal project passes; the id it names is checked against the filters once the
    # worker has fetched it (test_webhook_service), since an id may belong to any project.
    assert decide({"issueKey": "BID-1", "issueId": "10500"}) == CheckTicket("BID-1", "10500", "automation")


def test_the_same_filter_rule_serves_the_payload_and_the_fetched_ticket() -> None:
    assert filtered_out("BID", "Proposal", FILTERS) is None
    assert filtered_out("BID", None, FILTERS) is None  # type unknown: left to the fetched ticket
    assert filtered_out("BID", "", FILTERS) == "the issue type is not a proposal type"
    assert filtered_out("BID", "Bug", FILTERS) == "the issue type is not a proposal type"
    assert filtered_out("HR", "Proposal", FILTERS) == "project HR is not a proposal project"
    assert filtered_out("HR", "Bug", Filters()) is None
