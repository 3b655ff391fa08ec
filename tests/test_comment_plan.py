"""The verdict comment's plan of edits, decided on plain data: no Jira, no requests.

The same cases run end to end against the test Jira in test_check_jira.py and
test_sticky_comment_healing.py; here each rule is seen on its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from gonogo.core.jira_shapes.comment_format import CommentAction, CommentBody, CommentFormat
from gonogo.core.pipeline.ticket import Ticket
from gonogo.jira.comment_plan import Facts, Plan, Write, comment_digest, needs_me, plan, read_facts
from gonogo.jira.rest import RemoteComment

PROPERTY = "gonogo.verdict"
BOT = {"accountId": "bot"}
PERSON = {"accountId": "person"}
BODY = CommentBody(CommentFormat.WIKI, "h3. gonogo verdict: GO")


def Comment(comment_id: str, author: str = "accountId:bot") -> RemoteComment:
    return RemoteComment(comment_id, {PROPERTY: {"gonogo": True}}, author)


def seal(issue: str, comment_id: str) -> str:
    return f"seal-{issue}-{comment_id}"


def ticket(
    *, pointer: dict[str, Any] | None = None, embedded: list[dict[str, Any]] | None = None, **more: Any
) -> Ticket:
    fields: dict[str, Any] = {"labels": ["gonogo-go"], **more}
    if embedded is not None:
        fields["comment"] = {"comments": embedded, "total": len(embedded)}
    return Ticket("BID-1", "10000", fields, properties={PROPERTY: pointer} if pointer else {})


def facts_of(ticket: Ticket) -> Facts:
    return read_facts(
        ticket,
        BODY,
        property_key=PROPERTY,
        verdict="go",
        label_prefix="gonogo-",
        entry=None,
        extra={},
        seal=seal,
    )


def standing_pointer(comment_id: str = "7", **changes: Any) -> dict[str, Any]:
    return {
        "commentId": comment_id,
        "verdict": "go",
        "digest": comment_digest(BODY, "go"),
        "seal": seal("10000", comment_id),
        **changes,
    }


def decide(
    facts: Facts, scanned: list[RemoteComment] | None = None, *, pointed_is_own: bool | None = None
) -> Plan:
    trusted = facts.trusted(pointed_is_own)
    return plan(facts, trusted=trusted, scanned=scanned, me="accountId:bot")


def test_a_first_check_on_a_ticket_without_comments_posts_without_reading_any() -> None:
    facts = facts_of(ticket(embedded=[]))
    assert not facts.needs_scan(facts.trusted(None))
    assert decide(facts) == Plan(CommentAction.CREATED, Write.POST, None)


def test_an_unchanged_recheck_writes_nothing() -> None:
    facts = facts_of(ticket(pointer=standing_pointer(), embedded=[{"id": "7", "author": BOT}]))
    assert facts.unchanged
    assert not facts.must_verify
    assert not facts.needs_scan("7")
    assert decide(facts).write is Write.NOTHING


def test_a_changed_text_is_one_edit_through_a_sealed_pointer() -> None:
    facts = facts_of(
        ticket(pointer=standing_pointer(digest="sha256:old"), embedded=[{"id": "7", "author": BOT}])
    )
    assert not facts.must_verify
    assert decide(facts) == Plan(CommentAction.UPDATED, Write.COMMENT, "7")


def test_a_pointer_to_a_deleted_comment_posts_a_new_one_without_trying_the_old() -> None:
    facts = facts_of(ticket(pointer=standing_pointer(), embedded=[{"id": "8", "author": PERSON}]))
    assert facts.known_gone
    assert decide(facts) == Plan(CommentAction.RECREATED, Write.POST, None)


def test_duplicates_of_gonogo_s_comment_are_deleted_and_the_pointed_one_kept() -> None:
    embedded = [{"id": "9", "author": BOT}, {"id": "7", "author": BOT}]
    facts = facts_of(ticket(pointer=standing_pointer(), embedded=embedded))
    assert facts.needs_scan("7")
    assert decide(facts, [Comment("9"), Comment("7")]).own == ("9", "7")


def test_without_a_pointer_the_oldest_gonogo_comment_is_adopted() -> None:
    facts = facts_of(ticket(embedded=[{"id": "9"}, {"id": "7"}]))
    decided = decide(facts, [Comment("9"), Comment("7")])
    assert (decided.write, decided.candidates) == (Write.ADOPT, ("7", "9"))


def test_a_person_s_comment_carrying_gonogo_s_property_is_never_adopted() -> None:
    facts = facts_of(ticket(embedded=[{"id": "7"}]))
    scanned = [Comment("7", author="accountId:person")]
    assert needs_me(scanned, PROPERTY, None)
    assert decide(facts, scanned).write is Write.POST


def test_a_forged_pointer_to_a_person_s_comment_is_distrusted_never_written_through() -> None:
    facts = facts_of(
        ticket(pointer={"commentId": "5", "verdict": "no-go"}, embedded=[{"id": "5"}, {"id": "7"}])
    )
    assert facts.must_verify
    decided = decide(facts, [Comment("5", author="accountId:person"), Comment("7")], pointed_is_own=False)
    assert (decided.write, decided.candidates, decided.distrusted) == (Write.ADOPT, ("7",), True)


def test_a_new_verdict_label_is_news_even_with_the_same_text() -> None:
    facts = facts_of(ticket(pointer=standing_pointer(), embedded=[{"id": "7"}], labels=["gonogo-no-go"]))
    assert not facts.unchanged
    assert not facts.same_text
    assert decide(facts).write is Write.COMMENT


@pytest.mark.parametrize("forged", ["../../BID-2/comment/10001", "10001?x=1", "", "\uff11\uff12", True, 12.0])
def test_a_pointer_naming_anything_but_a_decimal_comment_id_is_no_pointer(forged: object) -> None:
    # A person may set the pointer, and its id goes into request paths.
    assert facts_of(ticket(pointer=standing_pointer(forged))).pointer is None  # type: ignore[arg-type]


def test_a_pointer_may_name_its_comment_by_number() -> None:
    assert facts_of(ticket(pointer={"commentId": 10001})).pointer == "10001"
