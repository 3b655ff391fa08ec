"""Regenerate the stripped OpenAPI copy the Jira contract test validates against.

The shared subset keeps Atlassian's prose word for word; the tests only need the
machine-readable shapes, so this drops every human-readable key and writes a
small, stable copy beside this script.

Usage: python tests/jira-openapi/strip.py [SOURCE] (default: ../shared copy).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = Path("/work/shared/domain/jira-openapi/jira-cloud-v3-subset.json")
TARGET = HERE / "jira-cloud-v3-subset.json"
PROSE_KEYS = frozenset({"description", "summary", "example", "examples"})


def strip_prose(node: Any, *, property_map: bool = False) -> Any:
    """Return a copy of ``node`` without prose keys.

    ``property_map`` marks the value of a schema's ``properties`` keyword: its
    keys are field names, not keywords, so a field that happens to be called
    ``description`` or ``summary`` is kept.
    """
    if isinstance(node, dict):
        if property_map:
            return {name: strip_prose(schema) for name, schema in node.items()}
        return {
            key: strip_prose(value, property_map=(key == "properties"))
            for key, value in node.items()
            if key not in PROSE_KEYS
        }
    if isinstance(node, list):
        return [strip_prose(item) for item in node]
    return node


def main(argv: list[str]) -> int:
    """Write the stripped copy; the source path may be given as the only argument."""
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    document = json.loads(source.read_text(encoding="utf-8"))
    stripped = strip_prose(document)
    TARGET.write_text(
        json.dumps(stripped, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes) from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
