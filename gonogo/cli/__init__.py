"""The command line: options in, exit code out; the work happens in the modules it calls.

Each command's module declares its options at the top and imports the work it runs (Jira, the
templates, jsonschema) when it runs: `gonogo --help` loads every command module, and those
libraries would triple its time (bench/startup.py).
"""

from gonogo.cli.group import main, run

__all__ = ["main", "run"]
