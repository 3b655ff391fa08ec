"""`gonogo check`: ticket → proposal → findings → verdict → comment, with Jira at the edges.

The comment is fully rendered before anything is written, so a failure never leaves half a
verdict on a ticket; a ticket read from a file is never posted anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from gonogo.assessment import Assessment
from gonogo.config import JiraSettings
from gonogo.engine import Engine
from gonogo.jira_gateway import JiraGateway
from gonogo.publish import Publication, publish_verdict
from gonogo.ticket import IssueKeyRef, TicketRef, load_ticket_file


@dataclass(frozen=True)
class CheckResult:
    assessment: Assessment
    comment: str
    publication: Publication | None
    jira_round_trips: int | None

    @property
    def offline(self) -> bool:
        return self.jira_round_trips is None


def check_ticket(
    ref: TicketRef,
    *,
    engine: Engine,
    jira: JiraSettings,
    today: date,
    dry_run: bool,
    connect: Callable[[JiraSettings], JiraGateway] = JiraGateway.connect,
) -> CheckResult:
    if not isinstance(ref, IssueKeyRef):
        ticket = load_ticket_file(ref.path)
        assessment = engine.assess(ticket, today=today)
        return CheckResult(assessment, engine.renderer.comment(assessment), None, None)
    gateway = connect(jira)
    ticket = gateway.fetch_ticket(ref.key, fields=engine.fields_to_fetch())
    assessment = engine.assess(ticket, today=today)
    comment = engine.renderer.comment(assessment)
    publication = None
    if not dry_run:
        publication = publish_verdict(
            gateway,
            ticket,
            comment,
            property_key=jira.comment_property,
            verdict=assessment.verdict.value,
        )
    return CheckResult(assessment, comment, publication, gateway.round_trips)
