"""Record the test Jira's answers to gonogo's requests into tests/samples/jira/*.json.

Usage: python tests/samples/record_jira.py

Each sample is one real HTTP exchange with the loopback test Jira (tests/jiraserver): the request
`gonogo.jira.rest` builds, and the status, headers and body Jira answered. `tests/test_jira_rest.py`
reads them with the pure readers, so the readers are tested on what Jira sends, not on hand-made
dicts. Errors Jira gives on its own (a missing issue, bad credentials, a bad JQL query) are real;
rate limits and outages are injected with the server's own fault hooks, as the other tests do.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from jiraserver import BOT_USER, JiraServer, running_server  # noqa: E402
from site_helpers import seed  # noqa: E402

from gonogo.jira import rest  # noqa: E402

KEPT_HEADERS = ("Retry-After", "RateLimit-Reason", "X-RateLimit-NearLimit", "Content-Type")
MARK = {"gonogo.verdict": {"gonogo": True}}


def exchange(server: JiraServer, request: rest.Request, *, auth: Any = None) -> dict[str, Any]:
    path = request.path if request.path.startswith("/") else f"/rest/api/{request.version}/{request.path}"
    answer = requests.request(
        request.method,
        server.url + path,
        params=dict(request.params),
        json=request.body,
        headers={} if auth else server.auth_headers,
        auth=auth,
        timeout=10,
    )
    headers = {name: answer.headers[name] for name in KEPT_HEADERS if name in answer.headers}
    return {
        "request": f"{request.method} {path}",
        "status": answer.status_code,
        "headers": headers,
        "body": answer.text,
    }


def failing(
    server: JiraServer, path: str, status: int, headers: dict[str, str], request: rest.Request | None = None
) -> dict[str, Any]:
    """An answer the server's fault hook gives: Jira's rate limits and outages cannot be asked for."""
    request = request or rest.Request("GET", "myself")
    server.fail_next(request.method, path, status, headers=headers)
    return exchange(server, request)


def cloud_samples(server: JiraServer) -> dict[str, Callable[[], dict[str, Any]]]:
    seed(server, "doomed", "BID-1")
    seed(server, "healthy", "BID-2")
    seed(server, "needs-info", "BID-3")
    server.add_comments("BID-1", 3)
    server.add_comment("BID-1", "a verdict", author=BOT_USER, properties=MARK)
    server.add_group("bid-approvers", [BOT_USER])
    cloud_search = {"jql": "project = BID ORDER BY key", "maxResults": 2, "fields": "summary"}
    return {
        "comments_page": lambda: exchange(server, rest.comments("BID-1", 0)),
        "search_jql_first_page": lambda: exchange(server, rest.search(cloud_search, None, cloud=True)),
        "search_bad_jql": lambda: exchange(server, rest.search({"jql": "project = = BID"}, None, cloud=True)),
        "group_members": lambda: exchange(server, rest.group_members("bid-approvers", 0)),
        "issue_not_found": lambda: exchange(server, rest.get_issue("BID-404", None, "gonogo.verdict")),
        "credentials_refused": lambda: exchange(
            server, rest.Request("GET", "myself"), auth=("x@y.z", "wrong")
        ),
        "rate_limited": lambda: failing(
            server, "/myself$", 429, {"Retry-After": "7", "RateLimit-Reason": "jira-burst-based"}
        ),
        "server_broken": lambda: failing(
            server, "/myself$", 503, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}
        ),
        "permission_refused": lambda: failing(
            server, "/comment$", 403, {}, rest.create_comment("BID-3", _wiki("no"), MARK)
        ),
        "comment_refused": lambda: exchange(
            server, rest.edit_issue("BID-2", {}, comment=("999999", _wiki("gone")))
        ),
    }


def data_center_samples(server: JiraServer) -> dict[str, Callable[[], dict[str, Any]]]:
    seed(server, "doomed", "BID-1")
    seed(server, "healthy", "BID-2")
    seed(server, "needs-info", "BID-3")
    params = {"jql": "project = BID ORDER BY key", "maxResults": 2, "fields": "summary"}
    return {
        "search_offset_first_page": lambda: exchange(server, rest.search(params, None, cloud=False)),
        "search_offset_last_page": lambda: exchange(server, rest.search(params, 2, cloud=False)),
    }


def _wiki(text: str) -> Any:
    from gonogo.core.jira_shapes.comment_format import CommentBody, CommentFormat  # noqa: PLC0415

    return CommentBody(CommentFormat.WIKI, text)


def main() -> None:
    out = HERE / "jira"
    out.mkdir(exist_ok=True)
    for deployment, samples in (("Cloud", cloud_samples), ("Server", data_center_samples)):
        with running_server(deployment=deployment, validate=False) as server:
            for name, record in samples(server).items():
                (out / f"{name}.json").write_text(json.dumps(record(), indent=2, sort_keys=True) + "\n")
                print(f"recorded {name}")


if __name__ == "__main__":
    main()
