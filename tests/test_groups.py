"""The approver-group cache: once per run for a report, at most an hour old in the service."""

from __future__ import annotations

import pytest

from gonogo.core.errors import ConfigurationError
from gonogo.jira.groups import GroupDirectory


class Directory:
    """Jira's answer for one group, which a test changes between lookups."""

    def __init__(self) -> None:
        self.members = frozenset({"Dana.Director", "eve"})
        self.asked = 0

    def fetch(self, group: str) -> frozenset[str]:
        self.asked += 1
        return self.members


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_without_a_lifetime_a_group_is_read_once_for_the_whole_process() -> None:
    jira, clock = Directory(), Clock()
    cache = GroupDirectory(clock=clock)
    assert cache.members("bid-directors", jira.fetch) == {"dana.director", "eve"}
    jira.members = frozenset({"dana.director"})
    clock.now += 10 * 24 * 3600
    assert "eve" in cache.members("bid-directors", jira.fetch)
    assert jira.asked == 1


def test_with_a_lifetime_a_member_removed_from_the_group_stops_approving_after_it() -> None:
    """Review 1, finding 15: the service kept a removed approver until it restarted."""
    jira, clock = Directory(), Clock()
    cache = GroupDirectory(lifetime_seconds=3600, clock=clock)
    assert "eve" in cache.members("bid-directors", jira.fetch)
    jira.members = frozenset({"dana.director"})  # eve leaves the group
    clock.now += 3599
    assert "eve" in cache.members("bid-directors", jira.fetch)  # within the hour: the cached answer
    assert jira.asked == 1
    clock.now += 1
    assert cache.members("bid-directors", jira.fetch) == {"dana.director"}
    assert jira.asked == 2


def test_a_remembered_configuration_failure_expires_with_the_same_lifetime() -> None:
    clock = Clock()
    cache = GroupDirectory(lifetime_seconds=60, clock=clock)

    def unknown(group: str) -> frozenset[str]:
        raise ConfigurationError(f"group {group} does not exist")

    with pytest.raises(ConfigurationError):
        cache.members("bid-bored", unknown)
    clock.now += 60
    assert cache.members("bid-bored", lambda group: frozenset({"x"})) == {"x"}
