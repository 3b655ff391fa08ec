"""`python -m gonogo` runs the same CLI as the `gonogo` command."""

from gonogo.cli import run

run()
