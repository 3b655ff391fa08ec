"""Is this delivery from Jira? Checked over the raw bytes, before anything parses them.

Jira signs a webhook's body with HMAC-SHA256 keyed on the webhook's secret and sends
`X-Hub-Signature: sha256=<hex>`; a Jira Automation rule cannot compute an HMAC, so it sends a
shared token in a header of our choosing instead. Both are compared in constant time
(`hmac.compare_digest`) through their SHA-256, so that not even their length shows in the timing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from gonogo.webhook.settings import WebhookSettings

SIGNATURE_HEADER = "x-hub-signature"


def signature(body: bytes, secret: str) -> str:
    """The `X-Hub-Signature` value Jira sends for `body` (also what tests and the bench send)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def authentic(body: bytes, headers: Mapping[str, str], settings: WebhookSettings) -> bool:
    """Whether the delivery proves knowledge of a configured secret (a valid signature, or the token
    when one is configured); with neither configured there is nothing to check (loopback only).
    Each secret is revealed only where it is compared. `headers` looks names up in lower case, as
    Starlette's `Headers` does in any case."""
    secret, token = settings.secret, settings.token
    if secret is None and token is None:
        return True
    signed = headers.get(SIGNATURE_HEADER, "").strip().lower()
    if secret is not None and _same(signed, signature(body, secret.reveal())):
        return True
    return token is not None and _same(headers.get(settings.token_header.lower(), "").strip(), token.reveal())


def _same(given: str, expected: str) -> bool:
    given_digest = hashlib.sha256(given.encode("utf-8", "replace")).digest()
    return hmac.compare_digest(given_digest, hashlib.sha256(expected.encode("utf-8")).digest())
