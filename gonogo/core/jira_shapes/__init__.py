"""Jira's shapes as typed data: change history, site fields, labels, the comment format."""
