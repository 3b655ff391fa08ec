"""Sends a `rest.Request` over `requests` and brings back an `Answer`, retrying what may be retried.

Jira's answers are untrusted (docs/jira.md): the whole body must arrive within `timeout` of the
request's start, redirects are followed only within the site, and a POST that may already have
happened (after a broken answer or a 500/502/504) is never re-sent.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import requests
import tenacity
import urllib3

from gonogo import __version__
from gonogo.core.errors import doubling
from gonogo.jira import rest
from gonogo.jira.throttle import Throttle

if TYPE_CHECKING:
    from gonogo.sources.config import JiraSettings

log = logging.getLogger("gonogo.jira.gateway")  # one name for the edge's request log (the service quiets it)

_HEADERS = {
    "User-Agent": f"gonogo/{__version__}",
    "Content-Type": "application/json",
    "Cache-Control": "no-cache",
    "X-Atlassian-Token": "no-check",  # Jira's XSRF check, as the jira client sends it
}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_SAME_SITE_REDIRECTS = 5
_READ_SIZE = 64 * 1024
_NOT_PROCESSED = {429, 503}  # Jira says the request was not processed
_MAYBE_PROCESSED = {500, 502, 504}
# The answer broke off (timeout, dropped connection, short body): the request may have been processed.
_BROKEN_ANSWER = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


@dataclass(eq=False)
class RedirectRefused(Exception):
    """Jira redirected off its own scheme, host and port."""

    location: str  # where to


@dataclass(eq=False)
class RetryAfterTooLong(Exception):
    """Jira asked to wait longer than `max_wait`: give up, not hang."""

    seconds: float


class _Bearer(requests.auth.AuthBase):
    """A Data Center personal access token (an auth object, so that no ~/.netrc entry replaces it).
    Not a dataclass: its repr must not show the token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class Transport:
    """One `requests.Session` to one Jira site; counts round-trips and feeds the shared throttle.
    `auth` is (email, API token) for Cloud, a personal access token for Data Center."""

    def __init__(
        self,
        url: str,
        limits: JiraSettings,
        *,
        auth: tuple[str, str] | str,
        throttle: Throttle | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.round_trips = 0
        self._timeout = limits.timeout_seconds
        self._retries = limits.retries
        self._max_wait = limits.max_retry_wait_seconds
        self._throttle = throttle
        # A retry's back-off goes through the run's throttle, so that stopping the run cuts it short.
        self._sleep = sleep or (throttle.pause if throttle is not None else time.sleep)
        self._clock = clock or time.monotonic  # measures each request's overall deadline
        self._http = requests.Session()
        self._http.headers.update(_HEADERS)
        self._http.auth = auth if isinstance(auth, tuple) else _Bearer(auth)

    def send(self, request: rest.Request) -> rest.Answer:
        """The successful answer to `request`, else the last `rest.ErrorAnswer` or `requests` failure."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self._retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception(lambda exc: self._should_retry(exc, request.idempotent)),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: log.info(
                "retrying %s %s in %.1f s (%s)",
                request.method,
                request.path.split("?")[0],
                state.upcoming_sleep,
                _short(state.outcome.exception() if state.outcome else None),
            ),
        )
        return retrying(self._attempt, request)

    def _attempt(self, request: rest.Request) -> rest.Answer:
        """One request and its whole answer within the deadline, redirects only within the site."""
        method = request.method
        body = None if request.body is None else json.dumps(request.body)
        path = request.path if request.path.startswith("/") else f"/rest/api/{request.version}/{request.path}"
        url, params = self.url + path, dict(request.params)
        deadline = self._clock() + self._timeout
        for _ in range(_MAX_SAME_SITE_REDIRECTS + 1):
            if self._throttle is not None:
                self._throttle.wait_turn(method, url)
            response = self._http.request(
                method,
                url,
                params=params,
                data=body,
                timeout=self._timeout,
                allow_redirects=False,
                stream=True,
            )
            answer = rest.Answer(response.status_code, response.headers, self._body(response, deadline))
            self.round_trips += 1
            if self._throttle is not None:
                self._throttle.observe(answer, method, url)
            ms = response.elapsed.total_seconds() * 1000
            log.debug("jira %s %s -> %s in %.0f ms", method, urlsplit(url).path, answer.status, ms)
            if answer.status >= 400:
                raise rest.error_for(answer, datetime.now(UTC))
            if not response.is_redirect:
                return answer
            target = urljoin(url, response.headers["Location"])
            if _origin(target) != _origin(self.url):
                raise RedirectRefused(target)
            url, params = target, {}
        raise RedirectRefused(url)

    def _body(self, response: requests.Response, deadline: float) -> bytes:
        """The whole body, read as it arrives (`read1`), so a trickle is seen byte by byte."""
        chunks = []
        while chunk := _read_some(response.raw):
            chunks.append(chunk)
            if self._clock() > deadline:
                response.close()
                raise requests.ReadTimeout(f"the answer took longer than {self._timeout:g} s")
        response.raw.release_conn()
        return b"".join(chunks)

    def _should_retry(self, exc: BaseException, idempotent: bool) -> bool:
        if isinstance(exc, rest.ErrorAnswer):
            retryable = exc.status in _NOT_PROCESSED or (idempotent and exc.status in _MAYBE_PROCESSED)
            if retryable and exc.retry_after is not None and exc.retry_after > self._max_wait:
                raise RetryAfterTooLong(exc.retry_after)
            return retryable
        if isinstance(exc, requests.ConnectTimeout):
            return True  # never connected, so nothing was sent
        return isinstance(exc, _BROKEN_ANSWER) and idempotent

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, rest.ErrorAnswer) and exc.retry_after is not None:
            return exc.retry_after
        return doubling(state.attempt_number, first=0.5, cap=self._max_wait)


def _read_some(raw: urllib3.BaseHTTPResponse) -> bytes:
    """What has arrived of the body (b"" at its end), faults as `requests` names them."""
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
    return parts.scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme)


def _short(exc: BaseException | None) -> str:
    if isinstance(exc, rest.ErrorAnswer):
        return f"HTTP {exc.status}"
    return type(exc).__name__ if exc else "unknown"
