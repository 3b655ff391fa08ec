"""Settings from `gonogo.toml` and the environment, checked once, with errors that name the fix.

The API token comes from the environment only, so it never lives in a file that gets committed;
environment variables win over the file.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import jsonschema

from gonogo.core.errors import ConfigurationError
from gonogo.core.jira_shapes.comment_format import CommentFormat, is_cloud_host
from gonogo.core.jira_shapes.verdict_labels import DEFAULT_LABEL_PREFIX
from gonogo.core.pipeline.decisions import DecisionPolicy
from gonogo.core.pipeline.waivers import WaiverPolicy
from gonogo.sources.resources import bundled_json

API_GATEWAY = "https://api.atlassian.com"  # scoped API tokens (service accounts') work only through it
_GATEWAY_PATH = re.compile(r"/ex/jira/([^/]+)")
# JSON Schema's "integer" admits 4.0, which would put "3.0" into a REST path.
_WHOLE_NUMBER_JIRA_KEYS = ("retries", "api_version")


class Secret:
    """A string that does not print itself, so a token cannot leak through repr(), logs or errors."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class JiraSettings:
    """How to reach Jira. `url` and `token` may be absent until a check actually needs Jira."""

    url: str | None = None
    user: str | None = None
    token: Secret | None = None
    timeout_seconds: float = 30.0
    retries: int = 4
    max_retry_wait_seconds: float = 60.0
    comment_property: str = "gonogo.verdict"
    deployment: str = "auto"  # "cloud", "data-center", or "auto" (the host, else one serverInfo request)
    label_prefix: str = DEFAULT_LABEL_PREFIX  # verdict labels ("gonogo-no-go"); "" turns them off
    api_version: int | None = None  # REST version for comments: 2 (wiki) or 3 (ADF); None: by deployment
    cloud_id: str | None = None  # the site's cloud id: requests go through Atlassian's API gateway
    site_url: str | None = None  # the site people browse, when `url` is the gateway

    @property
    def via_gateway(self) -> bool:
        """Whether requests go to Atlassian's API gateway (scoped tokens) rather than the site."""
        return self.cloud_id is not None

    @property
    def _url_is_gateway(self) -> bool:
        return self.url is not None and _GATEWAY_PATH.fullmatch(urlsplit(self.url).path) is not None

    @property
    def api_url(self) -> str | None:
        """Where requests go: the gateway's address for the cloud id, else the site itself."""
        if self.cloud_id is not None and not self._url_is_gateway:
            return f"{API_GATEWAY}/ex/jira/{self.cloud_id}"
        return self.url

    @property
    def browse_url(self) -> str | None:
        """The site people open: browse links point here, and a pasted link must name it."""
        return self.site_url if self._url_is_gateway else self.url

    @property
    def comment_format(self) -> CommentFormat:
        """ADF on Cloud unless `api_version` is 2, wiki markup on Data Center; never asks Jira."""
        cloud = self.deployment == "cloud" or (self.deployment == "auto" and is_cloud_host(self.url))
        if self.api_version == 3 or (cloud and self.api_version != 2):
            return CommentFormat.ADF
        return CommentFormat.WIKI

    @property
    def auth_style(self) -> str:
        """`basic` (Jira Cloud: email + API token) or `bearer` (Data Center personal access token)."""
        return "basic" if self.user else "bearer"

    def require_connection(self) -> tuple[str, Secret]:
        """Return (the URL requests go to, token) or say exactly which variable to set."""
        if not self.url:
            raise ConfigurationError(
                "JIRA_URL is not set: export JIRA_URL=https://your-site.atlassian.net "
                "(or set [jira].url in gonogo.toml)"
            )
        if self.token is None and self.user:
            raise ConfigurationError(
                f"JIRA_USER (or [jira].user) is {self.user} but JIRA_API_TOKEN is not set: "
                "export JIRA_API_TOKEN=<API token for that user>"
            )
        if self.token is None:
            raise ConfigurationError(
                "JIRA_API_TOKEN is not set: export JIRA_API_TOKEN=<API token> (Jira Cloud, with "
                "JIRA_USER=<email>) or a Data Center personal access token (without JIRA_USER)"
            )
        return self.api_url or self.url, self.token


@dataclass(frozen=True)
class Settings:
    """Everything a check needs to know besides the ticket."""

    jira: JiraSettings = field(default_factory=JiraSettings)
    fields: Mapping[str, str] = field(default_factory=dict)
    unrecorded: frozenset[str] = frozenset()  # `property = false` in [fields]: this site does not record it
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # [values.PROPERTY] option aliases
    thresholds: Mapping[str, float] = field(default_factory=dict)
    placeholders: tuple[str, ...] = ()  # [vocabulary].placeholders: the site's own "TBD"s
    checklist_paths: tuple[Path, ...] = ()
    disabled_checklists: frozenset[str] = frozenset()
    condition_validator: str = "jsonschema"
    template_dir: Path | None = None
    waivers: WaiverPolicy = field(default_factory=WaiverPolicy)
    decisions: DecisionPolicy = field(default_factory=DecisionPolicy)
    webhook: Mapping[str, Any] = field(default_factory=dict)  # the [webhook] table, read by gonogo.webhook
    config_file: Path | None = None  # where these settings came from, for messages
    base_dir: Path = field(default_factory=Path.cwd)  # relative paths in the file are relative to it


def load_settings(
    config_path: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the config file (`--config` or GONOGO_CONFIG, else `./gonogo.toml`) and the environment."""
    env = os.environ if environ is None else environ
    path, data = _read_config_file(Path(config_path) if config_path else None)
    base = path.parent if path else Path.cwd()
    checklists_table: dict[str, Any] = data.get("checklists", {})
    template_path = data.get("templates", {}).get("path")
    fields: dict[str, Any] = data.get("fields", {})
    waivers: dict[str, Any] = data.get("waivers", {})
    return Settings(
        jira=_jira_settings(data.get("jira", {}), env, path),
        fields={prop: ref for prop, ref in fields.items() if ref is not False},
        unrecorded=frozenset(prop for prop, ref in fields.items() if ref is False),
        values={prop: dict(aliases) for prop, aliases in data.get("values", {}).items()},
        thresholds={name: float(value) for name, value in data.get("thresholds", {}).items()},
        placeholders=tuple(data.get("vocabulary", {}).get("placeholders", ())),
        checklist_paths=tuple(base / p for p in checklists_table.get("paths", [])),
        disabled_checklists=frozenset(checklists_table.get("disable", [])),
        condition_validator=checklists_table.get("validator", "jsonschema"),
        template_dir=base / template_path if template_path else None,
        waivers=WaiverPolicy(**{**waivers, "approvers": tuple(waivers.get("approvers", ()))}),
        decisions=DecisionPolicy(owners=tuple(data.get("decisions", {}).get("owners", ()))),
        webhook=dict(data.get("webhook", {})),
        config_file=path,
        base_dir=base,
    )


def _jira_settings(table: Mapping[str, Any], env: Mapping[str, str], path: Path | None) -> JiraSettings:
    """[jira] with the connection from the environment (which wins over the file)."""
    url = _checked_url(env.get("JIRA_URL") or table.get("url"))
    site_url = _checked_url(table.get("site_url"))
    cloud_id = _cloud_id(url, table.get("cloud_id"))
    deployment = table.get("deployment", JiraSettings.deployment)
    if cloud_id is not None:
        if deployment == "data-center":
            raise ConfigurationError(
                f'{path}: [jira] deployment = "data-center", but requests go through Atlassian\'s '
                "API gateway, which serves only Jira Cloud: remove deployment (or the cloud id)"
            )
        deployment = "cloud"
    if table.get("api_version") == 3 and deployment == "data-center":
        raise ConfigurationError(
            f'{path}: [jira] api_version = 3 needs Jira Cloud, but deployment is "data-center", '
            "whose REST API is version 2: remove api_version (or set it to 2)"
        )
    # The schema admits only keys that are fields of JiraSettings, each of its type.
    fields = {**table, "url": url, "site_url": site_url, "cloud_id": cloud_id, "deployment": deployment}
    fields.update({key: int(fields[key]) for key in _WHOLE_NUMBER_JIRA_KEYS if key in fields})
    token = env.get("JIRA_API_TOKEN")
    fields.update(user=env.get("JIRA_USER") or table.get("user"), token=Secret(token) if token else None)
    return JiraSettings(**fields)


def _read_config_file(named: Path | None) -> tuple[Path | None, dict[str, Any]]:
    """The file named (which must exist), else `./gonogo.toml` if there is one, and its checked content."""
    path = named or Path.cwd() / "gonogo.toml"
    if not path.is_file():
        if named is not None:
            raise ConfigurationError(
                f"config file {named} does not exist: fix --config / GONOGO_CONFIG or create it"
            )
        return None, {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    for key in ("token", "api_token", "password"):
        if key in data.get("jira", {}):
            raise ConfigurationError(
                f"{path}: [jira].{key} must not be stored in a file: "
                "remove it and export JIRA_API_TOKEN instead"
            )
    _reject_non_finite(path, data, ())
    _validate_against_schema(path, data)
    return path, data


def _validate_against_schema(path: Path, data: dict[str, Any]) -> None:
    """The file's content against config.schema.json: the most relevant error, worded with its fix."""
    validator = jsonschema.Draft202012Validator(bundled_json("config.schema.json"))
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return
    where = ".".join(str(part) for part in error.absolute_path) or "top level"
    if error.validator == "anyOf" and error.absolute_path[0] == "fields":
        raise ConfigurationError(
            f'{path}: {where}: give the Jira field as text ("customfield_10101" or its name), '
            "or false if this site does not record it"
        )
    if error.validator == "additionalProperties":
        raise ConfigurationError(f"{path}: {where}: {error.message}; see docs/configuration.md")
    raise ConfigurationError(f"{path}: {where}: {error.message}")


def _reject_non_finite(path: Path, value: Any, where: tuple[str, ...]) -> None:
    """No setting means anything as NaN or infinity, which TOML spells and JSON Schema's "number"
    accepts: `dedupe_hours = nan` silently turned deduplication off (every comparison is false)."""
    if isinstance(value, float) and not math.isfinite(value):
        name = ".".join(where) or "top level"
        raise ConfigurationError(f"{path}: {name} is {value}, not a usable number: write a finite one")
    if isinstance(value, dict):
        for key, child in value.items():
            _reject_non_finite(path, child, (*where, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _reject_non_finite(path, child, (*where, str(index)))


def _cloud_id(url: str | None, configured: str | None) -> str | None:
    """JIRA_URL's `/ex/jira/{id}`, or [jira] cloud_id: a UUID, since it goes into every request's path."""
    in_url = _GATEWAY_PATH.fullmatch(urlsplit(url).path) if url else None
    found = in_url.group(1) if in_url else configured
    if found is None:
        return None
    try:
        cloud_id = str(UUID(found))
    except ValueError:
        raise ConfigurationError(
            f"{found!r} is not a cloud id (a UUID such as 0b5e2c3a-…): copy it from "
            "https://YOUR-SITE.atlassian.net/_edge/tenant_info"
        ) from None
    if in_url and configured is not None and str(UUID(configured)) != cloud_id:
        raise ConfigurationError(
            f"JIRA_URL names cloud id {cloud_id} but [jira] cloud_id is {configured}: keep one of them"
        )
    return cloud_id


def _checked_url(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError("JIRA_URL must be the site's base URL, e.g. https://your-site.atlassian.net")
    if parts.username or parts.password:
        raise ConfigurationError("JIRA_URL must not contain credentials: use JIRA_USER and JIRA_API_TOKEN")
    return url.strip().rstrip("/")
