"""`gonogo checklists list | show | schema | lint`: for people who write checklists."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gonogo.cli.common import echo_page, load

if TYPE_CHECKING:
    from gonogo.cli.exits import Problems


@click.group()
def checklists() -> None:
    """List, explain and lint checklists (bundled and from [checklists].paths)."""


@checklists.command("list")
@click.pass_context
def checklists_list(ctx: click.Context) -> None:
    """Show every checklist with its version, rule count and source file."""
    from gonogo.flows.authoring import list_checklists

    settings = load(ctx)
    echo_page(settings, "checklists-list.txt.j2", listed=list_checklists(settings))


@checklists.command("show")
@click.argument("checklist_id", metavar="ID")
@click.pass_context
def checklists_show(ctx: click.Context, checklist_id: str) -> None:
    """Explain every rule of checklist ID in plain words."""
    from gonogo.flows.authoring import explain_checklist

    settings = load(ctx)
    checklist, rules = explain_checklist(settings, checklist_id)
    echo_page(settings, "checklist-show.txt.j2", checklist=checklist, rules=rules)


@checklists.command("schema")
def checklists_schema() -> None:
    """Print the path of the checklist meta-schema (for a checklist's "$schema")."""
    from gonogo.sources.resources import schema_path

    click.echo(schema_path("checklist.schema.json"))


@checklists.command("lint")
@click.argument("paths", nargs=-1, type=click.Path())
@click.pass_context
def checklists_lint(ctx: click.Context, paths: tuple[str, ...]) -> Problems:
    """Check checklist files (default: every checklist a check would load).

    Reports every problem as FILE: RULE: MESSAGE and exits with 3 if there is any.
    """
    from pathlib import Path

    from gonogo.cli.exits import Problems
    from gonogo.core.errors import one_line
    from gonogo.flows.authoring import lint

    files, problems = lint(load(ctx), [Path(p) for p in paths])
    for problem in problems:
        click.echo(one_line(problem))
    click.echo(f"{files} checklist file(s) checked, {len(problems)} problem(s)", err=True)
    return Problems(len(problems))
