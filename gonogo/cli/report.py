"""`gonogo report`: every ticket a search finds, assessed, in one portfolio report."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import IO, TYPE_CHECKING

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
    from gonogo.core.portfolio.rows import build_portfolio
    from gonogo.flows.assessor import build_assessor
    from gonogo.flows.portfolio_run import ReportRequest, project_jql, run_report
    from gonogo.redaction import redact
    from gonogo.render.portfolio_formats import REPORT_FORMATS, STREAMED_FORMATS, csv_section
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
    streamed = STREAMED_FORMATS.get(output_format) if section == "tickets" else None
    with _ProgressLine(enabled=sys.stderr.isatty() and not level) as progress, _Output(output, colour) as out:
        if streamed is not None:  # each ticket's line is written as soon as it is checked
            lines = streamed
            context = build_portfolio(
                (), query=request.jql, today=request.today, site=settings.jira.url, posted=post
            )
            out.write(redact(lines.header))
            run = run_report(
                request,
                assessor=assessor,
                jira=settings.jira,
                progress=progress,
                on_row=lambda row: out.write(redact(lines.line(context, row))),
            )
        else:
            run = run_report(request, assessor=assessor, jira=settings.jira, progress=progress)
            if output_format == "csv":
                out.write(redact(csv_section(run.portfolio, section)))
            else:
                out.write(
                    redact(REPORT_FORMATS[output_format].render(run.portfolio, assessor.renderer, colour))
                )
    if output is not None:
        click.echo(
            f"Wrote the {output_format} report on {run.portfolio.totals.tickets} ticket(s) to {output}."
        )
    logger().info("%d tickets, %d Jira round-trips", run.portfolio.totals.tickets, run.jira_round_trips)
    from gonogo.cli.exits import ExitCode

    return ExitCode.REPORT_FAILED_ROWS if run.portfolio.failed else ExitCode.GO


class _Output:
    """Where the report goes: stdout as it is written, or FILE, which appears only when complete.

    A file is written under a temporary name beside it and renamed at the end, so a run that
    stops half-way leaves no half-written report (stdout has what was written by then).
    """

    def __init__(self, path: str | None, colour: bool) -> None:
        self._path = path
        self._colour = colour
        self._file: IO[str] | None = None

    def __enter__(self) -> _Output:
        if self._path is not None:
            import tempfile
            from pathlib import Path

            target = Path(self._path)
            try:
                self._file = tempfile.NamedTemporaryFile(
                    "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
                )
            except OSError as exc:
                raise InputError(f"cannot write {self._path}: {exc.strerror or exc}") from None
        return self

    def write(self, text: str) -> None:
        if self._file is None:
            click.echo(text, nl=False, color=self._colour)
        else:
            self._file.write(text)

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if self._file is None or self._path is None:
            return
        import os

        self._file.close()
        if kind is not None:
            os.unlink(self._file.name)
            return
        try:
            os.replace(self._file.name, self._path)
        except OSError as error:
            os.unlink(self._file.name)
            raise InputError(f"cannot write {self._path}: {error.strerror or error}") from None


class _ProgressLine:
    """The report's progress on stderr when it is a terminal ("Checked 250 of 1,200 tickets found").

    Cloud's search gives no total, so the count of tickets found grows with the pages.
    """

    def __init__(self, *, enabled: bool) -> None:
        self._enabled = enabled
        self._found = 0
        self._total: int | None = None
        self._checked = 0

    def __enter__(self) -> _ProgressLine:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled and (self._found or self._checked):
            click.echo("", err=True)

    def searching(self, found: int, total: int | None) -> None:
        self._found, self._total = found, total
        self._draw()

    def checked(self) -> None:
        self._checked += 1
        self._draw()

    def _draw(self) -> None:
        if self._enabled:
            of = f"{self._total:,}" if self._total is not None else f"{self._found:,} found so far"
            click.echo(f"\rChecked {self._checked:,} of {of} tickets", nl=False, err=True)
