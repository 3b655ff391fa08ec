"""`gonogo report`: every ticket a search finds, assessed, in one portfolio report."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import click

from gonogo.cli.common import day, today_option, use_colour, verbose_option
from gonogo.render.formats import CSV_SECTIONS, REPORT_FORMATS

if TYPE_CHECKING:
    from gonogo.cli.exits import FailedRows
    from gonogo.cli.report_output import ProgressLine
    from gonogo.flows.assessor import Assessor
    from gonogo.flows.portfolio_run import ReportRequest, ReportRun
    from gonogo.sources.config import Settings


@click.command()
@click.option("--jql", help='Tickets to report on, e.g. "project = BID AND statusCategory != Done".')
@click.option(
    "--project", metavar="KEY", help="Shortcut for the project's open tickets (statusCategory != Done)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(REPORT_FORMATS)),
    default="text",
    show_default=True,
    help="; ".join(f"{f.name}: {f.description}" for f in REPORT_FORMATS.values()) + ".",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the report to FILE instead of stdout.",
)
@click.option(
    "--post", is_flag=True, help="Also post or update each ticket's verdict comment (as check does)."
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 10),
    default=8,
    show_default=True,
    help="With --post, comments written to Jira at once; all pause together when Jira rate-limits.",
)
@click.option(
    "--max-tickets",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Refuse a query that finds more tickets than this.",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="DATE",
    help="Also list the tickets whose verdict changed on or after DATE (YYYY-MM-DD).",
)
@click.option(
    "--outcomes",
    is_flag=True,
    help="Closed bids: each one's last verdict before it closed against its Outcome field, "
    "with win rates by verdict, score band and rule.",
)
@click.option(
    "--section",
    type=click.Choice(list(CSV_SECTIONS)),
    default="tickets",
    show_default=True,
    help="With --format csv: which section to write, one CSV per section.",
)
@today_option()
@verbose_option
@click.pass_context
def report(
    ctx: click.Context,
    jql: str | None,
    project: str | None,
    output_format: str,
    output: str | None,
    post: bool,
    concurrency: int,
    max_tickets: int,
    since: datetime | None,
    outcomes: bool,
    section: str,
    today: datetime | None,
    verbose: int,
) -> FailedRows:
    """Assess every ticket a search finds and print one portfolio report, worst first.

    Read-only unless --post. Exit code: 0 when every ticket was checked (and posted, with --post),
    6 when some could not be (they are error rows in the report); 3 configuration, 4 input, 5 Jira
    error for problems that stop the whole run.
    """
    # The work is imported when it runs (see gonogo.cli).
    from gonogo.cli.exits import FailedRows
    from gonogo.cli.report_output import ProgressLine, report_file
    from gonogo.cli.runtime import logger, more_verbose
    from gonogo.flows.assessor import build_assessor
    from gonogo.flows.portfolio_run import ReportRequest, project_jql
    from gonogo.sources.config import load_settings

    level = more_verbose(ctx, verbose)
    if (jql is None) == (project is None):
        raise click.UsageError("give either --jql or --project (one of them)")
    if section != "tickets" and output_format != "csv":
        raise click.UsageError("--section chooses a CSV section: add --format csv")
    if outcomes and post:
        raise click.UsageError("--outcomes reports on closed bids and posts nothing: leave out --post")
    colour = output is None and output_format == "text" and use_colour(os.environ)
    settings = load_settings(ctx.obj["config_path"], os.environ)
    request = ReportRequest(
        jql=jql if jql is not None else project_jql(str(project)),
        today=day(today),
        post=post,
        concurrency=concurrency,
        max_tickets=max_tickets,
        since=since.date() if since else None,
        outcomes=outcomes,
    )
    settings.jira.require_connection()
    assessor = build_assessor(settings)
    with (
        ProgressLine(enabled=sys.stderr.isatty() and not level) as progress,
        report_file(output, colour) as write,
    ):
        run = _run(request, settings, assessor, progress, write, output_format, section, colour)
    tickets = run.portfolio.totals.tickets
    if output is not None:
        click.echo(f"Wrote the {output_format} report on {tickets} ticket(s) to {output}.")
    logger().info("%d tickets, %d Jira round-trips", tickets, run.jira_round_trips)
    return FailedRows(run.portfolio.totals.failed)


def _run(
    request: ReportRequest,
    settings: Settings,
    assessor: Assessor,
    progress: ProgressLine,
    write: Callable[[str], object],
    output_format: str,
    section: str,
    colour: bool,
) -> ReportRun:
    """Run the report and write it: a streamed format ticket by ticket, any other at the end."""
    # The work is imported when it runs (see gonogo.cli).
    from gonogo.core.portfolio.rows import build_portfolio
    from gonogo.flows.portfolio_run import run_report
    from gonogo.redaction import redact
    from gonogo.render.formats import csv_section

    chosen = REPORT_FORMATS[output_format]
    line = chosen.line
    if line is None or section != "tickets":
        run = run_report(request, assessor=assessor, jira=settings.jira, progress=progress)
        if section != "tickets":
            write(redact(csv_section(run.portfolio, section)))
        else:
            write(redact(chosen.render(run.portfolio, assessor.renderer, colour)))
        return run
    # Each ticket's line is written as soon as it is checked.
    context = build_portfolio(
        (), query=request.jql, today=request.today, site=settings.jira.browse_url, posted=request.post
    )
    write(redact(chosen.header))
    return run_report(
        request,
        assessor=assessor,
        jira=settings.jira,
        progress=progress,
        on_row=lambda row: write(redact(line(context, row))),
    )
