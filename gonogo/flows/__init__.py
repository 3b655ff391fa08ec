"""The use cases the CLI and the webhook service call, wiring the core to Jira, sources and renderers."""
