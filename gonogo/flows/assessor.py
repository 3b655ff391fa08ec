"""Everything a check needs that does not depend on the ticket, built once per process (the webhook
service checks thousands of tickets): checklists are read, checked and compiled here exactly once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property, partial
from typing import Any

from gonogo import __version__
from gonogo.core.errors import ConfigurationError
from gonogo.core.jira_shapes.changelog import read_histories
from gonogo.core.pipeline import path_to_go, rules, verdict_history
from gonogo.core.pipeline import signals as text_signals
from gonogo.core.pipeline.decisions import DecisionContext
from gonogo.core.pipeline.findings import Assessment, evaluate
from gonogo.core.pipeline.inputs_digest import checklists_fingerprint, digest, inputs_digest
from gonogo.core.pipeline.path_to_go import OptionTexts, PathToGo, find_path
from gonogo.core.pipeline.proposal import Proposal, build_proposal, derive
from gonogo.core.pipeline.rules import Checklist, ChecklistFile
from gonogo.core.pipeline.signals import Signal
from gonogo.core.pipeline.ticket import CUSTOM_FIELD_ID, Ticket
from gonogo.core.pipeline.waivers import WaiverContext
from gonogo.core.vocabulary import OptionAliases, Vocabulary, parse_option_aliases
from gonogo.jira.groups import Fetch, GroupDirectory
from gonogo.render.renderer import Renderer, make_renderer
from gonogo.sources.checklists import discover
from gonogo.sources.config import Settings
from gonogo.sources.resources import bundled_vocabulary

# System fields addressed by id; anything else in [fields] is a display name.
_SYSTEM_FIELD_IDS = frozenset(
    (
        *("summary", "description", "duedate", "labels", "priority", "assignee", "reporter", "components"),
        *("fixVersions", "environment", "status", "created", "creator", "updated"),
    )
)
# Fields every check reads besides the mapped ones: identity, filters, and the comment count.
ALWAYS_FETCHED = ("summary", "issuetype", "project", "labels", "comment")
# Who created the issue and when: the author of a waiver label set at creation, which no changelog
# shows. Read with the issue's own GET (a search leaves them out: only waivered tickets need them).
WAIVER_ORIGIN_FIELDS = ("creator", "created")


@dataclass(frozen=True)
class Assessor:
    settings: Settings
    vocabulary: Vocabulary
    checklists: tuple[Checklist, ...]
    thresholds: Mapping[str, float]
    field_map: Mapping[str, str]
    renderer: Renderer
    option_aliases: OptionAliases
    signals: tuple[Signal, ...]  # text signals the checklists declare
    groups: GroupDirectory = field(default_factory=GroupDirectory)  # approver groups, asked once each

    def assess(
        self, ticket: Ticket, *, today: date, group_members: Fetch | None = None, with_path: bool = True
    ) -> Assessment:
        """Assess one ticket as of `today`; `group_members` fetches an approver group (a Jira gateway's).
        Without it (a ticket file), a waiver counts only when [waivers].approvers names its author."""
        return self.assess_with_proposal(
            ticket, today=today, group_members=group_members, with_path=with_path
        )[0]

    def assess_with_proposal(
        self, ticket: Ticket, *, today: date, group_members: Fetch | None = None, with_path: bool = True
    ) -> tuple[Assessment, Proposal]:
        """The assessment and the proposal it was made from (the report reads values no rule tests).
        The path to GO re-assesses the ticket a few dozen times (about 25 ms for five show-stoppers),
        so a read-only portfolio, which never shows it, asks for none."""
        proposal = build_proposal(
            ticket,
            field_map=self.field_map,
            vocabulary=self.vocabulary,
            thresholds=self.thresholds,
            today=today,
            option_aliases=self.option_aliases,
            unrecorded=self.settings.unrecorded,
        )
        proposal = text_signals.read_signals(proposal, self.signals, self.vocabulary)
        groups = partial(self.groups.members, fetch=group_members) if group_members else None
        histories = read_histories(ticket.changelog)
        waivers = WaiverContext(today, self.settings.waivers, histories, group_members=groups)
        decisions = DecisionContext(self.settings.decisions, self.settings.jira.label_prefix, groups)
        judge = partial(evaluate, ticket, vocabulary=self.vocabulary, waivers=waivers, decisions=decisions)
        assessment = judge(proposal, self.checklists)
        options = self._site_options(ticket, proposal)
        missing = tuple(
            replace(m, options=tuple(options[m.property].values())) if m.property in options else m
            for m in assessment.missing_information
        )
        history = verdict_history.read_history(ticket.properties.get(self.settings.jira.comment_property))
        now = verdict_history.HistoryEntry(today, assessment.verdict, assessment.score)
        change = verdict_history.change_with_edits(
            history, now, histories, sources=proposal.sources, vocabulary=self.vocabulary
        )
        assessment = replace(assessment, missing_information=missing, change=change)
        if with_path:
            path = self._path(assessment, proposal, judge, options, today=today)
            assessment = replace(assessment, path=path)
        return assessment, proposal

    def inputs_digest(self, assessment: Assessment, proposal: Proposal) -> str:
        """What the ticket's comment is made from (`core.pipeline.inputs_digest`), configuration included,
        as the pointer keeps it: with the comment's format and the label prefix."""
        inputs = inputs_digest(assessment, proposal, configuration=self._configuration_digest)
        jira = self.settings.jira
        return digest([inputs, jira.comment_format.value, jira.label_prefix])

    @cached_property
    def _configuration_digest(self) -> str:
        """gonogo, the checklists, the thresholds and the templates: made once, when first posting."""
        templates = self.renderer.document
        loader = templates.loader
        texts = {n: loader.get_source(templates, n)[0] for n in templates.list_templates()} if loader else {}
        # The rest of the configuration shows in the assessment and proposal.
        return digest([__version__, checklists_fingerprint(self.checklists), self.thresholds, texts])

    def _path(
        self,
        assessment: Assessment,
        proposal: Proposal,
        judge: Callable[[Proposal, Sequence[Checklist]], Assessment],
        options: OptionTexts,
        *,
        today: date,
    ) -> PathToGo:
        def with_derived(values: Mapping[str, Any]) -> dict[str, Any]:
            return {**values, **derive(values, thresholds=self.thresholds, today=today)}

        def reassess(values: Mapping[str, Any], checklists: Sequence[Checklist]) -> Assessment:
            problems = {k: v for k, v in proposal.problems.items() if k not in values}
            return judge(replace(proposal, values=with_derived(values), problems=problems), checklists)

        return find_path(
            assessment,
            proposal=proposal,
            derive=with_derived,
            reassess=reassess,
            vocabulary=self.vocabulary,
            options=options,
        )

    def _site_options(self, ticket: Ticket, proposal: Proposal) -> OptionTexts:
        """Each option property's values the site's field can hold (those its edit screen offers, where
        known: all the path may propose), in the site's text (guessed from [values] where it did not say)."""
        options: dict[str, dict[str, str]] = {}
        for prop in self.field_map:
            spec = self.vocabulary.properties.get(prop)
            if spec is None or not spec.enum:
                continue
            source = proposal.sources.get(prop)
            screen = ticket.edit_options.get(source.field_id) if source and source.field_id else None
            options[prop] = path_to_go.site_options(
                spec,
                offered=screen,
                table=self.settings.values.get(prop, {}),
                aliases=self.option_aliases.get(prop, {}),
            )
        return options

    def configured_field_refs(self) -> dict[str, str]:
        """Property → field as written in [fields]: what a typo can break, so what gets checked."""
        return {prop: ref for prop, ref in self.field_map.items() if prop in self.settings.fields}

    def fields_to_fetch(self) -> list[str] | None:
        """Field ids to ask Jira for, or None ("*all") when some field is mapped by display name."""
        refs = list(self.field_map.values())
        if not all(CUSTOM_FIELD_ID.fullmatch(r) or r in _SYSTEM_FIELD_IDS for r in refs):
            return None
        return list(dict.fromkeys([*ALWAYS_FETCHED, *refs, *WAIVER_ORIGIN_FIELDS]))


def field_map(settings: Settings) -> dict[str, str]:
    """Property → Jira field: the vocabulary's defaults, overridden by [fields]; none for what the
    site does not record (`property = false`)."""
    mapped = {**bundled_vocabulary().default_field_map(), **settings.fields}
    return {prop: ref for prop, ref in mapped.items() if prop not in settings.unrecorded}


def proposal_field_refs(refs: Mapping[str, str]) -> dict[str, str]:
    """Property → field for the bid's own data (not summary and description, which every site has)."""
    return {p: ref for p, ref in refs.items() if p not in ("summary", "description")}


def rule_context(settings: Settings, files: Sequence[ChecklistFile]) -> tuple[dict[str, float], set[str]]:
    """The thresholds in force and the properties rules may use (mapped, derived, declared signals and
    those the site does not record): what a check and the linter share."""
    vocabulary = bundled_vocabulary()
    thresholds = rules.thresholds_in_force(files, vocabulary, settings.thresholds)
    derived = {name for name, spec in vocabulary.properties.items() if spec.is_derived}
    signals = text_signals.signal_labels(files)
    return thresholds, {*field_map(settings), *derived, *signals, *settings.unrecorded}


def build_assessor(settings: Settings) -> Assessor:
    found = discover(settings.checklist_paths)
    unknown = settings.disabled_checklists - {f.id for f in found}
    if unknown:
        raise ConfigurationError(
            f"[checklists].disable names unknown checklist(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(f.id for f in found))}"
        )
    files = [f for f in found if f.id not in settings.disabled_checklists]
    thresholds, known = rule_context(settings, files)
    signals = text_signals.compile_signals(files, known)
    flags = text_signals.signal_labels(files)
    vocabulary = bundled_vocabulary().with_placeholders(settings.placeholders).with_flags(flags)
    checklists = tuple(
        rules.compile_checklist(f, thresholds, known, validator=settings.condition_validator) for f in files
    )
    return Assessor(
        settings=settings,
        vocabulary=vocabulary,
        checklists=checklists,
        thresholds=thresholds,
        field_map=field_map(settings),
        renderer=make_renderer(settings.template_dir),
        option_aliases=parse_option_aliases(settings.values, vocabulary),
        signals=signals,
    )
