"""Everything a check needs that does not depend on the ticket, built once per process.

The CLI builds it for one check, the webhook service for thousands: checklists are read, checked
and compiled here exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from gonogo.core.assessment import Assessment, assess
from gonogo.core.changelog import read_histories
from gonogo.core.errors import ConfigurationError
from gonogo.core.option_aliases import OptionAliases, parse_option_aliases
from gonogo.core.path_to_go import find_path
from gonogo.core.proposal import Proposal, build_proposal, derive
from gonogo.core.rules import Checklist, ChecklistFile, all_thresholds, compile_checklist, resolve_thresholds
from gonogo.core.signals import Signal, compile_signals, read_signals, signal_labels, signal_properties
from gonogo.core.ticket import CUSTOM_FIELD_ID, Ticket
from gonogo.core.vocabulary import Vocabulary
from gonogo.core.waivers import WaiverContext, WaiverPolicy
from gonogo.render.renderer import Renderer, make_renderer
from gonogo.sources.checklists import discover
from gonogo.sources.config import Settings
from gonogo.sources.known_valid import known_valid_cache
from gonogo.sources.resources import bundled_vocabulary

if TYPE_CHECKING:  # a file check asks no group: gonogo.jira stays unloaded (tests/test_cold_paths.py)
    from gonogo.jira.groups import Fetch, GroupDirectory

# System fields addressed by id; anything else in [fields] is a display name.
_SYSTEM_FIELD_IDS = frozenset(
    {
        "summary",
        "description",
        "duedate",
        "labels",
        "priority",
        "assignee",
        "reporter",
        "components",
        "fixVersions",
        "environment",
        "status",
        "created",
        "creator",
        "updated",
    }
)
# Fields every check reads besides the mapped ones: identity, filters, and the comment count.
_ALWAYS_FETCHED = ("summary", "issuetype", "project", "labels", "comment")
# Who created the issue and when: the author of a waiver label set at creation, which no changelog
# shows. Read with the issue's own GET (a search leaves them out: only waivered tickets need them).
WAIVER_ORIGIN_FIELDS = ("creator", "created")


@dataclass(frozen=True)
class Assessor:
    vocabulary: Vocabulary
    checklists: tuple[Checklist, ...]
    thresholds: Mapping[str, float]
    field_map: Mapping[str, str]
    renderer: Renderer
    waiver_policy: WaiverPolicy
    option_aliases: OptionAliases = field(default_factory=dict)
    signals: tuple[Signal, ...] = ()  # text signals the checklists declare
    configured_fields: frozenset[str] = frozenset()  # the properties [fields] maps (not defaults)
    groups: GroupDirectory | None = None  # approver groups, once per process; None: made on first use
    # The directory made on first use: a file check asks no group, so it never loads gonogo.jira.
    _made_groups: list[GroupDirectory] = field(default_factory=list, repr=False, compare=False)

    def assess(
        self,
        ticket: Ticket,
        *,
        today: date,
        group_members: Fetch | None = None,
        with_path: bool = True,
    ) -> Assessment:
        """Assess one ticket as of `today`; `group_members` fetches an approver group (a Jira gateway's).

        Without it (a ticket file), a waiver counts only when its author is named in
        [waivers].approvers outright.
        """
        return self.assess_with_proposal(
            ticket, today=today, group_members=group_members, with_path=with_path
        )[0]

    def assess_with_proposal(
        self,
        ticket: Ticket,
        *,
        today: date,
        group_members: Fetch | None = None,
        with_path: bool = True,
    ) -> tuple[Assessment, Proposal]:
        """The assessment (with its path to GO and the one-sentence summary every surface shares)
        and the proposal it was made from (the report reads values no rule tests).

        The path re-assesses the ticket a few dozen times (a few ms; about 25 ms for five
        show-stoppers), so a read-only portfolio, which never shows it, asks for none.
        """
        proposal = build_proposal(
            ticket,
            field_map=self.field_map,
            vocabulary=self.vocabulary,
            thresholds=self.thresholds,
            today=today,
            option_aliases=self.option_aliases,
        )
        proposal = read_signals(proposal, self.signals, self.vocabulary)
        waivers = WaiverContext(
            today=today,
            policy=self.waiver_policy,
            histories=read_histories(ticket.changelog),
            group_members=self._group_directory().bound_to(group_members) if group_members else None,
        )

        def judge(proposal: Proposal) -> Assessment:
            return assess(ticket, proposal, self.checklists, self.vocabulary, waivers=waivers)

        assessment = judge(proposal)
        if not with_path:
            return replace(assessment, headline=self.renderer.headline(assessment)), proposal

        def with_derived(values: Mapping[str, Any]) -> dict[str, Any]:
            return {**values, **derive(values, thresholds=self.thresholds, today=today)}

        def reassess(values: Mapping[str, Any]) -> Assessment:
            problems = {k: v for k, v in proposal.problems.items() if k not in values}
            return judge(replace(proposal, values=with_derived(values), problems=problems))

        inputs = {
            name: value
            for name, value in proposal.values.items()
            if not (name in self.vocabulary.properties and self.vocabulary.properties[name].is_derived)
        }
        path = find_path(
            assessment, inputs=inputs, derive=with_derived, reassess=reassess, vocabulary=self.vocabulary
        )
        assessment = replace(assessment, path=path)
        return replace(assessment, headline=self.renderer.headline(assessment)), proposal

    def _group_directory(self) -> GroupDirectory:
        if self.groups is not None:
            return self.groups
        if not self._made_groups:
            from gonogo.jira.groups import GroupDirectory  # noqa: PLC0415 - only approver waivers ask

            self._made_groups.append(GroupDirectory())
        return self._made_groups[0]

    def configured_field_refs(self) -> dict[str, str]:
        """Property → field as written in [fields]: what a typo can break, so what gets checked."""
        return {prop: ref for prop, ref in self.field_map.items() if prop in self.configured_fields}

    def fields_to_fetch(self) -> list[str] | None:
        """Field ids to ask Jira for, or None ("*all") when some field is mapped by display name."""
        refs = list(self.field_map.values())
        if not all(CUSTOM_FIELD_ID.fullmatch(r) or r in _SYSTEM_FIELD_IDS for r in refs):
            return None
        return list(dict.fromkeys([*_ALWAYS_FETCHED, *refs, *WAIVER_ORIGIN_FIELDS]))


def known_properties(vocabulary: Vocabulary, field_map: Mapping[str, str]) -> set[str]:
    """What a rule may test: mapped properties and the derived ones."""
    return set(field_map) | {name for name, spec in vocabulary.properties.items() if spec.is_derived}


def field_map(settings: Settings) -> dict[str, str]:
    """Property → Jira field: the vocabulary's defaults, overridden by [fields]."""
    return {**bundled_vocabulary().default_field_map(), **settings.fields}


def rule_context(settings: Settings, files: Sequence[ChecklistFile]) -> tuple[dict[str, float], set[str]]:
    """The thresholds in force and the properties rules may use: what a check and the linter share."""
    vocabulary = bundled_vocabulary()
    thresholds = resolve_thresholds(all_thresholds(files, vocabulary), settings.thresholds)
    return thresholds, known_properties(vocabulary, field_map(settings)) | signal_properties(files)


def build_assessor(settings: Settings) -> Assessor:
    known_valid = known_valid_cache()  # files and conditions that passed before skip their schema check
    found = discover(settings.checklist_paths, known_valid=known_valid)
    unknown = settings.disabled_checklists - {f.id for f in found}
    if unknown:
        raise ConfigurationError(
            f"[checklists].disable names unknown checklist(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(f.id for f in found))}"
        )
    files = [f for f in found if f.id not in settings.disabled_checklists]
    thresholds, known = rule_context(settings, files)
    signals = compile_signals(files, known)
    vocabulary = (
        bundled_vocabulary().with_placeholders(settings.placeholders).with_flags(signal_labels(signals))
    )
    checklists = tuple(
        compile_checklist(
            f,
            thresholds,
            known,
            validator=settings.condition_validator,
            check_schema=known_valid.check_schema,
        )
        for f in files
    )
    known_valid.save()
    return Assessor(
        vocabulary=vocabulary,
        checklists=checklists,
        thresholds=thresholds,
        field_map=field_map(settings),
        renderer=make_renderer(settings.template_dir),
        waiver_policy=settings.waivers,
        option_aliases=parse_option_aliases(settings.values, vocabulary),
        signals=signals,
        configured_fields=frozenset(settings.fields),
    )
