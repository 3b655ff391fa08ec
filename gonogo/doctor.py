"""`gonogo doctor`: is this configuration at home on this site? One line per check, with the fix.

Each check answers one question a new site raises: does the site answer, do the credentials work,
may the account do what a check does on a real ticket, does every mapped field exist with a
suitable type, does every option of a mapped select field read as a vocabulary value, do the
checklists lint clean, and (for the service) is the webhook secret set and the queue reachable.
The questions about fields and options are pure functions over what Jira answered; the Jira
questions stop after the first that fails, since the rest would only repeat it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from gonogo.comment_format import CommentFormat
from gonogo.config import Settings
from gonogo.errors import ConfigurationError, GonogoError
from gonogo.option_aliases import OptionAliases, option_key
from gonogo.proposal import canonical_option
from gonogo.site_fields import SiteField, closest_fields, type_problem
from gonogo.vocabulary import Vocabulary
from gonogo.waivers import WaiverPolicy

if TYPE_CHECKING:
    from gonogo.jira_gateway import JiraGateway

# What a check does on a ticket: read it, comment, edit its own comment, set properties and labels.
NEEDED_PERMISSIONS = {
    "BROWSE_PROJECTS": "Browse Projects",
    "ADD_COMMENTS": "Add Comments",
    "EDIT_OWN_COMMENTS": "Edit Own Comments",
    "EDIT_ISSUES": "Edit Issues (issue properties and the verdict label)",
}


class Status(StrEnum):
    OK = "ok"
    SKIPPED = "skip"
    PROBLEM = "FAIL"


@dataclass(frozen=True)
class DoctorLine:
    """One check's result. A line with counts names its wording (`what`) and gives the facts;
    doctor.txt.j2 words it, with the plurals right ("1 file", "3 approvers"), instead of `detail`."""

    status: Status
    check: str
    detail: str = ""
    fix: str | None = None
    what: str = ""
    facts: Mapping[str, Any] = field(default_factory=dict)


def ok(check: str, detail: str) -> DoctorLine:
    return DoctorLine(Status.OK, check, detail)


def problem(check: str, detail: str, fix: str) -> DoctorLine:
    return DoctorLine(Status.PROBLEM, check, detail, fix)


def jira_lines(
    gateway: JiraGateway,
    *,
    url: str,
    sample: str | None,
    field_map: Mapping[str, str],
    vocabulary: Vocabulary,
    aliases: OptionAliases,
    label_prefix: str,
    configured: frozenset[str] = frozenset(),
    comment_format: CommentFormat = CommentFormat.WIKI,
) -> list[DoctorLine]:
    """The checks that ask Jira: site, credentials, permissions, fields, options, comment format.

    `configured` are the properties [fields] maps explicitly: for those a missing field is always
    a problem, while an optional property left at its default name may be absent from the site.
    """
    lines: list[DoctorLine] = []
    kinds: list[str] = []

    def site() -> list[DoctorLine]:
        kind, version = gateway.server_info()
        kinds.append(kind)
        return [ok("site", f"{url} answers: Jira {kind} {version}")]

    steps: list[Callable[[], list[DoctorLine]]] = [
        site,
        lambda: [ok("credentials", f"signed in as {gateway.myself()}")],
    ]
    if sample:
        steps.append(lambda: [permission_line(sample, gateway.permissions(sample, list(NEEDED_PERMISSIONS)))])
    else:
        lines.append(
            DoctorLine(Status.SKIPPED, "permissions", "no sample ticket", "give --from KEY to check a ticket")
        )
    steps.append(lambda: field_lines(gateway.site_fields(), field_map, vocabulary, configured))
    if sample:
        steps.append(
            lambda: edit_screen_lines(
                gateway.editable_fields(sample), field_map, vocabulary, aliases, label_prefix, sample
            )
        )
    for step in steps:
        try:
            lines += step()
        except GonogoError as error:
            lines.append(problem("jira", str(error), "fix the problem above, then run gonogo doctor again"))
            break
    if kinds:
        lines.append(comment_format_line(kinds[0], comment_format))
    return lines


def comment_format_line(kind: str, comment_format: CommentFormat) -> DoctorLine:
    """Whether the configured comment format suits the site serverInfo describes (Cloud or Data Center).

    A check never asks serverInfo, so a Cloud site on its own domain gets wiki markup until the
    configuration says "cloud"; Data Center has no REST v3, so ADF there would fail every post.
    """
    if comment_format is CommentFormat.ADF and kind != "Cloud":
        return problem(
            "comments",
            "configured for ADF on REST v3, but this site is Jira Data Center, which has REST v2 only",
            'set [jira] deployment = "data-center" (or "auto") and remove api_version in gonogo.toml',
        )
    if comment_format is CommentFormat.ADF:
        return ok("comments", "posted as Atlassian Document Format on REST v3 (Jira Cloud)")
    detail = "posted as wiki markup on REST v2"
    if kind == "Cloud":
        detail += (
            '; for native Cloud comments (ADF on REST v3) set [jira] deployment = "cloud" and no api_version'
        )
    return ok("comments", detail)


def permission_line(sample: str, granted: Mapping[str, bool]) -> DoctorLine:
    missing = [NEEDED_PERMISSIONS[key] for key, has in granted.items() if not has]
    if missing:
        return problem(
            "permissions",
            f"on {sample} this account lacks: {', '.join(missing)}",
            "grant them to the account in the project's permission scheme",
        )
    return ok(
        "permissions", f"on {sample} this account may browse, comment, edit its comments and edit issues"
    )


def field_lines(
    site: Sequence[SiteField],
    field_map: Mapping[str, str],
    vocabulary: Vocabulary,
    configured: frozenset[str] = frozenset(),
) -> list[DoctorLine]:
    """One line per mapped property: the field exists on the site and its type suits the property.

    An optional property (the bid's outcome) that [fields] does not map and the site lacks is
    skipped, not a problem: a site that does not record it still passes.
    """
    by_id = {f.id.casefold(): f for f in site}
    by_name: dict[str, list[SiteField]] = {}
    for site_field in site:
        by_name.setdefault(site_field.name.casefold(), []).append(site_field)
    names = {f.id: f.name for f in site}
    lines = []
    for prop, ref in field_map.items():
        check = f"field {prop}"
        found = by_id.get(ref.casefold())
        named = by_name.get(ref.casefold(), [])
        if found is None and len(named) > 1:
            ids = ", ".join(f.id for f in named)
            lines.append(
                problem(check, f'{len(named)} fields are named "{ref}" ({ids})', "map it by id in [fields]")
            )
            continue
        found = found or (named[0] if named else None)
        spec = vocabulary.properties.get(prop)
        if found is None and spec is not None and spec.optional and prop not in configured:
            lines.append(
                DoctorLine(
                    Status.SKIPPED,
                    check,
                    f'this site has no field "{ref}"; it is optional: {spec.optional}',
                    f"to use it, add the field or set {prop} in [fields]",
                )
            )
            continue
        if found is None:
            close = closest_fields(ref, names)
            hint = f"closest: {', '.join(close)}" if close else "gonogo setup lists the site's fields"
            lines.append(
                problem(check, f'"{ref}" is not a field of this site ({hint})', f"set {prop} in [fields]")
            )
            continue
        unsuitable = type_problem(spec, found) if spec is not None else None
        if unsuitable:
            lines.append(problem(check, unsuitable, f"map {prop} to a suitable field in [fields]"))
        else:
            lines.append(ok(check, f"{found.described}"))
    return lines


def edit_screen_lines(
    editable: Mapping[str, SiteField],
    field_map: Mapping[str, str],
    vocabulary: Vocabulary,
    aliases: OptionAliases,
    label_prefix: str,
    sample: str,
) -> list[DoctorLine]:
    """On the sample's edit screen: the Labels field (for verdict labels) and each select's options."""
    lines = []
    if label_prefix:
        if "labels" in editable:
            lines.append(ok("labels", f"the verdict label can be set on {sample}"))
        else:
            lines.append(
                problem(
                    "labels",
                    f"the Labels field is not on the edit screen of {sample}",
                    'add it to the screen, or set [jira] label_prefix = "" to turn verdict labels off',
                )
            )
    by_name = {f.name.casefold(): f for f in editable.values()}
    for prop, ref in field_map.items():
        spec = vocabulary.properties.get(prop)
        site_field = editable.get(ref) or by_name.get(ref.casefold())
        if spec is None or not spec.enum or site_field is None or not site_field.options:
            continue
        known = aliases.get(prop, {})
        unread = [
            text
            for text in site_field.options
            if canonical_option(text) not in spec.enum and option_key(text) not in known
        ]
        if unread:
            listed = ", ".join(f'"{text}"' for text in unread)
            lines.append(
                problem(
                    f"options {prop}",
                    f"{listed} of {site_field.described} read as none of {', '.join(spec.enum)}",
                    f'add them to [values.{prop}], e.g. "{unread[0]}" = "{spec.enum[0]}"',
                )
            )
        else:
            lines.append(ok(f"options {prop}", f"every option of {site_field.described} reads as a value"))
    return lines


def lint_line(files: int, problems: Sequence[object]) -> DoctorLine:
    if problems:
        return DoctorLine(
            Status.PROBLEM,
            "checklists",
            fix="run gonogo checklists lint and fix each line",
            what="lint-problems",
            facts={"problems": len(problems), "files": files, "first": str(problems[0])},
        )
    return DoctorLine(Status.OK, "checklists", what="lint-clean", facts={"files": files})


def waiver_lines(
    policy: WaiverPolicy, group_members: Callable[[str], frozenset[str]] | None
) -> list[DoctorLine]:
    """Who may waive, and for how long; each approver group is read once to prove it can be.

    `group_members` is None when Jira already failed above: the groups are then not asked for.
    """
    if policy.anyone_approves:
        return [DoctorLine(Status.OK, "waivers", what="waivers-anyone", facts={"max_days": policy.max_days})]
    facts = {"approvers": len(policy.approvers), "max_days": policy.max_days}
    lines = [DoctorLine(Status.OK, "waivers", what="waivers-approvers", facts=facts)]
    for group in policy.groups:
        if group_members is None:
            lines.append(DoctorLine(Status.SKIPPED, f"approver group {group}", "Jira did not answer above"))
            continue
        try:
            members = len(group_members(group))
            lines.append(
                DoctorLine(
                    Status.OK, f"approver group {group}", what="group-members", facts={"members": members}
                )
            )
        except GonogoError as error:
            lines.append(problem(f"approver group {group}", str(error), "fix [waivers].approvers"))
    return lines


def configuration_problem(error: ConfigurationError) -> DoctorLine:
    return problem("configuration", str(error), "fix gonogo.toml as the message says")


def service_lines(settings: Settings, environ: Mapping[str, str]) -> list[DoctorLine]:
    """`--service`: the webhook settings load, a secret or token is set, the queue is reachable."""
    from gonogo.webhook.queue import open_queue  # noqa: PLC0415 (only with --service)
    from gonogo.webhook.queue_redis import describe  # noqa: PLC0415
    from gonogo.webhook.settings import webhook_settings  # noqa: PLC0415

    try:
        webhook = webhook_settings(settings, environ)
    except ConfigurationError as error:
        return [problem("webhook", str(error), "fix [webhook] in gonogo.toml or the environment")]
    credentials = webhook.credentials
    if credentials.secret is not None or credentials.token is not None:
        lines = [ok("webhook secret", "a webhook secret or token is set (its value is not shown)")]
    else:
        lines = [
            problem(
                "webhook secret",
                "neither GONOGO_WEBHOOK_SECRET nor GONOGO_WEBHOOK_TOKEN is set: "
                "anyone who reaches the service can ask for checks",
                "export GONOGO_WEBHOOK_SECRET (README, Authenticity) or set [webhook].secret_file",
            )
        ]
    queue_settings = webhook.queue
    if queue_settings.kind == "redis":
        where = f"Redis at {describe(queue_settings.redis_url.reveal())}"
        try:
            open_queue(queue_settings, reader=True).close()
        except ConfigurationError as error:
            return [*lines, problem("queue", str(error), "start Redis or fix GONOGO_REDIS_URL")]
        return [*lines, ok("queue", f"{where} answers")]
    folder = queue_settings.path
    existing = folder if folder.exists() else folder.parent
    if existing.is_dir() and os.access(existing, os.W_OK):
        return [*lines, ok("queue", f"the local queue folder {folder} is writable")]
    return [
        *lines,
        problem("queue", f"the local queue folder {folder} is not writable", "fix [webhook].queue_path"),
    ]
