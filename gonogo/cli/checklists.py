"""`gonogo checklists list | show | schema | lint`: for people who write checklists."""

from __future__ import annotations

import sys

import click

from gonogo.cli.common import fail
from gonogo.errors import ExitCode, GonogoError


@click.group()
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
        fail(error)
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
        fail(error)
    click.echo(page, nl=False)


@checklists.command("schema")
def checklists_schema() -> None:
    """Print the path of the checklist meta-schema (for a checklist's "$schema")."""
    from gonogo.resources import schema_path

    click.echo(schema_path("checklist.schema.json"))


@checklists.command("lint")
@click.argument("paths", nargs=-1, type=click.Path())
@click.pass_context
def checklists_lint(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Check checklist files (default: every checklist a check would load).

    Reports every problem as FILE: RULE: MESSAGE and exits with 3 if there is any.
    """
    from pathlib import Path

    from gonogo.authoring import lint
    from gonogo.config import load_settings

    try:
        files, problems = lint(load_settings(ctx.obj["config_path"]), [Path(p) for p in paths])
    except GonogoError as error:
        fail(error)
    for problem in problems:
        click.echo(" ".join(str(problem).split()))
    click.echo(f"{files} checklist file(s) checked, {len(problems)} problem(s)", err=True)
    sys.exit(ExitCode.CONFIGURATION if problems else ExitCode.GO)
