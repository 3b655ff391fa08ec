"""The command line: options in, exit code out; the work happens in the modules it calls.

All "could not check" problems arrive here as a GonogoError and leave as one line on stderr and
the error's exit code; a verdict leaves as its own exit code (README, "Exit codes").
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from gonogo import __version__
from gonogo.errors import ExitCode, GonogoError
from gonogo.report_formats import REPORT_FORMATS

if TYPE_CHECKING:
    from gonogo.check import CheckResult
    from gonogo.engine import Engine

log = logging.getLogger("gonogo")


class _Redact(logging.Filter):
    """Last line of defence: no log record may carry the API token, whatever formatted it."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self._secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, None
        return True


def _setup_logging(verbose: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("gonogo: %(message)s"))
    handler.addFilter(_Redact([os.environ.get("JIRA_API_TOKEN", "")]))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)


def _fail(error: GonogoError) -> NoReturn:
    message = " ".join(str(error).split())
    click.echo(f"gonogo: error: {message}", err=True)
    sys.exit(error.exit_code)


def _use_colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="gonogo")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="GONOGO_CONFIG",
    help="gonogo.toml to use (default: ./gonogo.toml if present).  [env: GONOGO_CONFIG]",
)
@click.option("-v", "--verbose", count=True, help="Log progress (-v) and each Jira request (-vv) to stderr.")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, verbose: int) -> None:
    """Tell a bid team the truth about a proposal ticket: GO, GO WITH CONDITIONS, NEEDS INFO or NO-GO."""
    _setup_logging(verbose)
    ctx.obj = {"config_path": config_path, "verbose": verbose}


@main.command()
@click.argument("ticket")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "jira"]),
    default="text",
    show_default=True,
    help="text: a report for people; json: the documented JSON document; jira: the comment's wiki markup.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Fetch and assess, print the comment that would be posted, change nothing.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    envvar="GONOGO_TODAY",
    help="Date to count deadlines from (default: today).  [env: GONOGO_TODAY]",
)
@click.option("-v", "--verbose", count=True, help="Same as gonogo -v.")
@click.pass_context
def check(
    ctx: click.Context,
    ticket: str,
    output_format: str,
    dry_run: bool,
    today: datetime | None,
    verbose: int,
) -> None:
    """Check TICKET and post (or update) its verdict comment.

    TICKET is an issue key (BID-42), a Jira browse URL, or a JSON file with Jira's issue
    representation (assessed offline, never posted). Exit code: 0 GO, 10 GO WITH CONDITIONS,
    11 NEEDS INFO, 12 NO-GO; 3 configuration, 4 input, 5 Jira error.
    """
    from gonogo.check import check_ticket
    from gonogo.config import load_settings
    from gonogo.engine import build_engine
    from gonogo.ticket import parse_ticket_ref

    if verbose:
        _setup_logging(ctx.obj["verbose"] + verbose)
    try:
        settings = load_settings(ctx.obj["config_path"])
        ref = parse_ticket_ref(ticket, jira_url=settings.jira.url)
        engine = build_engine(settings)
        result = check_ticket(
            ref,
            engine=engine,
            jira=settings.jira,
            today=today.date() if today else date.today(),
            dry_run=dry_run,
        )
    except GonogoError as error:
        _fail(error)
    _print_result(result, engine, output_format=output_format, dry_run=dry_run)
    if result.jira_round_trips is not None:
        log.info("%d Jira round-trips", result.jira_round_trips)
    sys.exit(result.assessment.verdict.exit_code)


@main.command()
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
    type=click.Path(dir_okay=False, path_type=Path),
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
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    envvar="GONOGO_TODAY",
    help="Date to count deadlines from (default: today).  [env: GONOGO_TODAY]",
)
@click.option("-v", "--verbose", count=True, help="Same as gonogo -v.")
@click.pass_context
def report(
    ctx: click.Context,
    jql: str | None,
    project: str | None,
    output_format: str,
    output: Path | None,
    post: bool,
    concurrency: int,
    max_tickets: int,
    today: datetime | None,
    verbose: int,
) -> None:
    """Assess every ticket a search finds and print one portfolio report, worst first.

    Read-only unless --post. Exit code: 0 when every ticket was checked (and posted, with --post),
    6 when some could not be (they are error rows in the report); 3 configuration, 4 input, 5 Jira
    error for problems that stop the whole run.
    """
    from gonogo.config import load_settings
    from gonogo.engine import build_engine
    from gonogo.report import ReportRequest, project_jql, run_report

    if verbose:
        _setup_logging(ctx.obj["verbose"] + verbose)
    if (jql is None) == (project is None):
        raise click.UsageError("give either --jql or --project (one of them)")
    colour = output is None and output_format == "text" and _use_colour()
    try:
        settings = load_settings(ctx.obj["config_path"])
        request = ReportRequest(
            jql=jql if jql is not None else project_jql(str(project)),
            today=today.date() if today else date.today(),
            post=post,
            concurrency=concurrency,
            max_tickets=max_tickets,
        )
        settings.jira.require_connection()
        engine = build_engine(settings)
        with _ProgressBar(enabled=sys.stderr.isatty() and not ctx.obj["verbose"] + verbose) as progress:
            run = run_report(request, engine=engine, jira=settings.jira, progress=progress)
        document = REPORT_FORMATS[output_format].render(run.portfolio, engine.renderer, colour)
    except GonogoError as error:
        _fail(error)
    if output is None:
        click.echo(document, nl=False, color=colour)
    else:
        try:
            output.write_text(document, encoding="utf-8")
        except OSError as exc:
            click.echo(f"gonogo: error: cannot write {output}: {exc.strerror or exc}", err=True)
            sys.exit(ExitCode.INPUT)
        click.echo(
            f"Wrote the {output_format} report on {run.portfolio.totals.tickets} ticket(s) to {output}."
        )
    log.info("%d tickets, %d Jira round-trips", run.portfolio.totals.tickets, run.jira_round_trips)
    sys.exit(ExitCode.REPORT_FAILED_ROWS if run.portfolio.failed else ExitCode.GO)


class _ProgressBar:
    """The report's progress on stderr when it is a terminal; nothing at all otherwise.

    Workers call `checked` from their threads, so updates go through a lock.
    """

    def __init__(self, *, enabled: bool) -> None:
        import threading

        self._enabled = enabled
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


@main.group()
def checklists() -> None:
    """List, explain and lint checklists (bundled and from [checklists].paths)."""


@checklists.command("list")
@click.pass_context
def checklists_list(ctx: click.Context) -> None:
    """Show every checklist with its version, rule count and source file."""
    from gonogo.authoring import list_checklists
    from gonogo.config import load_settings
    from gonogo.rendering import make_renderer

    try:
        settings = load_settings(ctx.obj["config_path"])
        listed = list_checklists(settings)
        page = make_renderer(settings.template_dir).text_page("checklists-list.txt.j2", listed=listed)
    except GonogoError as error:
        _fail(error)
    click.echo(page, nl=False)


@checklists.command("show")
@click.argument("checklist_id", metavar="ID")
@click.pass_context
def checklists_show(ctx: click.Context, checklist_id: str) -> None:
    """Explain every rule of checklist ID in plain words."""
    from gonogo.authoring import explain_checklist
    from gonogo.config import load_settings
    from gonogo.rendering import make_renderer

    try:
        settings = load_settings(ctx.obj["config_path"])
        checklist, rules = explain_checklist(settings, checklist_id)
        page = make_renderer(settings.template_dir).text_page(
            "checklist-show.txt.j2", checklist=checklist, rules=rules
        )
    except GonogoError as error:
        _fail(error)
    click.echo(page, nl=False)


@checklists.command("schema")
def checklists_schema() -> None:
    """Print the path of the checklist meta-schema (for a checklist's "$schema")."""
    from gonogo.resources import schema_path

    click.echo(schema_path("checklist.schema.json"))


@checklists.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def checklists_lint(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Check checklist files (default: every checklist a check would load).

    Reports every problem as FILE: RULE: MESSAGE and exits with 3 if there is any.
    """
    from gonogo.authoring import lint
    from gonogo.config import load_settings

    try:
        files, problems = lint(load_settings(ctx.obj["config_path"]), list(paths))
    except GonogoError as error:
        _fail(error)
    for problem in problems:
        click.echo(" ".join(str(problem).split()))
    click.echo(f"{files} checklist file(s) checked, {len(problems)} problem(s)", err=True)
    sys.exit(ExitCode.CONFIGURATION if problems else ExitCode.GO)


def _print_result(result: CheckResult, engine: Engine, *, output_format: str, dry_run: bool) -> None:
    from gonogo.json_report import report_document

    assessment = result.assessment
    if output_format == "json":
        document = report_document(
            assessment,
            publication=result.publication,
            comment=result.comment if dry_run else None,
        )
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    if output_format == "jira":
        click.echo(result.comment or engine.renderer.comment(assessment), nl=False)
        return
    colour = _use_colour()
    click.echo(engine.renderer.text_report(assessment, color=colour), nl=False, color=colour)
    if result.publication is not None:
        click.echo(
            f"\n{result.publication.action.value.capitalize()} the verdict comment on "
            f"{assessment.ticket_key} (comment {result.publication.comment_id})."
        )
    elif dry_run and result.comment is not None:
        click.echo(
            f"\nDry run: nothing was changed. This comment would be posted on {assessment.ticket_key}:\n"
        )
        click.echo(result.comment, nl=False)


@main.command()
@click.option("--host", help="Address to listen on (default: [webhook].host or 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: [webhook].port or 8080).")
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Check worker threads (default: [webhook].workers or 4)."
)
@click.option(
    "--allow-unauthenticated",
    is_flag=True,
    default=None,
    help="Listen on a non-loopback address without a webhook secret (an authenticating proxy is in front).",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    envvar="GONOGO_TODAY",
    help="Date to count deadlines from (default: each check's day).  [env: GONOGO_TODAY]",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    workers: int | None,
    allow_unauthenticated: bool | None,
    today: datetime | None,
) -> None:
    """Run the webhook service: POST /webhook, GET /healthz, GET /metrics (README, Webhook service)."""
    from gonogo.config import load_settings
    from gonogo.webhook.service import run_service
    from gonogo.webhook.settings import webhook_settings

    try:
        settings = load_settings(ctx.obj["config_path"])
        webhook = webhook_settings(
            settings,
            os.environ,
            host=host,
            port=port,
            workers=workers,
            allow_unauthenticated=allow_unauthenticated,
        )
        run_service(settings, webhook, today=today.date() if today else None, verbose=ctx.obj["verbose"])
    except GonogoError as error:
        _fail(error)


@main.command("dead-letters")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def dead_letters(ctx: click.Context, output_format: str) -> None:
    """List deliveries whose check kept failing, with the reason (safe while the service runs)."""
    from gonogo.config import load_settings
    from gonogo.webhook.queue import dead_letter_lines, open_queue
    from gonogo.webhook.settings import webhook_settings

    try:
        settings = load_settings(ctx.obj["config_path"])
        queue = open_queue(webhook_settings(settings, os.environ).queue, reader=True)
    except GonogoError as error:
        _fail(error)
    try:
        lines = list(dead_letter_lines(queue.dead_letters()))
    finally:
        queue.close()
    if output_format == "json":
        click.echo(json.dumps(lines, indent=2, ensure_ascii=False))
        return
    if not lines:
        click.echo("No dead letters.")
    for line in lines:
        failed = datetime.fromtimestamp(line["failed_at"]).isoformat(timespec="seconds")
        click.echo(
            f"{failed}  {line['ticket']}  delivery {line['delivery']}  after {line['attempts']} attempt(s)"
        )
        click.echo(f"    {line['reason']}")


def run() -> NoReturn:
    """Entry point that turns anything unexpected into one line instead of a traceback."""
    try:
        main(prog_name="gonogo")
    except KeyboardInterrupt:
        click.echo("gonogo: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line; --verbose twice shows the traceback
        if log.isEnabledFor(logging.DEBUG):
            log.exception("internal error")
        click.echo(
            f"gonogo: internal error ({exc.__class__.__name__}); please report it with the command you ran",
            err=True,
        )
        sys.exit(ExitCode.INTERNAL_ERROR)
    sys.exit(0)
