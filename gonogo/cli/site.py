"""`gonogo setup` and `gonogo doctor`: make a site's own fields and options gonogo's, then prove it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from gonogo.cli.common import echo_page, load, verbose_option
from gonogo.cli.serve import require_serve_extra
from gonogo.core.errors import InputError

if TYPE_CHECKING:
    from gonogo.cli.exits import Problems
    from gonogo.jira.gateway import JiraGateway
    from gonogo.sources.config import Settings

sample_option = click.option(
    "--from",
    "sample",
    metavar="KEY",
    help="A proposal ticket to read the edit screen (select options, labels) and permissions from.",
)


@click.command()
@sample_option
@click.option(
    "--write",
    "target",
    type=click.Path(dir_okay=False),
    help="Write the configuration to this file instead of stdout.",
)
@click.option("--force", is_flag=True, help="With --write: replace an existing file.")
@click.option(
    "--list-fields",
    "list_fields",
    is_flag=True,
    help="Only list the site's fields: id, name, type and the property the configuration maps to it.",
)
@click.option(
    "--webhook",
    "webhook_url",
    metavar="URL",
    help="Instead: register (or update) the Jira admin webhook that posts to gonogo serve at URL.",
)
@verbose_option
@click.pass_context
def setup(
    ctx: click.Context,
    sample: str | None,
    target: str | None,
    force: bool,
    list_fields: bool,
    webhook_url: str | None,
) -> None:
    """Write a gonogo.toml matched to this site's fields and options.

    Reads the site's fields (GET field) and, with --from KEY, the ticket's edit screen (select
    options). A property no field is named for is written as not recorded here (`= false`);
    unclear matches are TODO lines with candidates. Credentials are never written.

    With --webhook URL: registers the admin webhook gonogo serve needs (JQL from [webhook].projects
    and issue_types, the events it handles, a secret written to [webhook].secret_file), or updates
    the one already there. Needs the Administer Jira permission.
    """
    from gonogo.flows.assessor import field_map
    from gonogo.flows.site_setup import mapped_properties
    from gonogo.jira.gateway import JiraGateway

    if webhook_url is None and target is not None and os.path.exists(target) and not force:
        raise InputError(f"{target} exists: choose another file, or add --force to replace it")
    settings = load(ctx)
    if webhook_url is not None:
        from gonogo.flows.webhook_setup import register_webhook

        registration = register_webhook(JiraGateway(settings.jira), settings, webhook_url, os.environ)
        echo_page(settings, "setup-webhook.txt.j2", done=registration)
        return
    key = _sample_key(sample, settings.jira.browse_url)
    gateway = JiraGateway(settings.jira)
    if list_fields:
        listed = mapped_properties(gateway.site_fields(), field_map(settings))
        echo_page(settings, "site-fields.txt.j2", fields=listed, unrecorded=sorted(settings.unrecorded))
        return
    _write_configuration(gateway, settings, key, target)


def _write_configuration(
    gateway: JiraGateway, settings: Settings, key: str | None, target: str | None
) -> None:
    """The gonogo.toml matched to the site, to `target` or stdout, then the summary of what it matched."""
    from gonogo.flows.site_setup import plan_setup
    from gonogo.render.renderer import make_renderer
    from gonogo.sources.resources import bundled_vocabulary

    kind, _ = gateway.server_info()
    plan = plan_setup(
        bundled_vocabulary(), gateway.site_fields(), gateway.editable_fields(key) if key else None
    )
    renderer = make_renderer(settings.template_dir)
    text = renderer.text_page("setup.toml.j2", sample=key, plan=plan, kind=kind, jira=settings.jira)
    summary = renderer.text_page("setup-summary.txt.j2", target=target, plan=plan)
    if target is None:
        click.echo(text, nl=False)
    else:
        try:
            with open(target, "w", encoding="utf-8") as file:
                file.write(text)
        except OSError as exc:
            raise InputError(
                f"{target}: cannot write it ({exc.strerror or exc.__class__.__name__})"
            ) from None
    click.echo(summary, err=target is None, nl=False)


@click.command()
@sample_option
@click.option(
    "--service",
    is_flag=True,
    help="Also check what gonogo serve needs: the webhook secret, the queue and the Jira webhook.",
)
@verbose_option
@click.pass_context
def doctor(ctx: click.Context, sample: str | None, service: bool) -> Problems:
    """Check the configuration against the site, one line per check; exit 0 if all is well, else 3."""
    from pathlib import Path

    from gonogo.cli.exits import Problems
    from gonogo.flows.doctor import Status, doctor_lines

    if service:
        require_serve_extra("gonogo doctor --service")
    settings = load(ctx)
    key = _sample_key(sample, settings.jira.browse_url)
    lines = list(doctor_lines(settings, key, service=service, environ=os.environ))
    problems = sum(line.status is Status.PROBLEM for line in lines)
    echo_page(
        settings,
        "doctor.txt.j2",
        lines=lines,
        problems=problems,
        skipped=sum(line.status is Status.SKIPPED for line in lines),
        config_name=str(Path(ctx.obj["config_path"] or "gonogo.toml")),
    )
    return Problems(problems)


def _sample_key(sample: str | None, jira_url: str | None) -> str | None:
    """The --from ticket as an issue key (a browse URL of the configured site works too)."""
    from gonogo.sources.tickets import parse_ticket_ref

    if sample is None:
        return None
    ref = parse_ticket_ref(sample, jira_url=jira_url)
    if not isinstance(ref, str):
        raise InputError(f"--from {sample}: give the key of a proposal ticket on the site, like BID-42")
    return ref
