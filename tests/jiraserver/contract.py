"""Atlassian's published shapes, as a validator for the test server's recorded answers.

Every server `running_server` starts checks each answer it gave against the schema Atlassian's
OpenAPI document (`tests/jira-openapi`) gives that operation and status, when the block ends and
before a test clears the request log; REST v2 paths are checked against the v3 operation, since
Cloud's v2 differs only in rich text, which the schemas leave open. Fault-injected answers are
exempt: they are wrong on purpose.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30ReadValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from .model import RecordedRequest

SPEC_PATH = Path(__file__).parent.parent / "jira-openapi" / "jira-cloud-v3-subset.json"
SPEC_URI = "urn:gonogo:jira-cloud-v3-subset"
API_PREFIX = re.compile(r"^/rest/api/(?:2|3|latest)/")
GATEWAY_PREFIX = re.compile(r"^/ex/jira/[^/]+(?=/)")  # the API gateway serves the same operations
UNPUBLISHED = re.compile(r"^/(?:rest/webhooks/1\.0/|_edge/)")  # admin webhooks, tenant_info: no OpenAPI
EXTRA_OPERATIONS = {
    # Real Jira operation missing from the subset; same body as the issue variant.
    ("GET", "/rest/api/3/comment/{commentId}/properties"): "PropertyKeys",
    # Real Jira operation missing from the subset (GET user): the body GET myself documents.
    ("GET", "/rest/api/3/user"): "User",
}


@dataclass(frozen=True)
class Operation:
    """One documented operation: method, path template and its responses."""

    method: str
    template: str
    pattern: re.Pattern[str]
    responses: dict[str, Any]


class Contract:
    """Atlassian's published shapes, as a validator for recorded exchanges."""

    def __init__(self, spec: dict[str, Any]) -> None:
        resource = Resource.from_contents(spec, default_specification=DRAFT4)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self.operations = [
            Operation(method.upper(), template, _template_pattern(template), details["responses"])
            for template, item in spec["paths"].items()
            for method, details in item.items()
            if method in ("get", "put", "post", "delete")
        ]

    def errors_for(self, schema_name: str, instance: Any) -> list[str]:
        """Validation messages for ``instance`` against ``#/components/schemas/<name>``."""
        return self._errors(_schema_ref(schema_name), instance)

    def _errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        validator = OAS30ReadValidator(schema, registry=self.registry)
        return [
            f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
            for error in validator.iter_errors(instance)
        ]

    def check(self, record: RecordedRequest) -> list[str]:
        """Problems with one exchange; empty when it honours the published contract."""
        where = f"{record.method} {record.path} -> {record.status}"
        if record.response_body and record.response_json is None:
            return [f"{where}: body is not JSON"]
        schema = self._schema_for(record)
        if isinstance(schema, str):
            return [f"{where}: {schema}"]
        if schema is None or record.response_json is None:
            return []
        return [f"{where}: {error}" for error in self._errors(schema, record.response_json)]

    def _schema_for(self, record: RecordedRequest) -> dict[str, Any] | str | None:
        """The schema the answer must meet, None if it has no body, or why there is none."""
        status = record.status or 0
        if status >= 400:
            return _schema_ref("ErrorCollection")
        path = GATEWAY_PREFIX.sub("", record.path)
        if UNPUBLISHED.match(path):
            return None
        v3_path = API_PREFIX.sub("/rest/api/3/", path)
        extra = EXTRA_OPERATIONS.get((record.method, _template_of(v3_path)))
        if extra is not None:
            return _schema_ref(extra)
        operation = self._operation(record.method, v3_path)
        if operation is None:
            return "no such operation in the OpenAPI subset"
        response = operation.responses.get(str(status))
        if response is None:
            return f"status {status} is not documented for {operation.template}"
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return None if record.response_json is None else f"no body documented for {status}"
        return dict(_absolute_refs(schema))

    def _operation(self, method: str, path: str) -> Operation | None:
        for operation in self.operations:
            if operation.method == method and operation.pattern.fullmatch(path):
                return operation
        return None


def _schema_ref(name: str) -> dict[str, Any]:
    return {"$ref": f"{SPEC_URI}#/components/schemas/{name}"}


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts))


def _template_of(path: str) -> str:
    """The ``comment/{commentId}/properties`` template for a concrete path (extras only)."""
    return re.sub(
        r"^/rest/api/3/comment/[^/]+/properties$",
        "/rest/api/3/comment/{commentId}/properties",
        path,
    )


def _absolute_refs(schema: Any) -> Any:
    """Point an inline response schema's local ``$ref``s at the registered document."""
    if isinstance(schema, dict):
        return {
            key: (f"{SPEC_URI}{value}" if key == "$ref" and value.startswith("#") else _absolute_refs(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_absolute_refs(item) for item in schema]
    return schema


def problems_in(contract: Contract, records: list[RecordedRequest]) -> list[str]:
    """Every emulated (not fault-injected) answer's departures from the published schemas."""
    return [
        problem
        for record in records
        if not record.injected and record.status is not None  # None: abandoned mid-flight
        for problem in contract.check(record)
    ]


@cache
def published_contract() -> Contract:
    """The OpenAPI subset, read once per test process."""
    return Contract(json.loads(SPEC_PATH.read_text(encoding="utf-8")))
