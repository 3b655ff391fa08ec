"""`gonogo doctor`: is this configuration at home on this site? One line per check, with the fix.

Each line is data (status, which sentence, its facts), computed from what Jira said; doctor.txt.j2
words every sentence and its fix.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any

from gonogo.core.errors import ConfigurationError, GonogoError
from gonogo.core.jira_shapes.comment_format import CommentFormat, is_cloud_host
from gonogo.core.jira_shapes.site_fields import SiteField, closest_fields, type_problem
from gonogo.core.pipeline.authority import GROUP_PREFIX, groups_in
from gonogo.core.pipeline.proposal import canonical_option
from gonogo.core.vocabulary import OptionAliases, option_key, parse_option_aliases
from gonogo.flows.assessor import field_map, proposal_field_refs
from gonogo.flows.authoring import lint
from gonogo.jira.gateway import JiraGateway
from gonogo.sources.config import Settings
from gonogo.sources.resources import bundled_vocabulary

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
) -> Iterator[DoctorLine]:
    """Every check `doctor` makes, in the order it prints them; `sample` is an issue key or None."""
    url, _ = settings.jira.require_connection()
    aliases: OptionAliases = {}
    try:
        aliases = parse_option_aliases(settings.values, bundled_vocabulary())
    except ConfigurationError as error:
        yield problem("configuration", "configuration", error=str(error))
    gateway = JiraGateway(settings.jira)
    asked = list(jira_lines(gateway, settings, url=url, sample=sample, aliases=aliases))
    answered = gateway if all(line.check != "jira" for line in asked) else None  # else asking is futile
    yield from asked
    properties = bundled_vocabulary().properties  # `property = false`: the checks that need it do not run
    in_vocabulary_order = [p for p in properties if p in settings.unrecorded]
    for prop in [*in_vocabulary_order, *sorted(settings.unrecorded - set(in_vocabulary_order))]:
        yield skipped(f"field {prop}", "field-unrecorded", prop=prop, spec=properties.get(prop))
    yield from credential_lines(settings)
    files, found = lint(settings, [])
    if found:
        yield problem("checklists", "lint-problems", problems=len(found), files=files, first=str(found[0]))
    else:
        yield ok("checklists", "lint-clean", files=files)
    yield from authority_lines(settings, answered)
    if service:  # the service's packages are an optional extra: imported only with --service
        from gonogo.flows.webhook_setup import registered_webhook_lines, service_lines  # noqa: PLC0415

        yield from service_lines(settings, environ)
        if answered:
            yield from registered_webhook_lines(answered, settings)


def jira_lines(
    gateway: JiraGateway, settings: Settings, *, url: str, sample: str | None, aliases: OptionAliases
) -> Iterator[DoctorLine]:
    """The checks that ask Jira: site, credentials, permissions, fields, options, comment format."""
    fields = proposal_field_refs(field_map(settings))
    if not sample:
        yield skipped("permissions", "no-sample")
    kind = None
    try:  # the questions after the first that fails would only repeat it
        kind, version = gateway.server_info()
        yield ok("site", "site", url=url, kind=kind, version=version)
        yield ok("credentials", "credentials", who=gateway.myself())
        if sample:
            granted = gateway.permissions(sample, list(NEEDED_PERMISSIONS))
            missing = [NEEDED_PERMISSIONS[key] for key, has in granted.items() if not has]
            what = "permissions-missing" if missing else "permissions"
            yield (problem if missing else ok)("permissions", what, sample=sample, missing=missing)
        yield from field_lines(gateway.site_fields(), fields, frozenset(settings.fields))
        if sample:
            editable = gateway.editable_fields(sample)
            yield from edit_screen_lines(editable, fields, aliases, settings.jira.label_prefix, sample)
    except GonogoError as error:
        yield problem("jira", "jira-error", error=str(error))
    if kind is not None:
        yield comment_format_line(kind, settings.jira.comment_format)


def credential_lines(settings: Settings) -> Iterator[DoctorLine]:
    """What kind of credentials these are and, on Cloud, the scopes a scoped token needs (no request).
    A scoped API token (a service account's) works only through Atlassian's API gateway; a classic
    token goes to the site; a Data Center personal access token is a bearer."""
    jira, owners = settings.jira, settings.decisions.owners
    cloud = jira.via_gateway or jira.deployment == "cloud" or is_cloud_host(jira.url)
    if jira.via_gateway:
        kind = "scoped-token"
    elif jira.auth_style != "basic":
        kind = "personal-access-token"
    else:
        kind = "classic-token" if cloud else "basic"
    yield ok("credentials kind", kind, cloud_id=jira.cloud_id)
    if (cloud and jira.auth_style == "basic") or jira.via_gateway:
        scopes = dict(SCOPES)
        if groups_in(settings.waivers.approvers) or any(owner.startswith(GROUP_PREFIX) for owner in owners):
            scopes[GROUP_MEMBERS_SCOPE] = "list the members of approver and owner groups"
        if owners:
            scopes["read:jira-user"] += "; look up the decision owners"
        yield ok("scopes", "scopes", scopes=scopes, scoped=jira.via_gateway)


def comment_format_line(kind: str, comment_format: CommentFormat) -> DoctorLine:
    """Whether the comment format suits the site: a check never asks serverInfo, so a Cloud site on its
    own domain gets wiki markup until told "cloud"; ADF on Data Center (no REST v3) fails every post."""
    if comment_format is CommentFormat.ADF and kind != "Cloud":
        return problem("comments", "adf-on-data-center")
    if comment_format is CommentFormat.ADF:
        return ok("comments", "adf")
    return ok("comments", "wiki", cloud=kind == "Cloud")


def field_lines(
    site: Sequence[SiteField], field_map: Mapping[str, str], configured: frozenset[str]
) -> Iterator[DoctorLine]:
    """One line per mapped property: the field exists on the site and its type suits the property.
    An optional property (the bid's outcome) left at its default name may be absent."""
    by_ref: dict[str, list[SiteField]] = {}  # a field's id, else every field of that name
    for site_field in site:
        by_ref.setdefault(site_field.name.casefold(), []).append(site_field)
    by_ref.update({f.id.casefold(): [f] for f in site})
    names = {f.id: f.name for f in site}
    properties = bundled_vocabulary().properties
    for prop, ref in field_map.items():
        check, found, spec = f"field {prop}", by_ref.get(ref.casefold(), []), properties.get(prop)
        if len(found) > 1:
            yield problem(check, "field-ambiguous", ref=ref, ids=[f.id for f in found])
        elif not found and spec is not None and spec.optional and prop not in configured:
            yield skipped(check, "field-optional", ref=ref, prop=prop, use=spec.optional)
        elif not found:
            yield problem(check, "field-unknown", ref=ref, prop=prop, closest=closest_fields(ref, names))
        elif spec is not None and (unsuitable := type_problem(spec, found[0])):
            yield problem(check, "field-unsuitable", prop=prop, why=unsuitable)
        else:
            yield ok(check, "field", described=found[0].described)


def edit_screen_lines(
    editable: Mapping[str, SiteField],
    field_map: Mapping[str, str],
    aliases: OptionAliases,
    label_prefix: str,
    sample: str,
) -> Iterator[DoctorLine]:
    """On the sample's edit screen: the Labels field (for verdict labels), and every option of each
    select reads as a vocabulary value, directly or through [values]."""
    if label_prefix and "labels" in editable:
        yield ok("labels", "labels", sample=sample)
    elif label_prefix:
        yield problem("labels", "labels-missing", sample=sample)
    by_name = {f.name.casefold(): f for f in editable.values()}
    for prop, ref in field_map.items():
        spec = bundled_vocabulary().properties.get(prop)
        site_field = editable.get(ref) or by_name.get(ref.casefold())
        if spec is None or not spec.enum or site_field is None or not site_field.options:
            continue
        known = aliases.get(prop, {})
        unread = [
            text
            for text in site_field.options
            if canonical_option(text) not in spec.enum and option_key(text) not in known
        ]
        described = site_field.described
        if unread:
            facts = {"prop": prop, "unread": unread, "described": described, "values": spec.enum}
            yield problem(f"options {prop}", "options-unread", **facts)
        else:
            yield ok(f"options {prop}", "options", described=described)


def authority_lines(settings: Settings, gateway: JiraGateway | None) -> Iterator[DoctorLine]:
    """Who may waive (for how long) and who may record the bid decision; each approver group and owner
    is asked once to prove Jira knows it. Where a waiver needs a reason and the site records none, no
    waiver can apply: said, and skipped."""
    policy, owners = settings.waivers, settings.decisions.owners
    if policy.require_reason and "waiver_reason" in settings.unrecorded:
        yield skipped("waivers", "waivers-no-reason-field")
    elif not policy.approvers:
        yield ok("waivers", "waivers-anyone", max_days=policy.max_days)
    else:
        yield ok("waivers", "waivers-approvers", approvers=len(policy.approvers), max_days=policy.max_days)
        for group in groups_in(policy.approvers):
            yield _asked_line(f"approver group {group}", GROUP_PREFIX + group, gateway, error="group-error")
    if owners:
        yield ok("decisions", "owners", owners=len(owners))
    for owner in owners:
        yield _asked_line(f"decision owner {owner}", owner, gateway, error="owner-error")


def _asked_line(check: str, who: str, gateway: JiraGateway | None, *, error: str) -> DoctorLine:
    """Reading a group's members (`group:NAME`) or a person's name once proves Jira can answer; not
    asked when Jira already failed above (None)."""
    if gateway is None:
        return skipped(check, "group-not-asked")
    try:
        if who.startswith(GROUP_PREFIX):
            return ok(
                check, "group-members", members=len(gateway.group_members(who.removeprefix(GROUP_PREFIX)))
            )
        name = gateway.user_name(who)
    except GonogoError as exc:
        return problem(check, error, error=str(exc))
    if name is None:
        return problem(check, "owner-unknown", owner=who)
    return ok(check, "owner-found", name=name)
