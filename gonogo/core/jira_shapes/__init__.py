"""Jira's shapes as typed data: the change history, the site's fields and option texts, labels,
the comment format and what happened to a published comment.
"""
