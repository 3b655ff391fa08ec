"""`gonogo check`: ticket → proposal → findings → verdict → comment, with Jira at the edges.

The comment is fully rendered before anything is written, so a failure never leaves half a
verdict on a ticket; a ticket read from a file is never posted anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from gonogo.core.jira_shapes import site_fields
from gonogo.core.jira_shapes.comment_format import CommentBody, Publication
from gonogo.core.pipeline.findings import Assessment
from gonogo.core.pipeline.inputs_digest import INPUTS_KEY
from gonogo.core.pipeline.ticket import Ticket
from gonogo.core.pipeline.verdict_history import HistoryEntry
from gonogo.core.pipeline.waivers import pointer_keys
from gonogo.flows.assessor import Assessor, proposal_field_refs
from gonogo.render.formats import CheckOutput
from gonogo.sources.config import JiraSettings
from gonogo.sources.tickets import TicketRef, load_ticket_file

if TYPE_CHECKING:
    from gonogo.jira.gateway import JiraGateway


def check_ticket(
    ref: TicketRef,
    *,
    assessor: Assessor,
    today: date,
    dry_run: bool,
    connect: Callable[[JiraSettings], JiraGateway] | None = None,
) -> CheckOutput:
    """Assess the ticket; for a Jira ticket also post the comment unless `dry_run` (`connect`: tests')."""
    jira = assessor.settings.jira
    if not isinstance(ref, str):
        assessment = assessor.assess(load_ticket_file(ref), today=today)
        comment = assessor.renderer.comment_body(assessment, jira.comment_format) if dry_run else None
        return CheckOutput(assessment, None, comment, None)
    if connect is None:
        # The Jira edge is imported when a ticket comes from Jira: with `requests` it adds 0.1 s CPU
        # to a 0.25 s `check FILE` (measured), which never posts.
        from gonogo.jira.gateway import JiraGateway  # noqa: PLC0415

        connect = JiraGateway
    gateway = connect(jira)
    ticket = gateway.fetch_ticket(ref, fields=assessor.fields_to_fetch())
    return assess_and_post(ticket, gateway, assessor=assessor, today=today, dry_run=dry_run)


def assess_and_post(
    ticket: Ticket,
    gateway: JiraGateway,
    *,
    assessor: Assessor,
    today: date,
    dry_run: bool = False,
) -> CheckOutput:
    """Assess a fetched ticket, render its comment, and post or update it unless `dry_run`. A field
    unknown to the site, or none known (gonogo never set up), is an error before anything is written;
    the site's field list is asked for only when the ticket lacks a mapped field."""
    unfound = site_fields.unfound_on_ticket(ticket, assessor.configured_field_refs())
    proposal_fields = proposal_field_refs(assessor.field_map)
    nothing_found = len(site_fields.unfound_on_ticket(ticket, proposal_fields)) == len(proposal_fields)
    if unfound or nothing_found:
        site = gateway.field_names()
        site_fields.require_known_fields(unfound, site)
        site_fields.require_some_known_field(proposal_fields, site, key=ticket.key)
    assessment, proposal = assessor.assess_with_proposal(
        ticket, today=today, group_members=gateway.group_members
    )
    jira = assessor.settings.jira
    body = assessor.renderer.comment_body(assessment, jira.comment_format)
    publication = None
    if not dry_run:
        inputs = assessor.inputs_digest(assessment, proposal)
        publication = post_verdict(assessment, body, ticket, gateway, jira=jira, today=today, inputs=inputs)
    return CheckOutput(assessment, publication, body, gateway.round_trips)


def post_verdict(
    assessment: Assessment,
    comment: CommentBody,
    ticket: Ticket,
    gateway: JiraGateway,
    *,
    jira: JiraSettings,
    today: date,
    inputs: str,
) -> Publication:
    """Post or update the ticket's one verdict comment, with its pointer, label and history entry.
    The pointer keeps the inputs digest, so `report --post` can tell an unchanged ticket up front."""
    from gonogo.jira.sticky_comment import publish_verdict  # noqa: PLC0415 (the Jira edge: see above)

    return publish_verdict(
        gateway,
        ticket,
        comment,
        property_key=jira.comment_property,
        verdict=assessment.verdict.value,
        label_prefix=jira.label_prefix,
        entry=HistoryEntry(today, assessment.verdict, assessment.score),
        extra={**pointer_keys(assessment.waivers_end_on), INPUTS_KEY: inputs},
    )
