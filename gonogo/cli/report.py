"""`gonogo report`: every ticket a search finds, assessed, in one portfolio report."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime
from typing import TYPE_CHECKING

import click

from gonogo.cli.common import format_option, load, today_option, use_colour, verbose_option
from gonogo.core.errors import InputError
from gonogo.render.formats import CSV_SECTIONS, REPORT_FORMATS, OutputFormat, csv_section

if TYPE_CHECKING:
    from gonogo.cli.exits import FailedRows
    from gonogo.core.portfolio.rows import Portfolio
    from gonogo.flows.assessor import Assessor
    from gonogo.flows.portfolio_run import ReportRequest, ReportRun


@click.command()
@click.option("--jql", help='Tickets to report on, e.g. "project = BID AND statusCategory != Done".')
@click.option(
    "--project", metavar="KEY", help="Shortcut for the project's open tickets (statusCategory != Done)."
)
@format_option(REPORT_FORMATS)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write the report to FILE instead of stdout."
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
    /,
    jql: str | None,
    project: str | None,
    output_format: str,
    output: str | None,
    since: datetime | None,
    section: str,
    today: date | None,
    post: bool,
    concurrency: int,
    max_tickets: int,
    outcomes: bool,
) -> FailedRows:
    """Assess every ticket a search finds and print one portfolio report, worst first.

    Read-only unless --post. Exit code: 0 when every ticket was checked (and posted, with --post),
    6 when some could not be (they are error rows in the report); 3 configuration, 4 input, 5 Jira
    error for problems that stop the whole run.
    """
    from gonogo.cli.exits import FailedRows, log
    from gonogo.flows.assessor import build_assessor
    from gonogo.flows.portfolio_run import ReportRequest, project_jql

    if (jql is None) == (project is None):
        raise click.UsageError("give either --jql or --project (one of them)")
    if section != "tickets" and output_format != "csv":
        raise click.UsageError("--section chooses a CSV section: add --format csv")
    if outcomes and post:
        raise click.UsageError("--outcomes reports on closed bids and posts nothing: leave out --post")
    colour = output is None and output_format == "text" and use_colour()
    settings = load(ctx)
    request = ReportRequest(
        jql=jql if jql is not None else project_jql(str(project)),
        today=today or date.today(),
        since=since.date() if since else None,
        post=post,
        concurrency=concurrency,
        max_tickets=max_tickets,
        outcomes=outcomes,
    )
    settings.jira.require_connection()
    assessor = build_assessor(settings)
    with (
        ProgressLine() if sys.stderr.isatty() and not ctx.obj["verbose"] else nullcontext() as progress,
        report_file(output, colour) as write,
    ):
        run = _run(request, assessor, progress, write, REPORT_FORMATS[output_format], section, colour)
    tickets = run.portfolio.totals.tickets
    if output is not None:
        click.echo(f"Wrote the {output_format} report on {tickets} ticket(s) to {output}.")
    log.info("%d tickets, %d Jira round-trips", tickets, run.jira_round_trips)
    return FailedRows(run.portfolio.totals.failed)


def _run(
    request: ReportRequest,
    assessor: Assessor,
    progress: ProgressLine | None,
    write: Callable[[str], object],
    chosen: OutputFormat[Portfolio],
    section: str,
    colour: bool,
) -> ReportRun:
    """Run the report and write it: a streamed format ticket by ticket, any other at the end."""
    from gonogo.core.portfolio.rows import build_portfolio
    from gonogo.flows.portfolio_run import run_report
    from gonogo.redaction import redact

    line = chosen.line
    if line is not None and section == "tickets":  # each ticket's line written as soon as it is checked
        site = assessor.settings.jira.browse_url
        context = build_portfolio((), query=request.jql, today=request.today, site=site, posted=request.post)
        write(redact(chosen.render(context, assessor.renderer, colour)))  # the header: no tickets yet
        return run_report(
            request,
            assessor=assessor,
            progress=progress,
            on_row=lambda row: write(redact(line(context, row))),
        )
    done = run_report(request, assessor=assessor, progress=progress)
    if section != "tickets":
        write(redact(csv_section(done.portfolio, section)))
    else:
        write(redact(chosen.render(done.portfolio, assessor.renderer, colour)))
    return done


@contextmanager
def report_file(path: str | None, colour: bool) -> Iterator[Callable[[str], object]]:
    """Where the report goes: stdout as it is written, or FILE, written under a temporary name beside it
    and renamed at the end, so a run that stops half-way leaves no half-written report."""
    import tempfile
    from pathlib import Path

    if path is None:
        yield lambda text: click.echo(text, nl=False, color=colour)
        return
    target = Path(path)
    try:
        file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the `with` around the yield
            "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
        )
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with file:
            yield file.write
    except BaseException:
        os.unlink(file.name)
        raise
    try:
        os.replace(file.name, path)
    except OSError as error:
        os.unlink(file.name)
        raise InputError(f"cannot write {path}: {error.strerror or error}") from None


class ProgressLine(AbstractContextManager["ProgressLine"]):
    """The report's progress on a terminal's stderr ("Checked 250 of 1,200 tickets"), when not -v;
    Cloud's search gives no total, so the count of tickets found grows with the pages."""

    def __init__(self) -> None:
        self._found = self._checked = 0
        self._total: int | None = None

    def __exit__(self, *exc: object) -> None:
        if self._found or self._checked:
            click.echo("", err=True)

    def searching(self, found: int, total: int | None) -> None:
        self._found, self._total = found, total
        self._draw()

    def checked(self) -> None:
        self._checked += 1
        self._draw()

    def _draw(self) -> None:
        of = f"{self._total:,}" if self._total is not None else f"{self._found:,} found so far"
        click.echo(f"\rChecked {self._checked:,} of {of} tickets", nl=False, err=True)
