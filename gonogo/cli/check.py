"""`gonogo check TICKET`: assess one ticket, post its comment, print the report."""

from __future__ import annotations

from datetime import date

import click

from gonogo.cli.common import format_option, load, today_option, use_colour, verbose_option
from gonogo.core.pipeline.verdict import Verdict
from gonogo.render.formats import CHECK_FORMATS


@click.command()
@click.argument("ticket")
@format_option(CHECK_FORMATS)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Fetch and assess, print the comment that would be posted, change nothing.",
)
@today_option()
@verbose_option
@click.pass_context
def check(ctx: click.Context, ticket: str, output_format: str, dry_run: bool, today: date | None) -> Verdict:
    """Check TICKET and post (or update) its verdict comment.

    TICKET is an issue key (BID-42), a Jira browse URL, or a JSON file with Jira's issue
    representation (assessed offline, never posted). Exit code: 0 GO, 10 GO WITH CONDITIONS,
    11 NEEDS INFO, 12 NO-GO; 3 configuration, 4 input, 5 Jira error.
    """
    from gonogo.cli.exits import log
    from gonogo.flows.assessor import build_assessor
    from gonogo.flows.check_ticket import check_ticket
    from gonogo.redaction import redact
    from gonogo.sources.tickets import parse_ticket_ref

    settings = load(ctx)
    ref = parse_ticket_ref(ticket, jira_url=settings.jira.browse_url)
    assessor = build_assessor(settings)
    output = check_ticket(ref, assessor=assessor, today=today or date.today(), dry_run=dry_run)
    chosen = CHECK_FORMATS[output_format]
    colour = output_format == "text" and use_colour()
    # Everything is rendered before anything is printed: a template error is one line.
    click.echo(redact(chosen.render(output, assessor.renderer, colour)), nl=False, color=colour)
    if output.jira_round_trips is not None:
        log.info("%d Jira round-trips", output.jira_round_trips)
    return output.assessment.verdict
