"""`gonogo report`: every ticket a search finds, assessed, in one portfolio report."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING

import click

from gonogo.cli.common import day, logger, more_verbose, today_option, use_colour, verbose_option
from gonogo.core.errors import InputError
from gonogo.render.portfolio_format_names import CSV_SECTIONS, FORMAT_DESCRIPTIONS

if TYPE_CHECKING:
    from gonogo.cli.exits import ExitCode


@click.command()
@click.option("--jql", help='Tickets to report on, e.g. "project = BID AND statusCategory != Done".')
@click.option(
    "--project", metavar="KEY", help="Shortcut for the project's open tickets (statusCategory != Done)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(FORMAT_DESCRIPTIONS)),
    default="text",
    show_default=True,
    help="; ".join(f"{name}: {text}" for name, text in FORMAT_DESCRIPTIONS.items()) + ".",
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
    default=4,
    show_default=True,
    help="Tickets checked at once; all of them pause together when Jira rate-limits.",
)
@click.option(
    "--max-tickets",
    type=click.IntRange(min=1),
    default=5000,
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
    type=click.Choice(CSV_SECTIONS),
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
) -> ExitCode:
    """Assess every ticket a search finds and print one portfolio report, worst first.

    Read-only unless --post. Exit code: 0 when every ticket was checked (and posted, with --post),
    6 when some could not be (they are error rows in the report); 3 configuration, 4 input, 5 Jira
    error for problems that stop the whole run.
    """
    from gonogo.flows.assessor import build_assessor
    from gonogo.flows.portfolio_run import ReportRequest, project_jql, run_report
    from gonogo.redaction import redact
    from gonogo.render.portfolio_formats import REPORT_FORMATS, csv_section
    from gonogo.sources.config import load_settings

    level = more_verbose(ctx, verbose)
    if (jql is None) == (project is None):
        raise click.UsageError("give either --jql or --project (one of them)")
    if section != "tickets" and output_format != "csv":
        raise click.UsageError("--section chooses a CSV section: add --format csv")
    if outcomes and post:
        raise click.UsageError("--outcomes reports on closed bids and posts nothing: leave out --post")
    colour = output is None and output_format == "text" and use_colour()
    settings = load_settings(ctx.obj["config_path"])
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
    with _ProgressBar(enabled=sys.stderr.isatty() and not level) as progress:
        run = run_report(request, assessor=assessor, jira=settings.jira, progress=progress)
    if output_format == "csv":
        document = redact(csv_section(run.portfolio, section))
    else:
        document = redact(REPORT_FORMATS[output_format].render(run.portfolio, assessor.renderer, colour))
    if output is None:
        click.echo(document, nl=False, color=colour)
    else:
        try:
            with open(output, "w", encoding="utf-8") as target:
                target.write(document)
        except OSError as exc:
            raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None
        click.echo(
            f"Wrote the {output_format} report on {run.portfolio.totals.tickets} ticket(s) to {output}."
        )
    logger().info("%d tickets, %d Jira round-trips", run.portfolio.totals.tickets, run.jira_round_trips)
    from gonogo.cli.exits import ExitCode

    return ExitCode.REPORT_FAILED_ROWS if run.portfolio.failed else ExitCode.GO


class _ProgressBar:
    """The report's progress on stderr when it is a terminal; nothing at all otherwise.

    Workers call `checked` from their threads, so updates go through a lock.
    """

    def __init__(self, *, enabled: bool) -> None:
        self._enabled = enabled
        import threading

        self._lock = threading.Lock()
        self._bar: click._termui_impl.ProgressBar[int] | None = None

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.render_finish()

    def searching(self, found: int, total: int | None) -> None:
        if self._enabled:
            of = f" of {total}" if total is not None else ""
            click.echo(f"\rSearching Jira: {found}{of} tickets found", nl=False, err=True)

    def checking(self, total: int) -> None:
        if self._enabled:
            click.echo("", err=True)
            self._bar = click.progressbar(length=total, label="Checking", file=sys.stderr, show_pos=True)
            self._bar.render_progress()

    def checked(self) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.update(1)
