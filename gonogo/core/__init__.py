"""The pure core: ticket → proposal → rules → findings → verdict, and the portfolio over many.

Plain data in, plain data out. Nothing here reads a file, the environment or the clock, talks to
Jira or renders text; an import-linter contract in pyproject.toml keeps it so (docs/development.md).
"""
