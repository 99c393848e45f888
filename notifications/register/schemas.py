"""Response shapes of the breach register and the deadline-compliance report, and the converters
from what the service read. Counts and hashes only: no affected person is named."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from notifications.register import rules, service


class _FromValues(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SelectionPublic(BaseModel):
    """The incidents a report covers: those that became known (aware_at) from `aware_from`
    (included) to `aware_to` (excluded), in `status` when given."""

    aware_from: datetime | None
    aware_to: datetime | None
    status: str | None


class PeoplePublic(_FromValues):
    count: int | None
    basis: rules.PeopleBasis
    """`snapshot`: counted in the latest affected-people snapshot; `estimate`: the incident's
    estimate, before any snapshot; `unknown`: neither yet."""
    snapshot: int | None


class FactsPublic(_FromValues):
    description: str
    kind: str
    breach_types: list[str]
    data_categories: list[str]
    systems: list[str]
    occurred_from: datetime | None
    occurred_to: datetime | None
    detected_at: datetime
    aware_at: datetime
    contained_at: datetime | None
    closed_at: datetime | None
    estimated_records: int | None


class DismissalPublic(_FromValues):
    at: datetime
    by: str
    reason: str | None


class EffectsPublic(_FromValues):
    severity: str | None
    score: float | None
    recommendation: str | None
    overridden_by: str | None
    justification: str | None
    reasons: list[str]


class RemedialPublic(_FromValues):
    measures: list[str]
    steps_done: int
    steps_skipped: int
    steps_total: int


class DutyDecisionPublic(_FromValues):
    ref: str
    recipient: str
    recipient_name: str
    phase: str | None
    decision: rules.Decision
    due_at: datetime | None
    met_at: datetime | None
    how: str | None
    late_by_seconds: int | None
    overdue: bool
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    why_not: list[str]


class EvidencePublic(_FromValues):
    id: int
    filename: str
    sha256: str
    size: int
    uploaded_at: datetime
    uploaded_by: str
    step: str | None
    description: str
    url: str


class TimelineLinkPublic(BaseModel):
    events: int
    head_hash: str | None
    url: str
    """The incident's page, with its timeline and the chain's verification."""
    export_url: str
    """The stored events, verbatim (JSON Lines), to recompute the chain independently."""


class MilestonePublic(BaseModel):
    name: str
    at: datetime


class RegisterEntryPublic(BaseModel):
    reference: str
    title: str
    status: str
    facts: FactsPublic
    people: PeoplePublic
    milestones: list[MilestonePublic]
    dismissal: DismissalPublic | None
    effects: EffectsPublic | None
    remedial_action: RemedialPublic
    duties: list[DutyDecisionPublic]
    evidence: list[EvidencePublic]
    timeline: TimelineLinkPublic


class RegisterPublic(BaseModel):
    """The breach register (GDPR Art. 33(5)): every incident that became known in the
    selection, oldest first."""

    generated_at: datetime
    organisation: str | None
    time_zone: str
    selection: SelectionPublic
    total: int
    incidents: list[RegisterEntryPublic]


class DutyOutcomePublic(_FromValues):
    ref: str
    recipient: str
    recipient_name: str
    phase: str | None
    trigger_at: datetime | None
    due_at: datetime | None
    met_at: datetime | None
    outcome: rules.Outcome
    late_by_seconds: int | None
    overdue: bool
    overdue_by_seconds: int | None
    seconds_left: int | None
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    how: str | None


class SummaryPublic(_FromValues):
    incidents: int
    duties: int
    on_time: int
    late: int
    waived: int
    open: int
    overdue: int
    share_on_time: float | None
    """Met on time over met on time, met late and still open past the due time."""
    notices: int
    median_notice_seconds: int | None
    """From awareness to the first notice to an authority or regulator, over `notices`."""
    worst_notice_seconds: int | None
    worst_notice_incident: str | None


class PeriodPublic(BaseModel):
    period: str
    start: datetime
    end: datetime
    summary: SummaryPublic


class IncidentCompliancePublic(BaseModel):
    reference: str
    title: str
    status: str
    aware_at: datetime
    period: str
    milestones: list[MilestonePublic]
    notice_seconds: int | None
    duties: list[DutyOutcomePublic]


class CompliancePublic(BaseModel):
    """Each duty of the incidents in the selection against its due time, and per period (of
    when the incidents became known) the share on time and the time to the authority notice."""

    generated_at: datetime
    organisation: str | None
    time_zone: str
    selection: SelectionPublic
    per: rules.Per
    overall: SummaryPublic
    periods: list[PeriodPublic]
    incidents: list[IncidentCompliancePublic]


def incident_path(reference: str) -> str:
    return f"/incidents/{quote(reference)}"


def selection_public(selection: service.Selection) -> SelectionPublic:
    return SelectionPublic(aware_from=selection.start, aware_to=selection.end,
                           status=selection.status.value if selection.status else None)


def _entry(entry: rules.RegisterEntry) -> RegisterEntryPublic:
    facts, reference = entry.facts, entry.facts.reference
    api = f"/api/v1/incidents/{quote(reference)}"
    return RegisterEntryPublic(
        reference=reference, title=facts.title, status=facts.status,
        facts=FactsPublic.model_validate(facts), people=PeoplePublic.model_validate(entry.people),
        milestones=[MilestonePublic(name=name, at=at) for name, at in entry.milestones],
        dismissal=DismissalPublic.model_validate(entry.dismissal) if entry.dismissal else None,
        effects=EffectsPublic.model_validate(entry.effects) if entry.effects else None,
        remedial_action=RemedialPublic.model_validate(entry.remedial),
        duties=[DutyDecisionPublic.model_validate(d) for d in entry.duties],
        evidence=[EvidencePublic.model_validate({**asdict(e), "url": f"{api}/evidence/{e.id}"})
                  for e in entry.evidence],
        timeline=TimelineLinkPublic(events=entry.timeline.events,
                                    head_hash=entry.timeline.head_hash,
                                    url=incident_path(reference),
                                    export_url=f"{api}/timeline/export?format=jsonl"))


def register_public(found: service.Register) -> RegisterPublic:
    return RegisterPublic(generated_at=found.generated_at, organisation=found.organisation,
                          time_zone=found.time_zone, selection=selection_public(found.selection),
                          total=len(found.entries), incidents=[_entry(e) for e in found.entries])


def compliance_public(found: service.Compliance) -> CompliancePublic:
    return CompliancePublic(
        generated_at=found.generated_at, organisation=found.organisation,
        time_zone=found.time_zone, selection=selection_public(found.selection), per=found.per,
        overall=SummaryPublic.model_validate(found.overall),
        periods=[PeriodPublic(period=p.period.label, start=p.period.start, end=p.period.end,
                              summary=SummaryPublic.model_validate(p.summary))
                 for p in found.periods],
        incidents=[IncidentCompliancePublic(
            reference=i.reference, title=i.title, status=i.status, aware_at=i.aware_at,
            period=i.period, milestones=[MilestonePublic(name=n, at=at) for n, at in i.marks],
            notice_seconds=i.notice_seconds,
            duties=[DutyOutcomePublic.model_validate(d) for d in i.duties])
            for i in found.incidents])
