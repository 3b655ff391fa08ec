"""The WSGI application: record, inject faults, authenticate, route, answer.

Order matters and mirrors what a test needs: every request is recorded first
(so a test can see even refused calls), scripted faults win over emulation,
and authentication runs before any Jira logic, as in Jira.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import threading
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import admin_webhooks, endpoints, sitemeta
from .calls import Call, JiraHttpError, Reply, Settings
from .faults import CannedAnswer, FaultBook
from .model import RecordedRequest
from .shapes import View, error_collection
from .store import JiraStore

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

JSON_TYPE = "application/json;charset=UTF-8"
API = "/rest/api/<any('2', '3', 'latest'):version>"
ANONYMOUS_ENDPOINTS = frozenset({"get_server_info"})
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."

_ROUTES: list[tuple[str, str, list[str]]] = [
    ("/serverInfo", "get_server_info", ["GET"]),
    ("/myself", "get_myself", ["GET"]),
    ("/field", "get_fields", ["GET"]),
    ("/group/member", "get_group_members", ["GET"]),
    ("/user", "get_user", ["GET"]),
    ("/issue/<ref>", "get_issue_with_meta", ["GET"]),
    ("/issue/<ref>", "edit_issue", ["PUT"]),
    ("/issue/<ref>/editmeta", "get_edit_meta", ["GET"]),
    ("/mypermissions", "get_my_permissions", ["GET"]),
    ("/issue/<ref>/comment", "list_comments", ["GET"]),
    ("/issue/<ref>/comment", "add_comment", ["POST"]),
    ("/issue/<ref>/comment/<comment_id>", "get_comment", ["GET"]),
    ("/issue/<ref>/comment/<comment_id>", "update_comment", ["PUT"]),
    ("/issue/<ref>/comment/<comment_id>", "delete_comment", ["DELETE"]),
    ("/issue/<ref>/properties", "list_issue_properties", ["GET"]),
    ("/issue/<ref>/properties/<key>", "get_issue_property", ["GET"]),
    ("/issue/<ref>/properties/<key>", "put_issue_property", ["PUT"]),
    ("/issue/<ref>/properties/<key>", "delete_issue_property", ["DELETE"]),
    ("/comment/list", "list_comments_by_ids", ["POST"]),
    ("/comment/<comment_id>/properties", "list_comment_properties", ["GET"]),
    ("/comment/<comment_id>/properties/<key>", "get_comment_property", ["GET"]),
    ("/comment/<comment_id>/properties/<key>", "put_comment_property", ["PUT"]),
    ("/comment/<comment_id>/properties/<key>", "delete_comment_property", ["DELETE"]),
    ("/search", "search_offset", ["GET", "POST"]),
    ("/search/jql", "search_tokens", ["GET", "POST"]),
]

WEBHOOKS = "/rest/webhooks/1.0/webhook"  # admin webhooks: a REST API of its own, outside /rest/api
_WEBHOOK_ROUTES: list[tuple[str, str, list[str]]] = [
    ("", "list_webhooks", ["GET"]),
    ("", "create_webhook", ["POST"]),
    ("/<int:webhook_id>", "get_webhook", ["GET"]),
    ("/<int:webhook_id>", "update_webhook", ["PUT"]),
    ("/<int:webhook_id>", "delete_webhook", ["DELETE"]),
]
TENANT_INFO = "/_edge/tenant_info"  # the site's cloud id, served by the site without credentials

URL_MAP = Map(
    [Rule(API + path, endpoint=name, methods=methods) for path, name, methods in _ROUTES]
    + [Rule(WEBHOOKS + path, endpoint=name, methods=methods) for path, name, methods in _WEBHOOK_ROUTES],
    strict_slashes=False,
    merge_slashes=False,
)


class Recorder:
    """Thread-safe log of requests and the answers they got."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RecordedRequest] = []

    def start(self, request: Request, raw_body: bytes) -> RecordedRequest:
        """Record a request as it arrives, before anything can fail."""
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query={name: ",".join(request.args.getlist(name)) for name in request.args},
            raw_query=request.query_string.decode("latin-1"),
            headers=dict(request.headers.items()),
            body=_parse_json(raw_body),
            raw_body=raw_body,
        )
        with self._lock:
            self._records.append(record)
        return record

    def forget(self, path_regex: str) -> int:
        """Drop the recorded requests whose path matches `path_regex`; returns how many."""
        pattern = re.compile(path_regex)
        with self._lock:
            kept = [r for r in self._records if not pattern.search(r.path)]
            dropped = len(self._records) - len(kept)
            self._records[:] = kept
        return dropped

    def finish(self, record: RecordedRequest, response: Response) -> None:
        """Attach the answer to its request."""
        body = response.get_data()
        with self._lock:
            record.status = response.status_code
            record.response_body = body
            record.response_json = _parse_json(body)
            record.response_headers = dict(response.headers.items())

    def snapshot(self) -> list[RecordedRequest]:
        """The records so far, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget everything recorded so far."""
        with self._lock:
            self._records.clear()


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def check_credentials(header: str | None, settings: Settings) -> bool | None:
    """True if ``header`` matches the configured credentials, None if absent, False if wrong.

    Comparisons are constant-time; the scheme must be the configured one.
    """
    if settings.auth is None:
        return True
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if settings.auth[0] == "basic" and scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = f"{settings.auth[1]}:{settings.auth[2]}"
        return hmac.compare_digest(decoded.encode(), expected.encode())
    if settings.auth[0] == "bearer" and scheme.lower() == "bearer":
        return hmac.compare_digest(value.strip().encode(), settings.auth[1].encode())
    return False


def to_response(reply: Reply) -> Response:
    """Serialise a Reply; 204 and payload-less replies carry no body."""
    if reply.payload is None or reply.status == 204:
        return Response(status=reply.status, headers=reply.headers)
    body = json.dumps(reply.payload, ensure_ascii=False)
    return Response(body, status=reply.status, headers=reply.headers, content_type=JSON_TYPE)


def canned_response(answer: CannedAnswer) -> Response:
    """A fault answer exactly as scripted (its body need not be valid JSON)."""
    response = Response(answer.body, status=answer.status, headers=answer.headers)
    if answer.body and "Content-Type" not in answer.headers:
        response.content_type = JSON_TYPE
    return response


class JiraApp:
    """WSGI callable emulating the Jira REST API over a ``JiraStore``."""

    def __init__(
        self, *, settings: Settings, store: JiraStore, faults: FaultBook, recorder: Recorder
    ) -> None:
        self.settings = settings
        self.store = store
        self.faults = faults
        self.recorder = recorder
        self.base_url = ""
        self.stopping = threading.Event()
        self._errors_lock = threading.Lock()
        self.internal_errors: list[str] = []
        self._idle = threading.Condition()
        self._in_flight = 0

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with self._idle:
            self._in_flight += 1
        try:
            request = Request(environ)
            raw_body = request.get_data(cache=True)
            record = self.recorder.start(request, raw_body)
            response = self._respond(request, raw_body, record)
            self.recorder.finish(record, response)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()
        return response(environ, start_response)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being handled, so the log is complete after ``stop``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def _respond(self, request: Request, raw_body: bytes, record: RecordedRequest) -> Response:
        scripted = self.faults.take(request.method, request.path)
        if isinstance(scripted, CannedAnswer):
            record.injected = True
            return canned_response(scripted)
        if scripted is not None:
            self.faults.wait(scripted)
            if self.stopping.is_set():
                record.injected = True
                return to_response(Reply(503, error_collection(["The test server is stopping."])))
        try:
            return to_response(self._dispatch(request, raw_body))
        except JiraHttpError as error:
            return to_response(error.reply())
        except Exception:  # a bug in the fake must surface in the test, not hang it
            with self._errors_lock:
                self.internal_errors.append(traceback.format_exc())
            return to_response(Reply(500, error_collection(["Internal test server error."])))

    def _dispatch(self, request: Request, raw_body: bytes) -> Reply:
        path = request.path
        prefix = self.settings.gateway_prefix
        if path == TENANT_INFO and self.settings.cloud_id:
            return Reply(200, {"cloudId": self.settings.cloud_id})
        if prefix:
            if not path.startswith(prefix + "/"):
                # The site itself refuses a scoped token: it is good only at the gateway.
                raise JiraHttpError(401, [NOT_AUTHENTICATED])
            path = path[len(prefix) :]
        adapter = URL_MAP.bind_to_environ(request.environ)
        try:
            name, arguments = adapter.match(path_info=path)
        except MethodNotAllowed:
            raise endpoints.method_not_allowed() from None
        except NotFound:
            raise endpoints.not_found(request.path) from None
        self._authenticate(request, str(name))
        arguments = dict(arguments)
        version = arguments.pop("version", "2")
        view = View(self.base_url + prefix, 3 if version == "3" else 2, self.settings.deployment)
        call = Call(request=request, view=view, settings=self.settings, store=self.store, raw_body=raw_body)
        handler: endpoints.Endpoint = (
            getattr(endpoints, str(name), None)
            or getattr(sitemeta, str(name), None)
            or getattr(admin_webhooks, str(name))
        )
        with self.store.lock:
            return handler(call, **arguments)

    def _authenticate(self, request: Request, endpoint: str) -> None:
        verdict = check_credentials(request.headers.get("Authorization"), self.settings)
        if verdict or (verdict is None and endpoint in ANONYMOUS_ENDPOINTS):
            return
        headers = {}
        if self.settings.deployment == "Server" and verdict is False:
            headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
        raise JiraHttpError(401, [NOT_AUTHENTICATED], headers=headers)
