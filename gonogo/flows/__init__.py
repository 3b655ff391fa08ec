"""The use cases, each one path: check a ticket, run a portfolio, doctor, setup, checklist authoring.

The command line (`gonogo.cli`) and the webhook service (`gonogo.webhook`) call these; they wire the
core to the Jira edge, the sources and the renderers.
"""
