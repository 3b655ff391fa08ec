"""Authenticity over raw bytes: Jira's HMAC signature and the Automation rule's shared token."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from webhook_helpers import SAMPLES

from gonogo.sources.config import Secret
from gonogo.webhook.settings import WebhookSettings
from gonogo.webhook.verify import authentic, signature

BODY = (SAMPLES / "cloud-issue-created.json").read_bytes()
SECRET = "It's a Secret to Everybody"


def check(headers: dict[str, str], *, secret: str | None = SECRET, token: str | None = None) -> bool:
    lowered = {name.lower(): value for name, value in headers.items()}
    settings = WebhookSettings(
        secret=Secret(secret) if secret is not None else None,
        token=Secret(token) if token is not None else None,
        token_header="X-Gonogo-Token",
    )
    return authentic(BODY, lowered, settings)


def test_the_signature_is_hmac_sha256_of_the_exact_bytes_in_lowercase_hex() -> None:
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert signature(BODY, SECRET) == f"sha256={expected}"
    assert check({"X-Hub-Signature": f"sha256={expected}"}) is True
    assert check({"x-hub-signature": f"SHA256={expected.upper()}"}) is True


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature": ""},
        {"X-Hub-Signature": signature(BODY, "another secret")},
        {"X-Hub-Signature": signature(BODY + b" ", SECRET)},
        {"X-Hub-Signature": signature(BODY, SECRET).replace("sha256=", "sha1=")},
        {"X-Hub-Signature": signature(BODY, SECRET)[:-1]},
        {"X-Hub-Signature": "sha256=" + "é" * 64},
        {"X-Hub-Signature-256": signature(BODY, SECRET)},
    ],
    ids=[
        "missing",
        "empty",
        "other secret",
        "other body",
        "other algorithm",
        "truncated",
        "non-ascii",
        "wrong header",
    ],
)
def test_anything_but_the_right_signature_is_rejected(headers: dict[str, str]) -> None:
    assert check(headers) is False


def test_a_shared_token_authenticates_senders_that_cannot_sign() -> None:
    assert check({"X-Gonogo-Token": "t0ken"}, secret=None, token="t0ken") is True
    assert check({"X-Gonogo-Token": "t0ken"}, token="t0ken") is True
    assert check({"X-Gonogo-Token": "t0ke"}, token="t0ken") is False
    assert check({"X-Other": "t0ken"}, token="t0ken") is False
    # A token is no substitute for a signature unless one is configured.
    assert check({"X-Gonogo-Token": "t0ken"}) is False


def test_without_any_secret_nothing_is_checked() -> None:
    assert check({}, secret=None, token=None) is True
