"""The Jira REST operations the server emulates, one function per operation.

Each takes a ``Call`` plus the path parameters and returns a ``Reply`` or raises
``JiraHttpError``. The server holds the store lock around every call.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from . import jql
from .adf_schema import adf_errors
from .calls import Call, JiraHttpError, Reply, parse_count, split_tokens
from .model import StoredComment, StoredIssue
from .shapes import (
    IssueRequest,
    adf_to_text,
    comment_json,
    field_catalog,
    field_details,
    is_adf,
    issue_json,
    returned_field_ids,
    server_info,
    user_full,
    user_page,
)

ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
ADF_REQUIRED = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
UNBOUNDED_JQL = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
PROPERTY_VALUE_LIMIT = 32768
PROPERTY_KEY_LIMIT = 255
DEFAULT_COMMENT_PAGE = 100
DEFAULT_SEARCH_PAGE = 50

Endpoint = Callable[..., Reply]
Change = Callable[[], object]
"""A validated edit, applied only once the whole request has been checked."""


# -- server and user ---------------------------------------------------------------------


def get_server_info(call: Call) -> Reply:
    """``GET serverInfo``: the one call Jira also answers anonymously."""
    return Reply(200, server_info(call.view, now=call.store.now, build_date=call.settings.build_date))


def get_myself(call: Call) -> Reply:
    """``GET myself``: the account the credentials belong to."""
    return Reply(200, user_full(call.view, call.settings.user))


def get_fields(call: Call) -> Reply:
    """``GET field``: system fields plus every field the stored issues use."""
    catalog = field_catalog(call.store.issues())
    return Reply(200, [field_details(info) for info in catalog.values()])


GROUP_PAGE_CAP = 50


def get_group_members(call: Call) -> Reply:
    """``GET group/member``: a group's users, offset-paged; inactive ones only when asked for."""
    name = call.text("groupname")
    if not name:
        raise JiraHttpError(400, ["You must specify a group name."])
    members = call.store.group(name)
    if members is None:
        raise JiraHttpError(404, [f"Group with name '{name}' does not exist."])
    if not call.flag("includeInactiveUsers"):
        members = [user for user in members if user.active]
    start = call.integer("startAt", 0)
    size = max(1, min(call.integer("maxResults", GROUP_PAGE_CAP), GROUP_PAGE_CAP))
    query = f"groupname={quote(name, safe='')}&startAt={start}&maxResults={size}"
    return Reply(200, user_page(call.view, members, start=start, size=size, query=query))


def get_user(call: Call) -> Reply:
    """``GET user``: one account, by ``accountId`` (Cloud) or ``username`` (Data Center); 404 if unknown."""
    cloud = call.settings.deployment == "Cloud"
    wanted = call.text("accountId" if cloud else "username")
    if not wanted:
        raise JiraHttpError(
            400, ["You must specify an accountId." if cloud else "You must specify a username."]
        )
    for user in call.store.users():
        if (user.account_id if cloud else user.name.casefold()) == (wanted if cloud else wanted.casefold()):
            return Reply(200, user_full(call.view, user))
    if cloud:
        raise JiraHttpError(404, ["Specified user does not exist or you do not have required permissions"])
    raise JiraHttpError(404, [f"The user named '{wanted}' does not exist"])


# -- issues ------------------------------------------------------------------------------


def find_issue(call: Call, ref: str) -> StoredIssue:
    """The issue for an id or key, or Jira's 404."""
    issue = call.store.issue(ref)
    if issue is None:
        raise JiraHttpError(404, [ISSUE_NOT_FOUND])
    return issue


def _issue_request(call: Call, *, default_fields: str) -> IssueRequest:
    return IssueRequest(
        fields=call.tokens("fields"),
        default_fields=default_fields,
        expand=call.expand(),
        properties=call.args("properties"),
        comment_cap=call.settings.comment_page_cap,
        changelog_cap=call.settings.changelog_cap,
    )


def get_issue(call: Call, ref: str) -> Reply:
    """``GET issue/{issueIdOrKey}`` with ``fields``, ``expand`` and ``properties``."""
    issue = find_issue(call, ref)
    request = _issue_request(call, default_fields="*all")
    catalog = field_catalog(call.store.issues())
    return Reply(200, issue_json(call.view, issue, request, catalog))


def edit_issue(call: Call, ref: str) -> Reply:
    """``PUT issue/{issueIdOrKey}``: fields, update operations and properties at once.

    Everything is validated before anything changes, as Jira rejects the whole
    edit when one part is wrong.
    """
    issue = find_issue(call, ref)
    body = call.json_object()
    changes = _planned_changes(call, issue, body)
    before = copy.deepcopy(issue.fields)
    for change in changes:
        change()
    _record_history(call, issue, before)
    if call.flag("returnIssue"):
        catalog = field_catalog(call.store.issues())
        request = _issue_request(call, default_fields="*all")
        return Reply(200, issue_json(call.view, issue, request, catalog))
    return Reply(204)


def _record_history(call: Call, issue: StoredIssue, before: dict[str, Any]) -> None:
    """Write the edit's field changes to the changelog, authored by the caller, as Jira does."""
    after = dict(issue.fields)
    changed = {key: value for key, value in after.items() if before.get(key) != value}
    issue.fields.clear()
    issue.fields.update(before)
    names = {info.id: info.name for info in field_catalog(call.store.issues()).values()}
    call.store.change_fields(issue, changed, author=call.settings.user, field_names=names)
    issue.fields.clear()
    issue.fields.update(after)


def _planned_changes(call: Call, issue: StoredIssue, body: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    fields = body.get("fields") or {}
    update = body.get("update") or {}
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise JiraHttpError(400, ["'fields' and 'update' must be objects."])
    known = set(field_catalog(call.store.issues()))
    for field_id, value in fields.items():
        changes.append(_field_setter(call, issue, field_id, value, known))
    for field_id, operations in update.items():
        if not isinstance(operations, list):
            raise JiraHttpError(400, errors={field_id: "Update operations must be a list."})
        for operation in operations:
            if field_id == "comment":
                changes.append(_comment_operation(call, issue, operation))
            else:
                changes.append(_field_operation(call, issue, field_id, operation, known))
    properties = _property_list(body.get("properties"))
    changes.extend(_property_setter(issue.properties, key, value) for key, value in properties)
    return changes


def _cannot_set(field_id: str) -> JiraHttpError:
    return JiraHttpError(
        400,
        errors={
            field_id: f"Field '{field_id}' cannot be set. It is not on the appropriate screen, or unknown."
        },
    )


def _stored_value(call: Call, issue: StoredIssue, field_id: str, value: Any) -> Any:
    """Rich text is kept as wiki markup; v3 callers must send ADF for it."""
    if field_id not in issue.rich_text or value is None:
        return value
    if call.view.version >= 3:
        if not is_adf(value):
            raise JiraHttpError(400, errors={field_id: ADF_REQUIRED})
        return adf_to_text(value)
    if not isinstance(value, str):
        raise JiraHttpError(400, errors={field_id: "Operation value must be a string"})
    return value


def _field_setter(call: Call, issue: StoredIssue, field_id: str, value: Any, known: set[str]) -> Change:
    if field_id not in known or field_id == "comment" or field_id in call.store.off_edit_screen:
        raise _cannot_set(field_id)
    offered = call.store.field_options.get(field_id)
    if offered is not None and isinstance(value, dict) and value.get("value") not in offered:
        # A select set to an option its edit screen does not offer is refused, as Jira does.
        raise JiraHttpError(400, errors={field_id: f"Option value '{value.get('value')}' is not valid"})
    stored = _stored_value(call, issue, field_id, value)
    return lambda: issue.fields.__setitem__(field_id, stored)


def _single_operation(operation: Any, allowed: tuple[str, ...]) -> tuple[str, Any]:
    if not isinstance(operation, dict) or len(operation) != 1:
        raise JiraHttpError(400, ["Each update operation must have exactly one verb."])
    verb, value = next(iter(operation.items()))
    if verb not in allowed:
        raise JiraHttpError(400, [f"Unsupported update operation '{verb}'."])
    return verb, value


def _field_operation(
    call: Call, issue: StoredIssue, field_id: str, operation: Any, known: set[str]
) -> Change:
    if field_id not in known or field_id in call.store.off_edit_screen:
        raise _cannot_set(field_id)
    verb, value = _single_operation(operation, ("set", "add", "remove"))
    if verb == "set":
        return _field_setter(call, issue, field_id, value, known)

    def apply() -> None:
        current = issue.fields.get(field_id)
        items = list(current) if isinstance(current, list) else []
        if verb == "add":
            items += [] if value in items else [value]  # Jira adds a label (or option) only once
        else:
            items = [item for item in items if item != value]
        issue.fields[field_id] = items

    return apply


def _comment_operation(call: Call, issue: StoredIssue, operation: Any) -> Change:
    verb, value = _single_operation(operation, ("add", "edit", "remove"))
    if not isinstance(value, dict):
        raise JiraHttpError(400, errors={"comment": "Comment operation value must be an object."})
    if verb == "add":
        text = comment_text(call, value.get("body"))
        properties = dict(_property_list(value.get("properties")))
        return lambda: _store_new_comment(call, issue, text, value, properties)
    comment = _issue_comment(issue, str(value.get("id", "")))
    _may_change(call, comment, "delete" if verb == "remove" else "edit")
    if verb == "remove":
        return lambda: call.store.delete_comment(comment)
    text = comment_text(call, value.get("body"))
    return lambda: call.store.edit_comment(
        comment,
        body=text,
        editor=call.settings.user,
        visibility=value.get("visibility"),
        adf=_written_adf(call, value.get("body")),
    )


def _store_new_comment(
    call: Call, issue: StoredIssue, text: str, value: dict[str, Any], properties: dict[str, Any]
) -> StoredComment:
    return call.store.add_comment(
        issue,
        text,
        author=call.settings.user,
        properties=properties,
        visibility=value.get("visibility"),
        adf=_written_adf(call, value.get("body")),
    )


# -- comments ----------------------------------------------------------------------------


def comment_text(call: Call, body: Any) -> str:
    """Validate a comment body for this REST version and return it as wiki text.

    v2 takes a wiki string, v3 an ADF document valid against Atlassian's ADF schema
    (``adf_schema``); empty and over-long bodies are refused the way Jira refuses them (400
    with an ``errors.comment`` entry).
    """
    if call.view.version >= 3:
        if adf_errors(body):
            raise JiraHttpError(400, errors={"comment": "Comment body is not valid!"})
        text = adf_to_text(body)
    else:
        if not isinstance(body, str):
            raise JiraHttpError(400, errors={"comment": "Comment body is not valid!"})
        text = body
    if not text.strip():
        raise JiraHttpError(400, errors={"comment": "Comment body can not be empty!"})
    limit = call.settings.text_limit
    if len(text) > limit:
        raise JiraHttpError(
            400,
            errors={
                "comment": "The entered text is too long. "
                f"It exceeds the allowed limit of {limit:,} characters."
            },
        )
    return text


def _written_adf(call: Call, body: Any) -> dict[str, Any] | None:
    """The ADF document a v3 write stored (already validated by ``comment_text``); v2 writes none."""
    return copy.deepcopy(body) if call.view.version >= 3 and isinstance(body, dict) else None


def _issue_comment(issue: StoredIssue, comment_id: str) -> StoredComment:
    for comment in issue.comments:
        if comment.id == comment_id:
            return comment
    raise JiraHttpError(404, [f"Can not find a comment for key: {comment_id}."])


def _may_change(call: Call, comment: StoredComment, verb: str) -> None:
    """Edit/Delete Own Comments: only the author may change a comment, unless the account has
    Edit/Delete All Comments (``comment_permission="all"``). Cloud answers 400 for either."""
    if call.settings.comment_permission != "all" and comment.author != call.settings.user:
        raise JiraHttpError(400, [f"You do not have the permission to {verb} this comment."])


def list_comments(call: Call, ref: str) -> Reply:
    """``GET issue/{k}/comment``: offset paging, maxResults capped by the server."""
    issue = find_issue(call, ref)
    start = call.integer("startAt", 0)
    size = min(call.integer("maxResults", DEFAULT_COMMENT_PAGE), call.settings.comment_page_cap)
    order = call.text("orderBy") or "created"
    if order not in ("created", "+created", "-created"):
        raise JiraHttpError(400, [f"Invalid orderBy value: {order}"])
    ordered = sorted(
        issue.comments,
        key=lambda comment: (comment.created, int(comment.id)),
        reverse=order == "-created",
    )
    expanded = "properties" in call.expand()
    page = ordered[start : start + size]
    return Reply(
        200,
        {
            "startAt": start,
            "maxResults": size,
            "total": len(ordered),
            "comments": [comment_json(call.view, item, with_properties=expanded) for item in page],
        },
    )


def add_comment(call: Call, ref: str) -> Reply:
    """``POST issue/{k}/comment``: body plus optional ``properties`` in one request."""
    issue = find_issue(call, ref)
    body = call.json_object()
    text = comment_text(call, body.get("body"))
    properties = dict(_property_list(body.get("properties")))
    comment = _store_new_comment(call, issue, text, body, properties)
    return Reply(201, comment_json(call.view, comment, with_properties="properties" in call.expand()))


def get_comment(call: Call, ref: str, comment_id: str) -> Reply:
    """``GET issue/{k}/comment/{id}``."""
    comment = _issue_comment(find_issue(call, ref), comment_id)
    return Reply(200, comment_json(call.view, comment, with_properties="properties" in call.expand()))


def update_comment(call: Call, ref: str, comment_id: str) -> Reply:
    """``PUT issue/{k}/comment/{id}``: new body (and visibility/properties)."""
    comment = _issue_comment(find_issue(call, ref), comment_id)
    _may_change(call, comment, "edit")
    body = call.json_object()
    text = comment_text(call, body.get("body"))
    properties = dict(_property_list(body.get("properties")))
    call.store.edit_comment(
        comment,
        body=text,
        editor=call.settings.user,
        visibility=body.get("visibility"),
        properties=properties,
        adf=_written_adf(call, body.get("body")),
    )
    return Reply(200, comment_json(call.view, comment, with_properties="properties" in call.expand()))


def delete_comment(call: Call, ref: str, comment_id: str) -> Reply:
    """``DELETE issue/{k}/comment/{id}``."""
    comment = _issue_comment(find_issue(call, ref), comment_id)
    _may_change(call, comment, "delete")
    call.store.delete_comment(comment)
    return Reply(204)


def list_comments_by_ids(call: Call) -> Reply:
    """``POST comment/list``: comments by id across issues (PageBeanComment)."""
    body = call.json_object()
    ids = body.get("ids")
    if not isinstance(ids, list):
        raise JiraHttpError(400, errors={"ids": "The list of comment ids is required."})
    found = [call.store.comment(str(comment_id)) for comment_id in ids]
    comments = [comment for comment in found if comment is not None]
    expanded = "properties" in call.expand()
    return Reply(
        200,
        {
            "maxResults": len(comments),
            "startAt": 0,
            "total": len(comments),
            "isLast": True,
            "values": [comment_json(call.view, item, with_properties=expanded) for item in comments],
        },
    )


# -- entity properties -------------------------------------------------------------------


def _check_property(key: Any, value: Any) -> None:
    if not isinstance(key, str) or not key or len(key) > PROPERTY_KEY_LIMIT:
        raise JiraHttpError(
            400,
            errors={
                "propertyKey": f"The property key must be between 1 and {PROPERTY_KEY_LIMIT} characters."
            },
        )
    if len(json.dumps(value)) > PROPERTY_VALUE_LIMIT:
        raise JiraHttpError(
            400, errors={"value": f"The property value exceeds {PROPERTY_VALUE_LIMIT} characters."}
        )


def _property_list(raw: Any) -> list[tuple[str, Any]]:
    """Validate an EntityProperty list (``[{"key", "value"}]``) from a request body."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise JiraHttpError(400, errors={"properties": "Properties must be a list of key/value objects."})
    pairs = [(item.get("key"), item.get("value")) for item in raw]
    for key, value in pairs:
        _check_property(key, value)
    return [(str(key), value) for key, value in pairs]


def _property_setter(target: dict[str, Any], key: str, value: Any) -> Change:
    return lambda: target.__setitem__(key, value)


def _property_keys(call: Call, owner_path: str, properties: dict[str, Any]) -> Reply:
    return Reply(
        200,
        {
            "keys": [
                {
                    "self": call.view.api(f"{owner_path}/properties/{quote(key, safe='')}"),
                    "key": key,
                }
                for key in properties
            ]
        },
    )


def _get_property(properties: dict[str, Any], key: str) -> Reply:
    if key not in properties:
        raise JiraHttpError(404, [f"The property with key '{key}' does not exist."])
    return Reply(200, {"key": key, "value": properties[key]})


def _put_property(call: Call, properties: dict[str, Any], key: str) -> Reply:
    value = call.json()
    _check_property(key, value)
    created = key not in properties
    properties[key] = value
    return Reply(201 if created else 200)


def _delete_property(properties: dict[str, Any], key: str) -> Reply:
    if key not in properties:
        raise JiraHttpError(404, [f"The property with key '{key}' does not exist."])
    del properties[key]
    return Reply(204)


def list_issue_properties(call: Call, ref: str) -> Reply:
    """``GET issue/{k}/properties``: the keys, each with its own URL."""
    issue = find_issue(call, ref)
    return _property_keys(call, f"issue/{issue.id}", issue.properties)


def get_issue_property(call: Call, ref: str, key: str) -> Reply:
    """``GET issue/{k}/properties/{propertyKey}``: 404 when unset."""
    return _get_property(find_issue(call, ref).properties, key)


def put_issue_property(call: Call, ref: str, key: str) -> Reply:
    """``PUT issue/{k}/properties/{propertyKey}``: 201 created, 200 replaced."""
    return _put_property(call, find_issue(call, ref).properties, key)


def delete_issue_property(call: Call, ref: str, key: str) -> Reply:
    """``DELETE issue/{k}/properties/{propertyKey}``."""
    return _delete_property(find_issue(call, ref).properties, key)


def _comment_by_id(call: Call, comment_id: str) -> StoredComment:
    comment = call.store.comment(comment_id)
    if comment is None:
        raise JiraHttpError(404, [f"Can not find a comment for key: {comment_id}."])
    return comment


def list_comment_properties(call: Call, comment_id: str) -> Reply:
    """``GET comment/{id}/properties``."""
    comment = _comment_by_id(call, comment_id)
    return _property_keys(call, f"comment/{comment_id}", comment.properties)


def get_comment_property(call: Call, comment_id: str, key: str) -> Reply:
    """``GET comment/{id}/properties/{propertyKey}``."""
    return _get_property(_comment_by_id(call, comment_id).properties, key)


def put_comment_property(call: Call, comment_id: str, key: str) -> Reply:
    """``PUT comment/{id}/properties/{propertyKey}``."""
    return _put_property(call, _comment_by_id(call, comment_id).properties, key)


def delete_comment_property(call: Call, comment_id: str, key: str) -> Reply:
    """``DELETE comment/{id}/properties/{propertyKey}``."""
    return _delete_property(_comment_by_id(call, comment_id).properties, key)


# -- search ------------------------------------------------------------------------------


def _search_options(call: Call) -> dict[str, Any]:
    """Search parameters from the query string (GET) or the JSON body (POST)."""
    if call.request.method != "POST":
        return {
            "jql": call.text("jql") or "",
            "startAt": call.text("startAt"),
            "maxResults": call.text("maxResults"),
            "nextPageToken": call.text("nextPageToken"),
            "fields": call.tokens("fields"),
            "expand": call.tokens("expand"),
            "properties": call.args("properties"),
        }
    body = call.json_object()

    def listed(name: str) -> list[str] | None:
        raw = body.get(name)
        if raw is None:
            return None
        return split_tokens(raw if isinstance(raw, list) else [raw])

    return {
        "jql": body.get("jql") or "",
        "startAt": body.get("startAt"),
        "maxResults": body.get("maxResults"),
        "nextPageToken": body.get("nextPageToken"),
        "fields": listed("fields") or [],
        "expand": listed("expand") or [],
        "properties": listed("properties"),
    }


def _run_query(call: Call, text: str, *, bounded: bool = False) -> list[StoredIssue]:
    """Issues matching ``text``; bad JQL (or, if ``bounded``, no restriction) is a 400."""
    try:
        query = jql.parse(text)
        if bounded and query.unbounded:
            raise JiraHttpError(400, [UNBOUNDED_JQL])
        return jql.search(query, call.store.issues())
    except jql.JqlError as error:
        raise JiraHttpError(400, [str(error)]) from None


def _render_results(
    call: Call, issues: list[StoredIssue], options: dict[str, Any], *, default_fields: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rendered issues plus the top-level ``names``/``schema`` a search expands."""
    expand = frozenset(options["expand"])
    request = IssueRequest(
        fields=options["fields"],
        default_fields=default_fields,
        expand=expand,
        properties=options["properties"],
        comment_cap=call.settings.comment_page_cap,
        changelog_cap=call.settings.changelog_cap,
    )
    catalog = field_catalog(call.store.issues())
    rendered = [issue_json(call.view, issue, request, catalog, inline_names=False) for issue in issues]
    if "editmeta" in expand:  # each issue carries its edit screen, as a GET issue would
        from .sitemeta import edit_meta  # noqa: PLC0415 - sitemeta builds on this module

        for issue, payload in zip(issues, rendered, strict=True):
            payload["editmeta"] = edit_meta(call, issue)
    extras: dict[str, Any] = {}
    field_ids = returned_field_ids(rendered)
    if "names" in expand:
        extras["names"] = {field_id: catalog[field_id].name for field_id in field_ids}
    if "schema" in expand:
        extras["schema"] = {field_id: catalog[field_id].schema for field_id in field_ids}
    return rendered, extras


def search_offset(call: Call) -> Reply:
    """``GET/POST search``: Data Center's offset paging; Cloud has removed it (410)."""
    if call.settings.deployment == "Cloud":
        raise JiraHttpError(410, [SEARCH_REMOVED])
    options = _search_options(call)
    found = _run_query(call, options["jql"])
    start = parse_count("startAt", options["startAt"], 0)
    size = min(
        parse_count("maxResults", options["maxResults"], DEFAULT_SEARCH_PAGE),
        call.settings.search_page_cap,
    )
    rendered, extras = _render_results(
        call, found[start : start + size], options, default_fields="*navigable"
    )
    return Reply(
        200,
        {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(found),
            "issues": rendered,
            **extras,
        },
    )


def _encode_token(offset: int, query: str) -> str:
    raw = json.dumps({"offset": offset, "jql": query}).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_token(token: str | None, query: str) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded))
        offset = int(decoded["offset"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise JiraHttpError(400, ["The provided next page token is invalid or expired."]) from None
    if decoded.get("jql") != query or offset < 0:
        raise JiraHttpError(400, ["The provided next page token is invalid or expired."])
    return offset


def search_tokens(call: Call) -> Reply:
    """``GET/POST search/jql``: Cloud's token paging, no ``total``; absent on Data Center."""
    if call.settings.deployment != "Cloud":
        raise JiraHttpError(404, ["null for uri: " + call.request.url])
    options = _search_options(call)
    query_text = str(options["jql"])
    found = _run_query(call, query_text, bounded=True)
    start = _decode_token(options["nextPageToken"], query_text)
    size = max(
        1,
        min(
            parse_count("maxResults", options["maxResults"], DEFAULT_SEARCH_PAGE),
            call.settings.search_page_cap,
        ),
    )
    rendered, extras = _render_results(call, found[start : start + size], options, default_fields="id")
    is_last = start + size >= len(found)
    payload: dict[str, Any] = {"issues": rendered, **extras}
    if call.settings.search_is_last:  # optional in Atlassian's schema: the last page has no token
        payload["isLast"] = is_last
    if not is_last:
        payload["nextPageToken"] = _encode_token(start + size, query_text)
    return Reply(200, payload)


def method_not_allowed() -> JiraHttpError:
    """Jira's 405 body for a known path with an unsupported method."""
    return JiraHttpError(405, ["Method not allowed for this resource."])


def not_found(path: str) -> JiraHttpError:
    """Jira's 404 for a path no REST resource serves."""
    return JiraHttpError(404, [f"null for uri: {path}"])
