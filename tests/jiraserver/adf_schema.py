"""Atlassian's published ADF JSON schema, which the test server holds v3 comment bodies to.

Jira Cloud refuses a comment body that is not a valid Atlassian Document Format document; the
test server does the same with the schema Atlassian publishes in npm `@atlaskit/adf-schema`
(`json-schema/v1/full.json`, Apache-2.0), installed with the wiki-markup oracle by
`npm ci --prefix tests/oracle` (see `tests/oracle/NOTICE.md`). Without it the server falls back to
checking only that the body is a `doc`, and tests that need the schema skip (or fail in CI).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_FILE = (
    Path(__file__).resolve().parent.parent
    / "oracle"
    / "node_modules"
    / "@atlaskit"
    / "adf-schema"
    / "json-schema"
    / "v1"
    / "full.json"
)
INSTALL_HINT = "npm ci --prefix tests/oracle"


def adf_schema_unavailable_reason() -> str | None:
    """Why the ADF schema cannot be used here, or None when it can."""
    if not SCHEMA_FILE.is_file():
        return f"Atlassian's ADF JSON schema is not installed (run `{INSTALL_HINT}`)"
    return None


@functools.cache
def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def adf_errors(document: Any) -> list[str]:
    """What makes `document` an invalid ADF document (empty when it is valid, or no schema)."""
    if not isinstance(document, dict) or document.get("type") != "doc":
        return ["the body is not an ADF document (type doc)"]
    if adf_schema_unavailable_reason() is not None:
        return []
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or 'doc'}: {error.message[:200]}"
        for error in _validator().iter_errors(document)
    ]
