"""`gonogo setup --webhook URL`: register the Jira admin webhook `gonogo serve` needs, or fix it.

The JQL, events and secret come from the configuration the service reads too, so they cannot
disagree; run twice, it updates its webhook (found by URL or name): one webhook, never two.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gonogo.core.errors import ConfigurationError, GonogoError, InputError
from gonogo.flows.doctor import DoctorLine, ok, problem, skipped
from gonogo.sources.config import Settings
from gonogo.webhook.classify import CREATED, UPDATED
from gonogo.webhook.queue import check_queue
from gonogo.webhook.recheck import jql_string
from gonogo.webhook.settings import SECRET_ENV, WebhookSettings, webhook_settings

if TYPE_CHECKING:
    from gonogo.jira.gateway import JiraGateway

WEBHOOK_NAME = "gonogo"
JQL_SECTION = "issue-related-events-section"  # where an admin webhook keeps its JQL filter


@dataclass(frozen=True)
class WebhookSpec:
    url: str
    events: tuple[str, ...]
    jql: str


@dataclass(frozen=True)
class Registration:
    """What `register_webhook` did, for the summary: never the secret itself."""

    action: str  # "registered" or "updated"
    webhook_id: str | None
    spec: WebhookSpec
    secret_source: str  # the file or variable the service reads it from
    secret_created: bool


def webhook_spec(settings: Settings, url: str) -> WebhookSpec:
    """The webhook for `url`, the events the service handles and the configured projects and types."""
    table = settings.webhook
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(
            f"--webhook {url}: give the service's public URL, e.g. https://gonogo.example.com/webhook"
        )
    path = table.get("path", WebhookSettings.path)
    if (parts.path or "/") != path:
        raise InputError(
            f"--webhook {url}: its path is {parts.path or '/'}, but gonogo serve listens on {path} "
            "([webhook].path): use the same path"
        )
    events = [CREATED]
    if table.get("check_on_update") or settings.jira.label_prefix:
        events.append(UPDATED)  # updates of mapped fields, and verdict labels moved by people
    # `project in (...) AND issuetype in (...)` for what is configured; "" (every issue) for nothing
    projects = ", ".join(p.upper() for p in table.get("projects", []))  # the schema allows A-Z, 0-9, _
    types = ", ".join(jql_string(t) for t in table.get("issue_types", []))
    clauses = [f"project in ({projects})" if projects else "", f"issuetype in ({types})" if types else ""]
    return WebhookSpec(url=url, events=tuple(events), jql=" AND ".join(filter(None, clauses)))


def register_webhook(
    gateway: JiraGateway, settings: Settings, url: str, environ: Mapping[str, str]
) -> Registration:
    """Create or update gonogo's admin webhook, with the secret `gonogo serve` reads."""
    spec = webhook_spec(settings, url)
    secret, source, new_file = _service_secret(settings, environ)
    existing = find_webhook(gateway.admin_webhooks(), url)
    body: dict[str, Any] = {
        "name": WEBHOOK_NAME,
        "url": url,
        "events": list(spec.events),
        "filters": {JQL_SECTION: spec.jql},
        "excludeBody": False,
        "enabled": True,
        "secret": secret,  # Jira signs each delivery's body with it
    }
    saved = gateway.save_admin_webhook(body, existing.get("id") if existing else None)
    if new_file is not None:  # only once Jira has it: a refusal leaves no secret behind
        _write_private(new_file, secret + "\n")
    return Registration(
        action="updated" if existing else "registered",
        webhook_id=saved.get("id"),
        spec=spec,
        secret_source=source,
        secret_created=new_file is not None,
    )


def find_webhook(hooks: Sequence[Mapping[str, Any]], url: str | None) -> Mapping[str, Any] | None:
    """gonogo's webhook among the site's: the first pointing at `url`, else the first named gonogo."""
    at_url = [h for h in hooks if url is not None and _same_url(h, url)]
    return next(iter(at_url + [h for h in hooks if h.get("name") == WEBHOOK_NAME]), None)


def _same_url(hook: Mapping[str, Any], url: str) -> bool:
    return str(hook.get("url", "")).rstrip("/") == url.rstrip("/")


def webhook_problems(hook: Mapping[str, Any], spec: WebhookSpec) -> list[str]:
    """How a registered webhook falls short of `spec`, in words; [] when it will do."""
    problems = []
    if hook.get("enabled") is False:
        problems.append("it is disabled")
    if not _same_url(hook, spec.url):
        problems.append(f"it posts to {hook.get('url')}, not {spec.url}")
    events = hook.get("events")
    if missing := [e for e in spec.events if not isinstance(events, list) or e not in events]:
        problems.append(f"it does not send {', '.join(missing)}")
    if hook.get("excludeBody") is True:
        problems.append("it leaves out the body, which the service reads")
    return problems


def _service_secret(settings: Settings, environ: Mapping[str, str]) -> tuple[str, str, Path | None]:
    """(secret, where the service reads it, the file to write it to when it is new). The service reads
    GONOGO_WEBHOOK_SECRET before [webhook].secret_file, so a set variable wins; else the file's secret
    is kept (a second run registers the same one), or a new one is made."""
    if environ.get(SECRET_ENV):
        return environ[SECRET_ENV].strip(), SECRET_ENV, None
    configured = settings.webhook.get("secret_file")
    if configured is None:
        raise ConfigurationError(
            f"[webhook].secret_file is not set, so gonogo serve would not find the webhook's secret: "
            f'add secret_file = "webhook-secret" to [webhook] in gonogo.toml (or export {SECRET_ENV})'
        )
    path = settings.base_dir / str(configured)
    try:
        kept = path.read_text(encoding="utf-8").strip() if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"[webhook].secret_file {path}: cannot read it ({exc.__class__.__name__})"
        ) from None
    if kept:
        return kept, str(path), None
    return secrets.token_urlsafe(32), str(path), path


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a file created readable by its owner only (0600): never readable by others."""
    try:
        path.unlink(missing_ok=True)  # an empty file left behind: replaced, not reused with its mode
        # Written through the descriptor that created it: a second open by name could be redirected.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ConfigurationError(
            f"[webhook].secret_file {path}: cannot write it ({exc.strerror or exc.__class__.__name__})"
        ) from None


def service_lines(settings: Settings, environ: Mapping[str, str]) -> list[DoctorLine]:
    """`doctor --service`: the webhook settings load, a secret or token is set, the queue is reachable."""
    try:
        webhook = webhook_settings(settings, environ)
    except ConfigurationError as error:
        return [problem("webhook", "webhook-error", error=str(error))]
    has_secret = webhook.secret is not None or webhook.token is not None
    secret = ok("webhook secret", "secret") if has_secret else problem("webhook secret", "secret-missing")
    usable, what, details = check_queue(webhook.queue)
    return [secret, (ok if usable else problem)("queue", what, **details)]


def registered_webhook_lines(gateway: JiraGateway, settings: Settings) -> list[DoctorLine]:
    """`doctor --service`: gonogo's webhook exists, is enabled, posts to the URL and sends the events."""
    url: str | None = settings.webhook.get("public_url")  # the config schema: absent, or a URL
    try:
        hook = find_webhook(gateway.admin_webhooks(), url)
        if hook is None:
            return [problem("jira webhook", "webhook-missing", url=url)]
        spec = webhook_spec(settings, url or str(hook.get("url", "")))
    except ConfigurationError:  # 403: a least-privileged service account may not list admin webhooks
        return [skipped("jira webhook", "webhook-unlisted")]
    except GonogoError as error:
        return [problem("jira webhook", "webhook-error", error=str(error))]
    wrong = webhook_problems(hook, spec)
    if wrong:
        return [problem("jira webhook", "webhook-wrong", url=spec.url, problems=wrong)]
    return [ok("jira webhook", "webhook", url=spec.url, events=list(spec.events), jql=spec.jql)]
