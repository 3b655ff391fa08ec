"""Compiled templates kept between runs, so a command does not recompile its templates every time.

Compiling the comment and report templates was a third of `gonogo check FILE`'s run (measured with
cProfile, issue 14). Jinja's own file-system bytecode cache keeps each compiled template and
recompiles it when the template's source changes (it stores a checksum of the source), so an
edited or overriding template is never served stale. It lives in Jinja's per-user folder in the
temporary directory (mode 0700, owner checked by Jinja).

The compiled code depends on the environment's options (autoescape for HTML, not for the comment;
the sandbox compiles every call through its safety check, so code compiled outside it must never be
served to it), so each environment kind and gonogo version gets file names of its own: a template compiled for
one target can never be served to another. A cache that cannot be created or written is skipped: a
cache never fails a run.
"""

from __future__ import annotations

import contextlib
import os

import jinja2

from gonogo import __version__

DISABLE_ENV = "GONOGO_NO_TEMPLATE_CACHE"


class _QuietCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache, except that failing to write an entry (disk full) is not an error."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def template_cache(kind: str) -> jinja2.BytecodeCache | None:
    """The bytecode cache for one environment kind ("document", "text", "html"), or None without one."""
    if os.environ.get(DISABLE_ENV):
        return None
    try:
        return _QuietCache(pattern=f"gonogo-{__version__}-{kind}-sandboxed-%s.cache")
    except (OSError, RuntimeError):  # no usable temporary folder: compile every time
        return None
