"""`gonogo check TICKET`: assess one ticket, post its comment, print the report."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from gonogo.cli.common import day, logger, more_verbose, today_option, use_colour, verbose_option

if TYPE_CHECKING:
    from gonogo.core.jira_shapes.comment_format import CommentFormat
    from gonogo.core.pipeline.verdict import Verdict
    from gonogo.flows.assessor import Assessor
    from gonogo.flows.check_ticket import CheckResult


@click.command()
@click.argument("ticket")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "jira", "adf"]),
    default="text",
    show_default=True,
    help="text: a report for people; json: the documented JSON document; jira: the comment's wiki "
    "markup (Data Center, REST v2); adf: the comment's Atlassian Document Format (Cloud, REST v3).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Fetch and assess, print the comment that would be posted, change nothing.",
)
@today_option()
@verbose_option
@click.pass_context
def check(
    ctx: click.Context,
    ticket: str,
    output_format: str,
    dry_run: bool,
    today: datetime | None,
    verbose: int,
) -> Verdict:
    """Check TICKET and post (or update) its verdict comment.

    TICKET is an issue key (BID-42), a Jira browse URL, or a JSON file with Jira's issue
    representation (assessed offline, never posted). Exit code: 0 GO, 10 GO WITH CONDITIONS,
    11 NEEDS INFO, 12 NO-GO; 3 configuration, 4 input, 5 Jira error.
    """
    from gonogo.flows.assessor import build_assessor
    from gonogo.flows.check_ticket import check_ticket
    from gonogo.redaction import redact
    from gonogo.sources.config import load_settings
    from gonogo.sources.tickets import parse_ticket_ref

    more_verbose(ctx, verbose)
    settings = load_settings(ctx.obj["config_path"])
    ref = parse_ticket_ref(ticket, jira_url=settings.jira.browse_url)
    assessor = build_assessor(settings)
    result = check_ticket(
        ref,
        assessor=assessor,
        jira=settings.jira,
        today=day(today),
        dry_run=dry_run,
    )
    output, colour = _rendered(
        result,
        assessor,
        output_format=output_format,
        dry_run=dry_run,
        site_format=settings.jira.comment_format,
    )
    click.echo(redact(output), nl=False, color=colour)
    if result.jira_round_trips is not None:
        logger().info("%d Jira round-trips", result.jira_round_trips)
    return result.assessment.verdict


def _rendered(
    result: CheckResult, assessor: Assessor, *, output_format: str, dry_run: bool, site_format: CommentFormat
) -> tuple[str, bool]:
    """Everything to print, rendered before anything is printed (a template error is one line).

    `--format jira`/`adf` print the comment in that format; a dry run shows the format the
    configured site would get (`site_format`).
    """
    from gonogo.core.jira_shapes.comment_format import CommentFormat

    assessment = result.assessment
    if output_format in (CommentFormat.WIKI, CommentFormat.ADF):
        wanted = CommentFormat(output_format)
        if result.comment is not None and result.comment.format is wanted:
            return result.comment.printable(), False
        return assessor.renderer.comment_body(assessment, wanted).printable(), False
    comment = result.comment
    if comment is None and dry_run:
        comment = assessor.renderer.comment_body(assessment, site_format)
    if output_format == "json":
        import json

        from gonogo.redaction import redact_data
        from gonogo.render.check_json import report_document

        document = report_document(
            assessment, publication=result.publication, comment=comment if dry_run else None
        )
        return json.dumps(redact_data(document), indent=2, ensure_ascii=False) + "\n", False
    colour = use_colour()
    output = assessor.renderer.text_report(assessment, color=colour)
    publication = result.publication
    if publication is not None or dry_run:
        from gonogo.render.renderer import Trusted

        output += assessor.renderer.text_page(
            "publication.txt.j2",
            action=publication.action.value if publication is not None else None,
            comment_id=publication.comment_id if publication is not None else None,
            deleted=publication.removed if publication is not None else (),
            key=assessment.ticket_key,
            fetched=result.jira_round_trips is not None,
            # The comment as printed for its format: its own line breaks, values already made safe.
            shown=Trusted(comment.printable() if comment is not None else ""),
        )
    return output, colour
