"""gonogo's HTTP session with Jira: a `requests.Session` it creates and configures itself, typed.

Why not the `jira` client: the gateway must see every response (round-trips, the shared throttle)
and needs writes the client has no public method for (a comment with its properties in one POST,
comment bodies in ADF on REST v3, one `PUT issue` with properties, labels and a comment edit). The
client reaches both only through private attributes, so gonogo speaks REST itself: the same
requests, with the headers and authentication the client would send, on public `requests` API.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import requests

Response = requests.Response


@dataclass(frozen=True)
class BasicAuth:
    """Jira Cloud: the account's email and an API token."""

    user: str
    token: str


@dataclass(frozen=True)
class BearerAuth:
    """Jira Data Center: a personal access token."""

    token: str


class HttpError(Exception):
    """Jira answered with an error status; `response` carries Jira's ErrorCollection and headers."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.status_code = response.status_code
        self.response = response


class _Bearer(requests.auth.AuthBase):
    """`Authorization: Bearer TOKEN` on every request of the session."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class JiraHttp:
    """The REST calls the gateway makes: GET for JSON, POST/PUT of JSON, DELETE; errors as HttpError.

    `before_send` sees every request's method and URL before it goes (the shared throttle holds
    it back while a rate limit covers it); `on_response` sees every response (the gateway counts
    round-trips and feeds the throttle). Nothing is retried here: the gateway decides what may be
    retried.
    """

    def __init__(
        self,
        url: str,
        *,
        auth: BasicAuth | BearerAuth,
        timeout: float,
        user_agent: str,
        on_response: Callable[[Response], None],
        before_send: Callable[[str, str], None] = lambda method, url: None,
    ) -> None:
        self.url = url.rstrip("/")
        self._before_send = before_send
        self.timeout = timeout
        session = requests.Session()
        session.headers.update(
            {
                "User-Agent": user_agent,
                "Content-Type": "application/json",
                "Cache-Control": "no-cache",
                "X-Atlassian-Token": "no-check",  # Jira's XSRF check, as the jira client sends it
            }
        )
        session.auth = (auth.user, auth.token) if isinstance(auth, BasicAuth) else _Bearer(auth.token)

        def observe(response: Response, *args: Any, **kwargs: Any) -> None:
            on_response(response)

        session.hooks["response"].append(observe)
        self.session = session

    def rest_url(self, path: str, *, version: int = 2) -> str:
        """The URL of a REST path (`issue/BID-1/comment`) under `/rest/api/{version}/`; a path
        from the root (`/rest/webhooks/1.0/webhook`, another REST API of Jira's) as it is."""
        if path.startswith("/"):
            return f"{self.url}{path}"
        return f"{self.url}/rest/api/{version}/{path}"

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a REST v2 path and return its JSON (an empty body reads as `{}`, as Jira's client has it).

        Raises HttpError for an error status, ValueError for a body that is not JSON, and the
        `requests` exceptions for timeouts and connection failures.
        """
        url = self.rest_url(path)
        self._before_send("GET", url)
        response = self.session.get(url, params=dict(params or {}), timeout=self.timeout)
        _raise_for_error(response)
        if not response.content:
            return {}
        return response.json()

    def send_json(
        self, method: Literal["POST", "PUT"], path: str, payload: Any, *, version: int = 2
    ) -> Response:
        """POST or PUT a JSON body to a REST path under `version`; the response, or HttpError."""
        url = self.rest_url(path, version=version)
        self._before_send(method, url)
        response = self.session.request(method, url, data=json.dumps(payload), timeout=self.timeout)
        _raise_for_error(response)
        return response

    def delete(self, path: str) -> Response:
        """DELETE a REST v2 path; the response, or HttpError."""
        url = self.rest_url(path)
        self._before_send("DELETE", url)
        response = self.session.delete(url, timeout=self.timeout)
        _raise_for_error(response)
        return response


def _raise_for_error(response: Response) -> None:
    if not response.ok:
        raise HttpError(response)
