"""The `gonogo` command line: options in, exit code out (`gonogo.cli.exits`). A command's module declares
its options at its top and imports the work (Jira, the templates, jsonschema) when it runs: `gonogo
--help` loads every command module, and those would triple its time."""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click

from gonogo import __version__
from gonogo.cli.check import check
from gonogo.cli.checklists import checklists
from gonogo.cli.report import report
from gonogo.cli.serve import dead_letters, serve, worker
from gonogo.cli.site import doctor, setup


class GonogoGroup(click.Group):
    """Where a command's outcome becomes the exit code, in `gonogo` and under click's test runner."""

    def invoke(self, ctx: click.Context) -> Any:
        from gonogo.cli.exits import fail, for_result
        from gonogo.core.errors import GonogoError

        try:
            result = super().invoke(ctx)
        except GonogoError as error:
            fail(error, (ctx.obj or {}).get("config_path"))
        ctx.exit(for_result(result))


@click.group(cls=GonogoGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    from gonogo.cli.exits import setup_logging
    from gonogo.redaction import remember_environment

    remember_environment(os.environ)
    setup_logging(verbose)
    ctx.obj = {"config_path": config_path or None, "verbose": verbose}


def _config_after_command(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """`gonogo check BID-1 --config FILE` means what `gonogo --config FILE check BID-1` does."""
    if value is not None:
        ctx.find_root().obj["config_path"] = value


# Every command and subcommand takes the group's --config too, so its place does not matter; one
# option object serves them all (click keeps no per-command state in it).
_CONFIG_AFTER_COMMAND = click.Option(
    ["--config", "config_path"],
    type=click.Path(dir_okay=False),
    expose_value=False,
    is_eager=True,
    callback=_config_after_command,
    help="gonogo.toml to use, as gonogo --config.",
)
for command in (setup, doctor, check, report, checklists, serve, worker, dead_letters):
    main.add_command(command)
    for each in (command, *getattr(command, "commands", {}).values()):
        each.params.append(_CONFIG_AFTER_COMMAND)


def run() -> NoReturn:
    """The `gonogo` entry point: anything unexpected becomes one line instead of a traceback."""
    try:
        # Not click's standalone mode: it turns Ctrl-C into "Aborted!" and exit code 1, and the
        # documented code for an interrupt is 130.
        code = main.main(prog_name="gonogo", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        from gonogo.cli.exits import ExitCode

        click.echo("\ngonogo: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.exceptions.ClickException as error:  # usage errors: click's message, click's code
        error.show()
        sys.exit(error.exit_code)
    except Exception as exc:  # a bug: say so in one line; --verbose twice shows the traceback
        from gonogo.cli.exits import ExitCode, log

        log.debug("internal error", exc_info=True)
        click.echo(
            f"gonogo: internal error ({exc.__class__.__name__}); please report it with the command you ran",
            err=True,
        )
        sys.exit(ExitCode.INTERNAL_ERROR)
    sys.exit(code if isinstance(code, int) else 0)
