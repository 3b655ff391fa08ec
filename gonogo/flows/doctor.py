"""`gonogo doctor`: is this configuration at home on this site? One line per check, with the fix.

Each check answers one question a new site raises (does it answer, may the account do what a check
does, does every mapped field and option read as the vocabulary expects, do the checklists lint).
The answers are pure functions over what Jira said, and each line is data (status, which sentence,
its facts), so doctor.txt.j2 words every sentence and its fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

from gonogo.core.errors import ConfigurationError, GonogoError
from gonogo.core.jira_shapes.comment_format import CommentFormat, is_cloud_host
from gonogo.core.jira_shapes.site_fields import SiteField, closest_fields, type_problem
from gonogo.core.pipeline.authority import GROUP_PREFIX
from gonogo.core.pipeline.decisions import DecisionPolicy
from gonogo.core.pipeline.proposal import canonical_option
from gonogo.core.vocabulary import OptionAliases, PropertySpec, Vocabulary, option_key, parse_option_aliases
from gonogo.flows.assessor import field_map
from gonogo.flows.authoring import lint
from gonogo.sources.config import Settings
from gonogo.sources.resources import bundled_vocabulary

if TYPE_CHECKING:
    from gonogo.jira.gateway import JiraGateway

# What a check does on a ticket: read it, comment, edit its own comment, set properties and labels.
NEEDED_PERMISSIONS = {
    "BROWSE_PROJECTS": "Browse Projects",
    "ADD_COMMENTS": "Add Comments",
    "EDIT_OWN_COMMENTS": "Edit Own Comments",
    "EDIT_ISSUES": "Edit Issues (issue properties and the verdict label)",
}
# The classic scopes of a scoped API token (Atlassian's OpenAPI `security` of each operation used).
SCOPES = {
    "read:jira-work": "read tickets, fields, comments, properties and searches",
    "write:jira-work": "post and edit the verdict comment, set issue properties and labels",
    "read:jira-user": "know its own account (doctor, and telling its own comments and changes apart)",
}
# `GET group/member` is the one operation gonogo uses whose classic scope is not among those.
GROUP_MEMBERS_SCOPE = "manage:jira-configuration"


class Status(StrEnum):
    OK = "ok"
    SKIPPED = "skip"
    PROBLEM = "FAIL"


@dataclass(frozen=True)
class DoctorLine:
    """One check's result: doctor.txt.j2 words the sentence `what` with its `facts`, and its fix."""

    status: Status
    check: str
    what: str
    facts: Mapping[str, Any] = field(default_factory=dict)


def _line(status: Status, check: str, what: str, **facts: Any) -> DoctorLine:
    return DoctorLine(status, check, what, facts)


ok = partial(_line, Status.OK)
problem = partial(_line, Status.PROBLEM)
skipped = partial(_line, Status.SKIPPED)


def doctor_lines(
    settings: Settings, sample: str | None, *, service: bool, environ: Mapping[str, str]
) -> list[DoctorLine]:
    """Every check `doctor` makes, in the order it prints them; `sample` is an issue key or None."""
    from gonogo.jira.gateway import JiraGateway  # noqa: PLC0415 (the Jira edge: only when it runs)

    url, _ = settings.jira.require_connection()
    vocabulary = bundled_vocabulary()
    lines = []
    aliases: OptionAliases = {}
    try:
        aliases = parse_option_aliases(settings.values, vocabulary)
    except ConfigurationError as error:
        lines.append(problem("configuration", "configuration", error=str(error)))
    gateway = JiraGateway(settings.jira)
    asked = jira_lines(gateway, settings, url=url, sample=sample, vocabulary=vocabulary, aliases=aliases)
    answered = gateway if all(line.check != "jira" for line in asked) else None  # else asking is futile
    lines += [
        *asked,
        *unrecorded_lines(settings.unrecorded, vocabulary),
        *credential_lines(settings),
        lint_line(*lint(settings, [])),
        *waiver_lines(settings, answered),
        *decision_owner_lines(settings.decisions, answered),
    ]
    if service:
        from gonogo.flows.webhook_setup import registered_webhook_lines  # noqa: PLC0415 (serve extra's)

        lines += service_lines(settings, environ)
        if answered:
            lines += registered_webhook_lines(answered, settings)
    return lines


def jira_lines(
    gateway: JiraGateway,
    settings: Settings,
    *,
    url: str,
    sample: str | None,
    vocabulary: Vocabulary,
    aliases: OptionAliases,
) -> list[DoctorLine]:
    """The checks that ask Jira: site, credentials, permissions, fields, options, comment format.

    For the properties [fields] maps explicitly a missing field is always a problem, while an
    optional property left at its default name may be absent from the site.
    """
    fields = {p: ref for p, ref in field_map(settings).items() if p not in ("summary", "description")}
    lines = [] if sample else [skipped("permissions", "no-sample")]
    kind = None
    try:  # the questions after the first that fails would only repeat it
        kind, version = gateway.server_info()
        lines.append(ok("site", "site", url=url, kind=kind, version=version))
        lines.append(ok("credentials", "credentials", who=gateway.myself()))
        if sample:
            granted = gateway.permissions(sample, list(NEEDED_PERMISSIONS))
            missing = [NEEDED_PERMISSIONS[key] for key, has in granted.items() if not has]
            what = "permissions-missing" if missing else "permissions"
            lines.append((problem if missing else ok)("permissions", what, sample=sample, missing=missing))
        lines += field_lines(gateway.site_fields(), fields, vocabulary, frozenset(settings.fields))
        if sample:
            editable = gateway.editable_fields(sample)
            lines += edit_screen_lines(
                editable, fields, vocabulary, aliases, settings.jira.label_prefix, sample
            )
    except GonogoError as error:
        lines.append(problem("jira", "jira-error", error=str(error)))
    if kind is not None:
        lines.append(comment_format_line(kind, settings.jira.comment_format))
    return lines


def credential_lines(settings: Settings) -> list[DoctorLine]:
    """What kind of credentials these are and, on Cloud, the scopes a scoped token needs (no request).

    A scoped API token (a service account has only those) works only through Atlassian's API
    gateway; a classic token goes to the site; a Data Center personal access token is a bearer.
    """
    jira, owners = settings.jira, settings.decisions.owners
    cloud = jira.via_gateway or jira.deployment == "cloud" or is_cloud_host(jira.url)
    if jira.via_gateway:
        kind = "scoped-token"
    elif jira.auth_style != "basic":
        kind = "personal-access-token"
    else:
        kind = "classic-token" if cloud else "basic"
    lines = [ok("credentials kind", kind, cloud_id=jira.cloud_id)]
    if (cloud and jira.auth_style == "basic") or jira.via_gateway:
        scopes = dict(SCOPES)
        if settings.waivers.groups or any(owner.startswith(GROUP_PREFIX) for owner in owners):
            scopes[GROUP_MEMBERS_SCOPE] = "list the members of approver and owner groups"
        if owners:
            scopes["read:jira-user"] += "; look up the decision owners"
        lines.append(ok("scopes", "scopes", scopes=scopes, scoped=jira.via_gateway))
    return lines


def comment_format_line(kind: str, comment_format: CommentFormat) -> DoctorLine:
    """Whether the configured comment format suits the site serverInfo describes (Cloud or Data Center).

    A check never asks serverInfo, so a Cloud site on its own domain gets wiki markup until the
    configuration says "cloud"; Data Center has no REST v3, so ADF there would fail every post.
    """
    if comment_format is CommentFormat.ADF and kind != "Cloud":
        return problem("comments", "adf-on-data-center")
    if comment_format is CommentFormat.ADF:
        return ok("comments", "adf")
    return ok("comments", "wiki", cloud=kind == "Cloud")


def field_lines(
    site: Sequence[SiteField],
    field_map: Mapping[str, str],
    vocabulary: Vocabulary,
    configured: frozenset[str] = frozenset(),
) -> list[DoctorLine]:
    """One line per mapped property: the field exists on the site and its type suits the property."""
    by_ref: dict[str, list[SiteField]] = {}  # a field's id, else every field of that name
    for site_field in site:
        by_ref.setdefault(site_field.name.casefold(), []).append(site_field)
    by_ref.update({f.id.casefold(): [f] for f in site})
    names = {f.id: f.name for f in site}
    return [
        _field_line(
            prop,
            ref,
            by_ref.get(ref.casefold(), []),
            vocabulary.properties.get(prop),
            names,
            optional=prop not in configured,
        )
        for prop, ref in field_map.items()
    ]


def _field_line(
    prop: str,
    ref: str,
    found: list[SiteField],
    spec: PropertySpec | None,
    names: Mapping[str, str],
    *,
    optional: bool,
) -> DoctorLine:
    """An optional property (the bid's outcome) left at its default name may be absent: a site that
    does not record it still passes."""
    check = f"field {prop}"
    if len(found) > 1:
        return problem(check, "field-ambiguous", ref=ref, ids=[f.id for f in found])
    if not found and spec is not None and spec.optional and optional:
        return skipped(check, "field-optional", ref=ref, prop=prop, use=spec.optional)
    if not found:
        return problem(check, "field-unknown", ref=ref, prop=prop, closest=closest_fields(ref, names))
    unsuitable = type_problem(spec, found[0]) if spec is not None else None
    if unsuitable:
        return problem(check, "field-unsuitable", prop=prop, why=unsuitable)
    return ok(check, "field", described=found[0].described)


def unrecorded_lines(unrecorded: frozenset[str], vocabulary: Vocabulary) -> list[DoctorLine]:
    """`property = false`: the site does not record it, so the checks that need it do not run."""
    in_vocabulary_order = [p for p in vocabulary.properties if p in unrecorded]
    others = sorted(unrecorded - set(in_vocabulary_order))
    return [
        skipped(f"field {prop}", "field-unrecorded", prop=prop, spec=vocabulary.properties.get(prop))
        for prop in [*in_vocabulary_order, *others]
    ]


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
    if label_prefix and "labels" in editable:
        lines.append(ok("labels", "labels", sample=sample))
    elif label_prefix:
        lines.append(problem("labels", "labels-missing", sample=sample))
    by_name = {f.name.casefold(): f for f in editable.values()}
    for prop, ref in field_map.items():
        spec = vocabulary.properties.get(prop)
        site_field = editable.get(ref) or by_name.get(ref.casefold())
        if spec is not None and spec.enum and site_field is not None and site_field.options:
            lines.append(_options_line(prop, spec, site_field, aliases.get(prop, {})))
    return lines


def _options_line(
    prop: str, spec: PropertySpec, site_field: SiteField, known: Mapping[str, str]
) -> DoctorLine:
    """Every option of a select must read as a vocabulary value, directly or through [values]."""
    unread = [
        text
        for text in site_field.options
        if canonical_option(text) not in spec.enum and option_key(text) not in known
    ]
    if unread:
        facts = {"prop": prop, "unread": unread, "described": site_field.described, "values": spec.enum}
        return problem(f"options {prop}", "options-unread", **facts)
    return ok(f"options {prop}", "options", described=site_field.described)


def lint_line(files: int, problems: Sequence[object]) -> DoctorLine:
    if problems:
        return problem(
            "checklists", "lint-problems", problems=len(problems), files=files, first=str(problems[0])
        )
    return ok("checklists", "lint-clean", files=files)


def waiver_lines(settings: Settings, gateway: JiraGateway | None) -> list[DoctorLine]:
    """Who may waive, and for how long; each approver group is read once to prove it can be.

    `gateway` is None when Jira already failed above: the groups are then not asked for.
    Where a waiver needs a reason and the site records none, no waiver can apply: said, and skipped.
    """
    policy = settings.waivers
    if policy.require_reason and "waiver_reason" in settings.unrecorded:
        return [skipped("waivers", "waivers-no-reason-field")]
    if policy.anyone_approves:
        return [ok("waivers", "waivers-anyone", max_days=policy.max_days)]
    lines = [ok("waivers", "waivers-approvers", approvers=len(policy.approvers), max_days=policy.max_days)]
    return lines + [
        _members_line(f"approver group {group}", group, gateway, error="group-error")
        for group in policy.groups
    ]


def decision_owner_lines(policy: DecisionPolicy, gateway: JiraGateway | None) -> list[DoctorLine]:
    """Who may record the bid decision; each owner is looked up once to prove Jira knows them
    (not when Jira already failed above: `gateway` None)."""
    if not policy.owners:
        return []
    owners = [_owner_line(f"decision owner {owner}", owner, gateway) for owner in policy.owners]
    return [ok("decisions", "owners", owners=len(policy.owners)), *owners]


def _owner_line(check: str, owner: str, gateway: JiraGateway | None) -> DoctorLine:
    if gateway is None:
        return skipped(check, "group-not-asked")
    if owner.startswith(GROUP_PREFIX):
        return _members_line(check, owner.removeprefix(GROUP_PREFIX), gateway, error="owner-error")
    try:
        name = gateway.user_name(owner)
    except GonogoError as error:
        return problem(check, "owner-error", error=str(error))
    if name is None:
        return problem(check, "owner-unknown", owner=owner)
    return ok(check, "owner-found", name=name)


def _members_line(check: str, group: str, gateway: JiraGateway | None, *, error: str) -> DoctorLine:
    """Reading a group once proves it can be read; not asked when Jira already failed above (None)."""
    if gateway is None:
        return skipped(check, "group-not-asked")
    try:
        return ok(check, "group-members", members=len(gateway.group_members(group)))
    except GonogoError as exc:
        return problem(check, error, error=str(exc))


def service_lines(settings: Settings, environ: Mapping[str, str]) -> list[DoctorLine]:
    """`--service`: the webhook settings load, a secret or token is set, the queue is reachable."""
    # The service's packages are an optional extra: imported only with --service, once present.
    from gonogo.webhook.queue import check_queue  # noqa: PLC0415
    from gonogo.webhook.settings import webhook_settings  # noqa: PLC0415

    try:
        webhook = webhook_settings(settings, environ)
    except ConfigurationError as error:
        return [problem("webhook", "webhook-error", error=str(error))]
    credentials = webhook.credentials
    if credentials.secret is not None or credentials.token is not None:
        lines = [ok("webhook secret", "secret")]
    else:
        lines = [problem("webhook secret", "secret-missing")]
    usable, what, details = check_queue(webhook.queue)
    return [*lines, (ok if usable else problem)("queue", what, **details)]
