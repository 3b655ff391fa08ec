"""gonogo's HTTP session with Jira: a `requests.Session` it creates and configures itself, typed.

Why not the `jira` client: the gateway must see every response (round-trips, the shared throttle)
and needs writes the client has no public method for (a comment with its properties in one POST,
comment bodies in ADF on REST v3, one `PUT issue` with properties, labels and a comment edit). The
client reaches both only through private attributes, so gonogo speaks REST itself: the same
requests, with the headers and authentication the client would send, on public `requests` API.

Jira's answers are untrusted, and `requests` alone trusts them in three ways this module takes back:
- Time. Its timeout bounds each read, so an answer trickling a byte at a time never ends. Here every
  request also has an overall deadline (`timeout` from its start, on an injectable clock), checked
  before each read of the body; past it the answer is dropped as a `requests.ReadTimeout`. (The
  status line and headers are still bounded per read only: `requests` gives no hold on them.)
- Redirects. It follows them anywhere, re-sending bodies. Here only a redirect to the same scheme,
  host and port is followed; any other is a `RedirectRefused` naming where Jira pointed.
- Shape. A body nested 100,000 deep is a RecursionError in `json`; here it is `TooDeep`.
Faults of the body's transport (a dropped connection, an answer shorter than its Content-Length)
surface as the `requests` exceptions they are (`ChunkedEncodingError`, `ConnectionError`).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

Response = requests.Response
# Jira's deepest answers (ADF documents with nested lists) are a few dozen levels deep.
MAX_JSON_DEPTH = 100
_MAX_SAME_SITE_REDIRECTS = 5
_READ_SIZE = 64 * 1024


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


class RedirectRefused(Exception):
    """Jira answered with a redirect off its own scheme, host and port; `location` is where to."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class TooDeep(ValueError):
    """An answer's JSON is nested deeper than `MAX_JSON_DEPTH`: no Jira answer is."""


def json_of(response: Response) -> Any:
    """The JSON of an answer, or ValueError (`TooDeep` for absurd nesting, never RecursionError)."""
    try:
        data = json.loads(response.content)
    except RecursionError:
        raise TooDeep(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    pending = [(data, 1)]
    while pending:  # without recursion: the nesting itself is what is being checked
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise TooDeep(f"nested deeper than {MAX_JSON_DEPTH} levels")
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return data


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
    retried. `clock` measures each request's overall deadline (see the module).
    """

    def __init__(
        self,
        url: str,
        *,
        auth: BasicAuth | BearerAuth,
        timeout: float,
        user_agent: str,
        on_response: Callable[[Response], None],
        clock: Callable[[], float] = time.monotonic,
        before_send: Callable[[str, str], None] = lambda method, url: None,
    ) -> None:
        self.url = url.rstrip("/")
        self._before_send = before_send
        self.timeout = timeout
        self._clock = clock
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
        response = self._exchange("GET", self.rest_url(path), params=dict(params or {}))
        _raise_for_error(response)
        if not response.content:
            return {}
        return json_of(response)

    def send_json(
        self, method: Literal["POST", "PUT"], path: str, payload: Any, *, version: int = 2
    ) -> Response:
        """POST or PUT a JSON body to a REST path under `version`; the response, or HttpError."""
        response = self._exchange(method, self.rest_url(path, version=version), data=json.dumps(payload))
        _raise_for_error(response)
        return response

    def delete(self, path: str) -> Response:
        """DELETE a REST v2 path; the response, or HttpError."""
        response = self._exchange("DELETE", self.rest_url(path))
        _raise_for_error(response)
        return response

    def _exchange(self, method: str, url: str, **kwargs: Any) -> Response:
        """One request and its whole answer within the deadline, redirects only within the site."""
        deadline = self._clock() + self.timeout
        for _ in range(_MAX_SAME_SITE_REDIRECTS + 1):
            self._before_send(method, url)
            response = self.session.request(
                method, url, timeout=self.timeout, allow_redirects=False, stream=True, **kwargs
            )
            self._read_body(response, deadline)
            if not response.is_redirect:
                return response
            target = urljoin(url, response.headers["Location"])
            if _origin(target) != _origin(self.url):
                raise RedirectRefused(target)
            url, kwargs = target, {key: value for key, value in kwargs.items() if key != "params"}
        raise RedirectRefused(url)

    def _read_body(self, response: Response, deadline: float) -> None:
        """Read the whole body, a chunk as it arrives, giving up at the deadline.

        `read1` returns whatever has arrived, so a trickle is seen byte by byte; the body then
        replaces the stream (`raw`), so `content` and `json()` work as on any response.
        """
        raw = response.raw
        chunks = []
        while chunk := _read_some(raw):
            chunks.append(chunk)
            if self._clock() > deadline:
                response.close()
                raise requests.ReadTimeout(f"the answer took longer than {self.timeout:g} s")
        raw.release_conn()
        response.raw = io.BytesIO(b"".join(chunks))


def _read_some(raw: urllib3.BaseHTTPResponse) -> bytes:
    """What has arrived of the body (at least a byte, b"" at its end), faults as `requests` names them."""
    try:
        return raw.read1(_READ_SIZE, decode_content=True)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.ReadTimeout(str(exc)) from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(str(exc)) from None
    except (urllib3.exceptions.ProtocolError, OSError) as exc:
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _raise_for_error(response: Response) -> None:
    if not response.ok:
        raise HttpError(response)
