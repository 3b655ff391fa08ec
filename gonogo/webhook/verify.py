"""Is this delivery from Jira? Checked over the raw bytes, before anything parses them.

Jira signs a webhook's body with HMAC-SHA256 keyed on the webhook's secret and sends
`X-Hub-Signature: sha256=<hex>`; a Jira Automation rule cannot compute an HMAC, so it sends a
shared token in a header of our choosing instead. Both are compared in constant time
(`hmac.compare_digest`) through their SHA-256, so that not even their length shows in the timing.
Pure: bytes and strings in, a decision out.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from enum import StrEnum

SIGNATURE_HEADER = "X-Hub-Signature"


class Authenticity(StrEnum):
    SIGNED = "signed"  # a valid X-Hub-Signature
    TOKEN = "token"  # the shared token header matched
    OPEN = "open"  # no secret configured: nothing to check (allowed on loopback only)
    REJECTED = "rejected"


def signature(body: bytes, secret: str) -> str:
    """The `X-Hub-Signature` value Jira sends for `body` (also what tests and the bench send)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def authenticate(
    body: bytes, headers: Mapping[str, str], *, secret: str | None, token: str | None, token_header: str
) -> Authenticity:
    """Whether the delivery proves knowledge of a configured secret. `headers` must look names up
    case-insensitively, as Starlette's `Headers` and a dict with lower-case keys do."""
    if secret is None and token is None:
        return Authenticity.OPEN
    signed = headers.get(SIGNATURE_HEADER.lower()) or headers.get(SIGNATURE_HEADER) or ""
    if secret is not None and _same(signed.strip().lower(), signature(body, secret)):
        return Authenticity.SIGNED
    sent = headers.get(token_header.lower()) or headers.get(token_header) or ""
    if token is not None and _same(sent.strip(), token):
        return Authenticity.TOKEN
    return Authenticity.REJECTED


def _same(given: str, expected: str) -> bool:
    given_digest = hashlib.sha256(given.encode("utf-8", "replace")).digest()
    return hmac.compare_digest(given_digest, hashlib.sha256(expected.encode("utf-8")).digest())
