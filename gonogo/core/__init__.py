"""The pure core: plain data in and out, no files, environment, clock, Jira or rendering.

An import-linter contract in pyproject.toml keeps it so (docs/development.md).
"""
