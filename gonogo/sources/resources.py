"""Where the bundled checklists, templates and examples are: inside the package in a wheel
(`gonogo/checklists`, ...), at the top of the repository in a source checkout or editable install."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from gonogo.core.vocabulary import Vocabulary, vocabulary_from_schema

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # gonogo/, not gonogo/sources/


def bundled_dir(name: str) -> Path:
    """The bundled folder `name` ("checklists", "templates" or "examples")."""
    installed = _PACKAGE_DIR / name
    return installed if installed.is_dir() else _PACKAGE_DIR.parent / name


def schema_path(name: str) -> Path:
    """A JSON Schema that ships inside the package (`gonogo/schemas/`)."""
    return _PACKAGE_DIR / "schemas" / name


@cache
def bundled_json(name: str) -> Any:
    """A JSON file of `gonogo/schemas/`, read once."""
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


@cache
def bundled_vocabulary() -> Vocabulary:
    """The proposal vocabulary gonogo ships (`gonogo/schemas/proposal.schema.json`)."""
    return vocabulary_from_schema(bundled_json("proposal.schema.json"))
