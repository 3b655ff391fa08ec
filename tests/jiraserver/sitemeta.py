"""How the site is set up: a ticket's edit metadata and the account's permissions.

``editmeta`` lists the fields on the ticket's edit screen the account may edit, with the allowed
options of select fields; ``mypermissions`` answers ``havePermission`` per permission key. Tests
shape both through ``JiraServer.set_field_options``, ``remove_from_edit_screen`` and
``deny_permission``.
"""

from __future__ import annotations

from typing import Any

from .calls import Call, JiraHttpError, Reply
from .endpoints import find_issue, get_issue
from .model import StoredIssue
from .shapes import FieldInfo, field_catalog

NOT_EDITABLE = frozenset({"status", "created", "updated", "project"})
MULTI_VALUE_OPERATIONS = ["add", "set", "remove"]
PERMISSIONS = {
    "BROWSE_PROJECTS": ("10", "Browse Projects", "Ability to browse projects and the issues within them."),
    "ADD_COMMENTS": ("15", "Add Comments", "Ability to comment on issues."),
    "EDIT_OWN_COMMENTS": ("35", "Edit Own Comments", "Ability to edit own comments made on issues."),
    "EDIT_ISSUES": ("12", "Edit Issues", "Ability to edit issues."),
}
PERMISSIONS_REQUIRED = "The 'permissions' query parameter is required."


def _options(call: Call, field_id: str) -> list[str]:
    """The field's options: as a test set them, else every option value any issue holds."""
    configured = call.store.field_options.get(field_id)
    if configured is not None:
        return list(configured)
    seen: list[str] = []
    for issue in call.store.issues():
        value = issue.fields.get(field_id)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and isinstance(item.get("value"), str) and item["value"] not in seen:
                seen.append(item["value"])
    return seen


def _field_metadata(call: Call, info: FieldInfo) -> dict[str, Any]:
    """One FieldMetadata entry of ``editmeta``."""
    kind = info.schema.get("type")
    items = info.schema.get("items")
    metadata: dict[str, Any] = {
        "required": info.id == "summary",
        "schema": info.schema,
        "name": info.name,
        "key": info.id,
        "operations": MULTI_VALUE_OPERATIONS if kind == "array" or info.id == "comment" else ["set"],
    }
    if "option" in (kind, items):
        number = info.id.removeprefix("customfield_")
        metadata["allowedValues"] = [
            {
                "self": call.view.api(f"customFieldOption/{number}{index:02d}"),
                "value": text,
                "id": f"{number}{index:02d}",
            }
            for index, text in enumerate(_options(call, info.id), start=1)
        ]
    return metadata


def get_edit_meta(call: Call, ref: str) -> Reply:
    """``GET issue/{k}/editmeta``: the edit screen's fields (IssueUpdateMetadata)."""
    return Reply(200, edit_meta(call, find_issue(call, ref)))


def get_issue_with_meta(call: Call, ref: str) -> Reply:
    """``GET issue/{k}``; with ``expand=editmeta`` the issue carries its edit metadata, as Jira's does."""
    reply = get_issue(call, ref)
    if "editmeta" in call.expand() and isinstance(reply.payload, dict):
        reply.payload["editmeta"] = edit_meta(call, find_issue(call, ref))
    return reply


def edit_meta(call: Call, issue: StoredIssue) -> dict[str, Any]:
    """The edit screen's fields of one issue (IssueUpdateMetadata)."""
    catalog = field_catalog(call.store.issues())
    on_screen = [
        field_id
        for field_id in dict.fromkeys([*issue.fields, "labels", "comment"])
        if field_id in catalog and field_id not in NOT_EDITABLE and field_id not in call.store.off_edit_screen
    ]
    if "EDIT_ISSUES" in call.store.denied_permissions:
        on_screen = []  # without Edit Issues, nothing is editable
    return {"fields": {field_id: _field_metadata(call, catalog[field_id]) for field_id in on_screen}}


def get_my_permissions(call: Call) -> Reply:
    """``GET mypermissions?issueKey=&permissions=``: ``havePermission`` per key (Permissions)."""
    asked = call.tokens("permissions")
    if not asked and call.settings.deployment == "Cloud":
        raise JiraHttpError(400, [PERMISSIONS_REQUIRED])
    for key in ("issueKey", "issueId"):
        ref = call.text(key)
        if ref:
            find_issue(call, ref)
    unknown = [key for key in asked if key not in PERMISSIONS]
    if unknown:
        raise JiraHttpError(400, [f"Invalid permission key: {unknown[0]}"])
    answer = {}
    for key in asked or list(PERMISSIONS):
        permission_id, name, description = PERMISSIONS[key]
        answer[key] = {
            "id": permission_id,
            "key": key,
            "name": name,
            "type": "PROJECT",
            "description": description,
            "havePermission": key not in call.store.denied_permissions,
        }
    return Reply(200, {"permissions": answer})
