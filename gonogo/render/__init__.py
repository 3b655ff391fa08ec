"""Every text gonogo shows, from templates: reports, the verdict comment (wiki or ADF), JSON, CSV, HTML.

Rendering reads assessments and portfolios from the core; it never talks to Jira, the web or a queue.
"""
