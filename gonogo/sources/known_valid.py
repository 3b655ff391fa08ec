"""Checklist files and rule conditions already known to be valid, remembered between runs.

Checking the bundled conditions against the 2020-12 meta-schema was 8 ms of every `gonogo check
FILE` (measured, issue 14c), and checking the checklist files against gonogo's checklist schema a
few more: the same files, found valid again on every run. This cache keeps a digest (SHA-256) of
each checklist file's text and of each condition (its canonical JSON) that passed, so a run checks
only what it has not seen pass. A condition is keyed by its own content after thresholds are filled
in: an edited checklist, or a changed threshold, gives a new digest and is checked again; anything
invalid is never stored, so it is caught on every run.

The answers also depend on gonogo (its checklist schema) and on the jsonschema installed (the
2020-12 meta-schema and its checks), so the file carries a stamp of all three and a different stamp
starts afresh. It lives in the user's cache
folder (`$XDG_CACHE_HOME/gonogo`, else `~/.cache/gonogo`). Like the template cache, it never fails a
run: an unreadable file is an empty cache, a write that fails (read-only home, disk full) is skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from gonogo import __version__
from gonogo.sources.resources import schema_path

DISABLE_ENV = "GONOGO_NO_CONDITION_CACHE"
FILE_NAME = "valid-conditions.json"


def cache_folder(environ: Mapping[str, str] = os.environ) -> Path:
    """The per-user cache folder: `$XDG_CACHE_HOME/gonogo`, else `~/.cache/gonogo`."""
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gonogo"


def _stamp() -> str:
    """gonogo's version and checklist schema, and which jsonschema is installed.

    Not asking importlib.metadata (slow): installing another jsonschema rewrites its files, so their
    place and modification time change.
    """
    module = Path(jsonschema.__file__)
    checklist_schema = hashlib.sha256(schema_path("checklist.schema.json").read_bytes()).hexdigest()
    return f"gonogo {__version__} {checklist_schema}; jsonschema {module.parent} {module.stat().st_mtime_ns}"


def condition_digest(condition: Any) -> str:
    """One condition's identity: SHA-256 of its canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(condition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "condition " + hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(text: str) -> str:
    """One checklist file's identity: SHA-256 of its text (same text, same content)."""
    return "checklist " + hashlib.sha256(text.encode("utf-8")).hexdigest()


class KnownValid:
    """What passed its schema check before: checklist files by text, conditions by content."""

    def __init__(
        self, path: Path | None, *, meta_check: Callable[[Any], None] = Draft202012Validator.check_schema
    ) -> None:
        self._path = path  # None: no cache, every condition is checked and nothing is written
        self._meta_check = meta_check
        self._stamp = _stamp() if path else ""
        self._known = self._read(path) if path else set()
        self._added = False

    def _read(self, path: Path) -> set[str]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return set()
        if not isinstance(data, dict) or data.get("stamp") != self._stamp:
            return set()
        valid = data.get("valid")
        return {d for d in valid if isinstance(d, str)} if isinstance(valid, list) else set()

    def knows_file(self, text: str) -> bool:
        """Whether a checklist file with exactly this text passed the checklist schema before."""
        return file_digest(text) in self._known

    def remember_file(self, text: str) -> None:
        """Remember that a checklist file with this text passed the checklist schema."""
        self._remember(file_digest(text))

    def _remember(self, digest: str) -> None:
        if digest not in self._known:
            self._known.add(digest)
            self._added = True

    def check_schema(self, condition: Any) -> None:
        """Raise `jsonschema.SchemaError` if the condition is not valid JSON Schema (as the meta-check)."""
        digest = condition_digest(condition)
        if digest in self._known:
            return
        self._meta_check(condition)  # raises for an invalid one, which is therefore never stored
        self._remember(digest)

    def save(self) -> None:
        """Write the digests if any were added: whole (a temporary file renamed), or not at all."""
        if not self._added or self._path is None:
            return
        text = json.dumps({"stamp": self._stamp, "valid": sorted(self._known)})
        path = self._path
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=".valid-", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    file.write(text)
                os.replace(name, path)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(name)
                raise
        self._added = False


def known_valid_cache(environ: Mapping[str, str] = os.environ) -> KnownValid:
    """The cache for this user; one that checks every condition when `GONOGO_NO_CONDITION_CACHE` is set."""
    if environ.get(DISABLE_ENV):
        return KnownValid(None)
    try:
        return KnownValid(cache_folder(environ) / FILE_NAME)
    except (OSError, RuntimeError):  # no home folder, or jsonschema's files unreadable: check every time
        return KnownValid(None)
