"""Admin webhooks over REST: `/rest/webhooks/1.0/webhook`, as Cloud and Data Center serve it.

What the webhook registration REST API documents: register with `name`, `url`, `events`,
`filters` (`issue-related-events-section`: the JQL that limits issue events), `excludeBody` and
an optional `secret`; list, read, update (`PUT`) and delete by id; the account needs Administer
Jira. An answer names the webhook by its `self` URL (`…/webhook/{id}`) and never returns the
secret. The API is older than, and outside, the OpenAPI document of `/rest/api/3`.
"""

from __future__ import annotations

from typing import Any

from . import jql
from .calls import Call, JiraHttpError, Reply

JQL_SECTION = "issue-related-events-section"
NOT_ADMIN = "You must be a Jira administrator to manage webhooks."


def _require_admin(call: Call) -> None:
    if not call.settings.administer:
        raise JiraHttpError(403, [NOT_ADMIN])


def _shape(call: Call, webhook_id: int, stored: dict[str, Any]) -> dict[str, Any]:
    """A webhook as the API answers: everything but the secret, with its `self` link."""
    user = call.settings.user
    return {
        "name": stored["name"],
        "url": stored["url"],
        "excludeBody": stored["excludeBody"],
        "filters": {JQL_SECTION: stored["jql"]},
        "events": list(stored["events"]),
        "enabled": stored["enabled"],
        "self": f"{call.view.base_url}/rest/webhooks/1.0/webhook/{webhook_id}",
        "lastUpdatedUser": user.account_id,
        "lastUpdatedDisplayName": user.display_name,
        "lastUpdated": int(call.store.now.timestamp() * 1000),
    }


def _validated(call: Call, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The request's webhook, over `previous` for an update; Jira's 400 for a bad one."""
    body = call.json_object()
    fresh = {"excludeBody": False, "enabled": True, "events": [], "jql": "", "secret": None}
    merged = dict(previous or fresh)
    for field in ("name", "url"):
        value = body.get(field, merged.get(field))
        if not isinstance(value, str) or not value.strip():
            raise JiraHttpError(400, errors={field: f"The webhook's {field} is required."})
        merged[field] = value
    events = body.get("events", merged["events"])
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise JiraHttpError(400, errors={"events": "Events must be a list of event names."})
    merged["events"] = events
    filters = body.get("filters")
    if filters is not None:
        text = filters.get(JQL_SECTION, "") if isinstance(filters, dict) else None
        if not isinstance(text, str):
            raise JiraHttpError(400, errors={"filters": "Filters must map a section to a JQL string."})
        if text.strip():
            try:
                jql.parse(text)
            except jql.JqlError as error:
                raise JiraHttpError(400, errors={"filters": str(error)}) from None
        merged["jql"] = text
    for flag in ("excludeBody", "enabled"):
        if flag in body:
            merged[flag] = bool(body[flag])
    if "secret" in body:
        merged["secret"] = body["secret"] or None
    return merged


def _stored(call: Call, webhook_id: int) -> dict[str, Any]:
    stored = call.store.webhooks.get(webhook_id)
    if stored is None:
        raise JiraHttpError(404, [f"Webhook with id {webhook_id} does not exist."])
    return stored


def list_webhooks(call: Call) -> Reply:
    _require_admin(call)
    return Reply(200, [_shape(call, i, w) for i, w in sorted(call.store.webhooks.items())])


def create_webhook(call: Call) -> Reply:
    _require_admin(call)
    webhook = _validated(call, None)
    webhook_id = call.store.next_webhook_id
    call.store.next_webhook_id += 1
    call.store.webhooks[webhook_id] = webhook
    return Reply(201, _shape(call, webhook_id, webhook))


def get_webhook(call: Call, webhook_id: int) -> Reply:
    _require_admin(call)
    return Reply(200, _shape(call, webhook_id, _stored(call, webhook_id)))


def update_webhook(call: Call, webhook_id: int) -> Reply:
    _require_admin(call)
    webhook = _validated(call, _stored(call, webhook_id))
    call.store.webhooks[webhook_id] = webhook
    return Reply(200, _shape(call, webhook_id, webhook))


def delete_webhook(call: Call, webhook_id: int) -> Reply:
    _require_admin(call)
    _stored(call, webhook_id)
    del call.store.webhooks[webhook_id]
    return Reply(204)
