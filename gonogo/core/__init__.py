"""The pure core: plain data in and out, no files, environment, clock, Jira or rendering (import-linter)."""
