"""The command line: options in, exit code out; the work happens in the modules it calls.

One module per command; this one holds the `gonogo` group and the entry point. Commands import
their heavy parts (the Jira client, the web server, even `logging` and `pathlib`) only when they
run, so `gonogo --help`, `--version` and shell completion load click and the command table only.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from gonogo import __version__
from gonogo.cli.check import check
from gonogo.cli.checklists import checklists
from gonogo.cli.common import fail, logger, setup_logging
from gonogo.cli.report import report
from gonogo.cli.serve import dead_letters, serve
from gonogo.cli.site import doctor, setup
from gonogo.errors import ExitCode, GonogoError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="gonogo")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="GONOGO_CONFIG",
    help="gonogo.toml to use (default: ./gonogo.toml if present).  [env: GONOGO_CONFIG]",
)
@click.option("-v", "--verbose", count=True, help="Log progress (-v) and each Jira request (-vv) to stderr.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """Tell a bid team the truth about a proposal ticket: GO, GO WITH CONDITIONS, NEEDS INFO or NO-GO."""
    from pathlib import Path  # here, not at the top: --help and --version never get this far

    from gonogo.redaction import remember_environment

    remember_environment(os.environ)
    setup_logging(verbose)
    ctx.obj = {"config_path": Path(config_path) if config_path else None, "verbose": verbose}


for command in (setup, doctor, check, report, checklists, serve, dead_letters):
    main.add_command(command)


def run() -> NoReturn:
    """Entry point that turns anything unexpected into one line instead of a traceback."""
    try:
        # Not click's standalone mode: it turns Ctrl-C into "Aborted!" and exit code 1, and the
        # documented code for an interrupt is 130.
        code = main.main(prog_name="gonogo", standalone_mode=False, terminal_width=_terminal_width())
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("\ngonogo: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.exceptions.ClickException as error:  # usage errors: click's message, click's code
        error.show()
        sys.exit(error.exit_code)
    except GonogoError as error:  # a command that let one through: still one line, still its code
        fail(error)
    except Exception as exc:  # a bug: say so in one line; --verbose twice shows the traceback
        if logger().isEnabledFor(10):  # logging.DEBUG
            logger().exception("internal error")
        click.echo(
            f"gonogo: internal error ({exc.__class__.__name__}); please report it with the command you ran",
            err=True,
        )
        sys.exit(ExitCode.INTERNAL_ERROR)
    sys.exit(code if isinstance(code, int) else 0)


def _terminal_width() -> int:
    """The help pages' width as click works it out, without the `shutil` click would import for it.

    Like `shutil.get_terminal_size`: `COLUMNS`, else the terminal, else 80; then click's own rule
    (at most 78 wide, at least 50).
    """
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else 0
    if not width:
        try:
            width = os.get_terminal_size(sys.__stdout__.fileno() if sys.__stdout__ else 1).columns
        except (OSError, ValueError):
            width = 80
    return max(min(width, 80) - 2, 50)
