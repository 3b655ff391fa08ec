"""Render stored records as the JSON Jira answers with.

Shapes follow Atlassian's published schemas (``tests/jira-openapi``): several
of them forbid unknown keys (``additionalProperties: false``), so only keys
the schema names appear here. REST v2 keeps rich text as wiki-markup strings;
v3 turns it into Atlassian Document Format (ADF).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from .model import ChangeItem, Deployment, JiraUser, StoredComment, StoredHistory, StoredIssue

ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
SYSTEM_FIELD_NAMES = {
    "summary": "Summary",
    "description": "Description",
    "environment": "Environment",
    "comment": "Comment",
    "status": "Status",
    "issuetype": "Issue Type",
    "project": "Project",
    "labels": "Labels",
    "created": "Created",
    "updated": "Updated",
    "reporter": "Reporter",
    "assignee": "Assignee",
    "priority": "Priority",
    "duedate": "Due date",
}
NON_NAVIGABLE_FIELDS = frozenset({"comment"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?[+-]\d{4}")
_CUSTOM_TYPES = {
    "string": "textfield",
    "number": "float",
    "option": "select",
    "user": "userpicker",
    "date": "datepicker",
    "datetime": "datetime",
    "any": "textfield",
}


@dataclass(frozen=True)
class View:
    """Who the answer is for: the server's base URL, REST version and deployment."""

    base_url: str
    version: int
    deployment: Deployment

    def api(self, path: str) -> str:
        """Absolute URL of ``path`` under this view's REST version (for ``self`` links)."""
        return f"{self.base_url}/rest/api/{self.version}/{path}"


def jira_time(moment: datetime) -> str:
    """Jira's timestamp format: milliseconds and a colon-less offset (``+0000``)."""
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}"
        + (moment.strftime("%z") or "+0000")
    )


def error_collection(messages: list[str], errors: dict[str, str] | None = None) -> dict[str, Any]:
    """Jira's error body (schema ErrorCollection)."""
    return {"errorMessages": list(messages), "errors": dict(errors or {})}


# -- rich text ---------------------------------------------------------------------------


def text_to_adf(text: str) -> dict[str, Any]:
    """A minimal ADF document: one paragraph per line, plain text nodes only."""
    paragraphs = (
        [
            {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
            for line in text.split("\n")
        ]
        if text
        else []
    )
    return {"type": "doc", "version": 1, "content": paragraphs}


def is_adf(value: Any) -> bool:
    """Whether ``value`` looks like an ADF document (v3 rich text)."""
    return isinstance(value, dict) and value.get("type") == "doc"


def adf_to_text(node: Any) -> str:
    """Flatten ADF to text: block nodes become lines, ``hardBreak`` a newline."""
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    if node.get("type") == "emoji":
        return str((node.get("attrs") or {}).get("shortName", ""))
    children = [adf_to_text(child) for child in node.get("content", [])]
    if node.get("type") in ("doc", "bulletList", "orderedList", "listItem", "blockquote", "panel"):
        return "\n".join(children)
    return "".join(children)


def rich_text(view: View, value: Any) -> Any:
    """A rich-text field value as ``view``'s REST version shows it."""
    if view.version >= 3 and isinstance(value, str):
        return text_to_adf(value)
    if view.version < 3 and is_adf(value):
        return adf_to_text(value)
    return value


# -- users -------------------------------------------------------------------------------


def _avatar_urls(view: View, user: JiraUser) -> dict[str, str]:
    ident = quote(user.account_id if view.deployment == "Cloud" else user.name, safe="")
    return {
        size: f"{view.base_url}/secure/useravatar?size={size}&ownerId={ident}"
        for size in ("48x48", "24x24", "16x16", "32x32")
    }


def user_self(view: View, user: JiraUser) -> str:
    """Cloud links users by accountId, Data Center by username."""
    if view.deployment == "Cloud":
        return view.api(f"user?accountId={quote(user.account_id, safe='')}")
    return view.api(f"user?username={quote(user.name, safe='')}")


def user_details(view: View, user: JiraUser) -> dict[str, Any]:
    """A user embedded in another resource (schema UserDetails).

    Cloud identifies people by ``accountId`` and hides e-mail addresses by
    default; Data Center uses ``name``/``key`` and shows the address.
    """
    shape: dict[str, Any] = {"self": user_self(view, user)}
    if view.deployment == "Cloud":
        shape["accountId"] = user.account_id
    else:
        shape.update(name=user.name, key=user.key, emailAddress=user.email)
    shape.update(
        avatarUrls=_avatar_urls(view, user),
        displayName=user.display_name,
        active=user.active,
        timeZone=user.time_zone,
    )
    if view.deployment == "Cloud":
        shape["accountType"] = user.account_type
    return shape


def user_full(view: View, user: JiraUser) -> dict[str, Any]:
    """The caller's own account as ``GET myself`` returns it (schema User)."""
    shape = user_details(view, user)
    shape.update(
        emailAddress=user.email,
        locale="en_US",
        groups={"size": 1, "items": []},
        applicationRoles={"size": 1, "items": []},
        expand="groups,applicationRoles",
    )
    return shape


# -- comments ----------------------------------------------------------------------------


def comment_json(view: View, comment: StoredComment, *, with_properties: bool) -> dict[str, Any]:
    """One comment (schema Comment); ``properties`` only when expanded."""
    shape: dict[str, Any] = {
        "self": view.api(f"issue/{comment.issue_id}/comment/{comment.id}"),
        "id": comment.id,
        "author": user_details(view, comment.author),
        "body": copy.deepcopy(comment.adf)
        if view.version >= 3 and comment.adf is not None
        else rich_text(view, comment.body),
        "updateAuthor": user_details(view, comment.update_author),
        "created": jira_time(comment.created),
        "updated": jira_time(comment.updated),
    }
    if comment.visibility:
        shape["visibility"] = dict(comment.visibility)
    if view.deployment == "Cloud":
        shape["jsdPublic"] = True
    if with_properties:
        shape["properties"] = [{"key": key, "value": value} for key, value in comment.properties.items()]
    return shape


def embedded_comments(view: View, issue: StoredIssue, *, cap: int) -> dict[str, Any]:
    """The ``comment`` field inside an issue: the first ``cap`` comments and the total."""
    shown = issue.comments[:cap]
    return {
        "comments": [comment_json(view, comment, with_properties=False) for comment in shown],
        "self": view.api(f"issue/{issue.id}/comment"),
        "maxResults": len(shown),
        "total": len(issue.comments),
        "startAt": 0,
    }


# -- changelog ---------------------------------------------------------------------------


def change_item_json(view: View, item: ChangeItem) -> dict[str, Any]:
    """One changed field (schema ChangeDetails). Cloud names the field id too; Data Center does not.

    The schema types ``from``/``to`` as plain strings, so an absent value is left out.
    """
    shape: dict[str, Any] = {"field": item.field_name, "fieldtype": item.field_type}
    if view.deployment == "Cloud":
        shape["fieldId"] = item.field_id
    for key, value in (
        ("from", item.from_value),
        ("fromString", item.from_string),
        ("to", item.to_value),
        ("toString", item.to_string),
    ):
        if value is not None:
            shape[key] = value
    return shape


def history_json(view: View, entry: StoredHistory) -> dict[str, Any]:
    """One changelog entry (schema Changelog): its author in the deployment's user shape."""
    return {
        "id": entry.id,
        "author": user_details(view, entry.author),
        "created": jira_time(entry.created),
        "items": [change_item_json(view, item) for item in entry.items],
    }


def changelog_json(view: View, issue: StoredIssue, *, cap: int | None = None) -> dict[str, Any]:
    """``expand=changelog`` (schema PageOfChangelogs): most recent first, the ``cap`` newest entries.

    Atlassian documents the expansion as "recent updates ... starting from the most recent"; a
    ``total`` above the entries shown tells the reader the list was cut short.
    """
    entries = sorted(issue.history, key=lambda entry: (entry.created, int(entry.id)), reverse=True)
    shown = entries if cap is None else entries[:cap]
    return {
        "startAt": 0,
        "maxResults": len(shown),
        "total": len(entries),
        "histories": [history_json(view, entry) for entry in shown],
    }


def user_page(view: View, members: list[JiraUser], *, start: int, size: int, query: str) -> dict[str, Any]:
    """``GET group/member`` (schema PageBeanUserDetails): one page of a group's users."""
    page = members[start : start + size]
    return {
        "self": view.api(f"group/member?{query}"),
        "maxResults": size,
        "startAt": start,
        "total": len(members),
        "isLast": start + size >= len(members),
        "values": [user_details(view, user) for user in page],
    }


# -- fields ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldInfo:
    """What ``GET field`` says about one field id."""

    id: str
    name: str
    schema: dict[str, Any]

    @property
    def custom(self) -> bool:
        """Custom fields are the ``customfield_<n>`` ids."""
        return self.id.startswith("customfield_")

    @property
    def navigable(self) -> bool:
        """Navigable fields are the ones ``*navigable`` (search's default) returns."""
        return self.id not in NON_NAVIGABLE_FIELDS


def _value_type(value: Any) -> tuple[str, str | None]:
    """Jira's JsonTypeBean ``type`` (and ``items``) for a sample value."""
    if isinstance(value, bool) or value is None:
        return "any", None
    if isinstance(value, int | float):
        return "number", None
    if isinstance(value, str) or is_adf(value):
        return "string", None
    if isinstance(value, list):
        item_type = _value_type(value[0])[0] if value else "string"
        return "array", item_type
    if isinstance(value, dict):
        for marker, kind in (
            ("accountId", "user"),
            ("statusCategory", "status"),
            ("projectTypeKey", "project"),
            ("value", "option"),
        ):
            if marker in value:
                return kind, None
    return "any", None


def _date_type(text: str) -> str | None:
    """A date picker holds "2027-01-08", a date-time field "2027-01-08T17:00:00.000+0000"."""
    if _DATE.fullmatch(text):
        return "date"
    return "datetime" if _DATETIME.fullmatch(text) else None


def field_schema(field_id: str, sample: Any, *, rich: bool) -> dict[str, Any]:
    """A JsonTypeBean for ``field_id`` inferred from a stored value."""
    if field_id == "comment":
        return {"type": "comments-page", "system": "comment"}
    kind, items = _value_type(sample)
    if field_id.startswith("customfield_") and isinstance(sample, str):
        kind = _date_type(sample) or kind
    if field_id == "duedate":  # a date picker on every site, whether or not an issue has a value
        kind = "date"
    schema: dict[str, Any] = {"type": kind}
    if items is not None:
        schema["items"] = items
    if not field_id.startswith("customfield_"):
        schema["system"] = field_id
        return schema
    base = "textarea" if rich else _CUSTOM_TYPES.get(items or kind, "textfield")
    if kind == "array":
        base = "labels" if items == "string" else "multiselect"
    schema["custom"] = f"com.atlassian.jira.plugin.system.customfieldtypes:{base}"
    number = field_id.removeprefix("customfield_")
    if number.isdigit():
        schema["customId"] = int(number)
    return schema


def field_catalog(issues: list[StoredIssue]) -> dict[str, FieldInfo]:
    """Every field any issue has, plus the common system fields, by id.

    Names come from the issues' ``names`` (as ``expand=names`` would show them),
    falling back to Jira's system names and finally to the id itself.
    """
    names: dict[str, str] = dict(SYSTEM_FIELD_NAMES)
    samples: dict[str, Any] = dict.fromkeys(SYSTEM_FIELD_NAMES)
    rich: set[str] = set()
    for issue in issues:
        names.update(issue.names)
        rich.update(issue.rich_text)
        for field_id, value in issue.fields.items():
            if samples.get(field_id) is None:
                samples[field_id] = value
    return {
        field_id: FieldInfo(
            id=field_id,
            name=names.get(field_id, field_id),
            schema=field_schema(field_id, sample, rich=field_id in rich),
        )
        for field_id, sample in samples.items()
    }


def field_details(info: FieldInfo) -> dict[str, Any]:
    """One entry of ``GET field`` (schema FieldDetails)."""
    number = info.id.removeprefix("customfield_")
    clause_names = [f"cf[{number}]", info.name] if info.custom else [info.id]
    return {
        "id": info.id,
        "key": info.id,
        "name": info.name,
        "custom": info.custom,
        "orderable": info.id not in ("created", "updated"),
        "navigable": info.navigable,
        "searchable": True,
        "clauseNames": clause_names,
        "schema": info.schema,
    }


# -- issues ------------------------------------------------------------------------------


def select_fields(tokens: list[str], available: list[str], *, default: str) -> list[str]:
    """Resolve Jira's ``fields`` parameter against the ids an issue has.

    ``*all`` and ``*navigable`` expand, ``-id`` excludes, unknown ids are
    ignored, and a list of only exclusions starts from ``default``.
    """
    includes = [token for token in tokens if token and not token.startswith("-")]
    excludes = {token[1:] for token in tokens if token.startswith("-")}
    chosen: list[str] = []
    for token in includes or [default]:
        if token == "*all":
            chosen.extend(available)
        elif token == "*navigable":
            chosen.extend(field for field in available if field not in NON_NAVIGABLE_FIELDS)
        elif token in available:
            chosen.append(token)
    return [field for field in dict.fromkeys(chosen) if field not in excludes]


def select_properties(tokens: list[str], available: list[str]) -> list[str]:
    """Resolve a ``properties`` parameter (``*all``, ``key``, ``-key``) to stored keys."""
    excludes = {token[1:] for token in tokens if token.startswith("-")}
    chosen: list[str] = []
    for token in tokens:
        if token == "*all":
            chosen.extend(available)
        elif token in available:
            chosen.append(token)
    return [key for key in dict.fromkeys(chosen) if key not in excludes]


@dataclass(frozen=True)
class IssueRequest:
    """What the caller asked for: field/property tokens and expansions."""

    fields: list[str]
    default_fields: str
    expand: frozenset[str]
    properties: list[str] | None
    comment_cap: int
    changelog_cap: int | None = None  # most recent changelog entries shown; None: all


def issue_field_values(
    view: View, issue: StoredIssue, field_ids: list[str], *, comment_cap: int
) -> dict[str, Any]:
    """The ``fields`` object for the chosen ids, rich text converted for ``view``."""
    values: dict[str, Any] = {}
    for field_id in field_ids:
        if field_id == "comment":
            values[field_id] = embedded_comments(view, issue, cap=comment_cap)
        elif field_id in issue.rich_text:
            values[field_id] = rich_text(view, issue.fields[field_id])
        else:
            values[field_id] = issue.fields[field_id]
    return values


def issue_json(
    view: View,
    issue: StoredIssue,
    request: IssueRequest,
    catalog: dict[str, FieldInfo],
    *,
    inline_names: bool = True,
) -> dict[str, Any]:
    """One issue (schema IssueBean).

    ``names``/``schema`` sit inside the issue for ``GET issue`` but at the top
    of a search result, so searches pass ``inline_names=False``.
    """
    available = [*issue.fields, "comment"]
    field_ids = select_fields(request.fields, available, default=request.default_fields)
    shape: dict[str, Any] = {
        "expand": ISSUE_EXPAND,
        "id": issue.id,
        "self": view.api(f"issue/{issue.id}"),
        "key": issue.key,
        "fields": issue_field_values(view, issue, field_ids, comment_cap=request.comment_cap),
    }
    if inline_names and "names" in request.expand:
        shape["names"] = {field_id: catalog[field_id].name for field_id in field_ids}
    if inline_names and "schema" in request.expand:
        shape["schema"] = {field_id: catalog[field_id].schema for field_id in field_ids}
    if request.properties is not None:
        keys = select_properties(request.properties, list(issue.properties))
        shape["properties"] = {key: issue.properties[key] for key in keys}
    if "changelog" in request.expand:
        shape["changelog"] = changelog_json(view, issue, cap=request.changelog_cap)
    return shape


def returned_field_ids(results: list[dict[str, Any]]) -> list[str]:
    """Ids of every field present in any rendered issue, for a search's ``names``."""
    return list(dict.fromkeys(field_id for result in results for field_id in result["fields"]))


# -- server ------------------------------------------------------------------------------


def server_info(view: View, *, now: datetime, build_date: datetime) -> dict[str, Any]:
    """``GET serverInfo`` (schema ServerInformation).

    Cloud reports a 1001.x version, Data Center a 9.x/10.x one; the client
    keys its Cloud-only behaviour (``/search/jql``) off ``deploymentType``.
    """
    if view.deployment == "Cloud":
        version, numbers, build = "1001.0.0-SNAPSHOT", [1001, 0, 0], 100289
    else:
        version, numbers, build = "9.12.15", [9, 12, 15], 9120015
    shape: dict[str, Any] = {
        "baseUrl": view.base_url,
        "version": version,
        "versionNumbers": numbers,
        "deploymentType": view.deployment,
        "buildNumber": build,
        "buildDate": jira_time(build_date),
        "serverTime": jira_time(now),
        "scmInfo": "0000000000000000000000000000000000000000",
        "serverTitle": "Jira",
    }
    if view.deployment == "Cloud":
        shape["displayUrl"] = view.base_url
    return shape
