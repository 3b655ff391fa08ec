"""The Jira edge: the gateway (every request gonogo makes), the shared throttle, the sticky comment."""
