"""Where the bundled checklists, templates and examples are, installed or in a source checkout.

A wheel carries them inside the package (`gonogo/checklists`, ...); a source checkout or an editable
install keeps them at the top of the repository. Both layouts must work from any directory.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from gonogo.core.vocabulary import Vocabulary, vocabulary_from_schema

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # gonogo/, not gonogo/sources/


def bundled_dir(name: str) -> Path:
    """Return the bundled folder `name` ("checklists", "templates" or "examples")."""
    installed = _PACKAGE_DIR / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name


def schema_path(name: str) -> Path:
    """Return a JSON Schema that ships inside the package (`gonogo/schemas/`)."""
    return _PACKAGE_DIR / "schemas" / name


@cache
def bundled_vocabulary() -> Vocabulary:
    """The proposal vocabulary gonogo ships (`gonogo/schemas/proposal.schema.json`), read once."""
    return vocabulary_from_schema(json.loads(schema_path("proposal.schema.json").read_text(encoding="utf-8")))
