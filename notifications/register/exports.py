"""The register and the compliance report as files: CSV for spreadsheets, and PDF printed from the
very template the page shows (its print layout) through the project's one PDF renderer.

The CSV and the PDF are made from the same response models the API answers with, so the
three formats never disagree. Instants in the CSV are UTC (ISO 8601); the PDF shows them in
the service's time zone, as the pages do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from incident.kernel.text import spreadsheet_safe
from notifications.register.chart import Chart, incident_chart
from notifications.register.rules import Decision, Outcome, percent, span_words
from notifications.register.schemas import (
    CompliancePublic,
    DutyDecisionPublic,
    RegisterPublic,
    compliance_public,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from jinja2 import Environment

    from notifications.register.service import Compliance

REGISTER_COLUMNS = [
    "reference", "title", "status", "kind", "breach_types", "data_categories", "systems",
    "occurred_from", "occurred_to", "detected_at", "aware_at", "contained_at", "closed_at",
    "people", "people_basis", "records_estimate", "dismissed_at", "dismissed_by",
    "dismissal_reason", "severity", "recommendation", "remedial_action", "steps_done",
    "duties", "evidence", "timeline_events", "timeline_head"]

COMPLIANCE_COLUMNS = [
    "reference", "aware_at", "period", "obligation", "recipient", "due_at", "met_at", "outcome",
    "late_by_seconds", "late_by", "overdue", "overdue_by_seconds", "reason", "decided_by",
    "decided_at", "how"]

PRINT_TEMPLATE = "print.html"
PAGE_TEMPLATE = "base.html"


def instant(at: datetime | None) -> str:
    """An instant as the CSV gives it: UTC, to the second, `2026-03-10T09:30:00Z`."""
    return "" if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _csv(columns: list[str], rows: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_safe(value) for value in row])
    return buffer.getvalue()


def duty_sentence(duty: DutyDecisionPublic) -> str:
    """One duty and its decision in a sentence: `gdpr/authority: notified 2026-…Z, late by 1 d
    2 h: the reasons`."""
    head = f"{duty.ref}: "
    if duty.decision is Decision.NOTIFIED:
        timing = (f"late by {span_words(duty.late_by_seconds)}" if duty.late_by_seconds
                  is not None else "on time")
        reason = f": {duty.reason}" if duty.reason else ""
        return f"{head}notified {instant(duty.met_at)} ({duty.how or ''}), {timing}{reason}"
    if duty.decision is Decision.WAIVED:
        return f"{head}waived by {duty.decided_by} {instant(duty.decided_at)}: {duty.reason}"
    if duty.decision is Decision.NOT_APPLICABLE:
        return f"{head}not applicable: {'; '.join(duty.why_not)}"
    if duty.decision is Decision.NOT_OWED:
        return f"{head}not owed: {duty.reason}"
    due = f", due {instant(duty.due_at)}" if duty.due_at else ", no fixed due time"
    return f"{head}open{due}{' (overdue)' if duty.overdue else ''}"


def register_csv(report: RegisterPublic) -> str:
    """The register, one line per incident; a cell with several items has one per line."""
    rows = []
    for entry in report.incidents:
        facts, effects, dismissal = entry.facts, entry.effects, entry.dismissal
        remedial = entry.remedial_action
        rows.append([
            entry.reference, entry.title, entry.status, facts.kind, ";".join(facts.breach_types),
            ";".join(facts.data_categories), ";".join(facts.systems),
            instant(facts.occurred_from), instant(facts.occurred_to), instant(facts.detected_at),
            instant(facts.aware_at), instant(facts.contained_at), instant(facts.closed_at),
            entry.people.count if entry.people.count is not None else "",
            entry.people.basis.value + (f" {entry.people.snapshot}" if entry.people.snapshot
                                        else ""),
            facts.estimated_records if facts.estimated_records is not None else "",
            instant(dismissal.at) if dismissal else "", dismissal.by if dismissal else "",
            (dismissal.reason or "") if dismissal else "",
            (effects.severity or "") if effects else "",
            (effects.recommendation or "") if effects else "",
            "\n".join(remedial.measures), f"{remedial.steps_done} of {remedial.steps_total}",
            "\n".join(duty_sentence(d) for d in entry.duties),
            "\n".join(f"{e.sha256}  {e.filename}" for e in entry.evidence),
            entry.timeline.events, entry.timeline.head_hash or ""])
    return _csv(REGISTER_COLUMNS, rows)


def compliance_csv(report: CompliancePublic) -> str:
    """The compliance report, one line per duty owed (the summaries are in JSON and PDF)."""
    rows = []
    for incident in report.incidents:
        for duty in incident.duties:
            rows.append([
                incident.reference, instant(incident.aware_at), incident.period, duty.ref,
                duty.recipient, instant(duty.due_at), instant(duty.met_at), duty.outcome.value,
                duty.late_by_seconds if duty.late_by_seconds is not None else "",
                span_words(duty.late_by_seconds), "yes" if duty.overdue else "no",
                duty.overdue_by_seconds if duty.overdue_by_seconds is not None else "",
                duty.reason or "", duty.decided_by or "", instant(duty.decided_at),
                duty.how or ""])
    return _csv(COMPLIANCE_COLUMNS, rows)


WORDS: dict[str, Any] = {
    "span": span_words, "percent": percent,
    "decisions": {Decision.NOTIFIED: "notified", Decision.WAIVED: "waived",
                  Decision.NOT_APPLICABLE: "not applicable", Decision.NOT_OWED: "not owed",
                  Decision.OPEN: "open"},
    "outcomes": {Outcome.ON_TIME: "on time", Outcome.LATE: "late", Outcome.WAIVED: "waived",
                 Outcome.OPEN: "open"},
}
"""What the templates use to put the reports in words."""


def printed(environment: Environment, template: str, **values: Any) -> bytes:
    """`template` rendered in its print layout, as a PDF (A4, numbered pages)."""
    from notifications.drafting.documents import pdf_of

    html = environment.get_template(template).render(layout=PRINT_TEMPLATE, printing=True,
                                                     **WORDS, **values)
    return pdf_of(html)


def compliance_values(found: Compliance, zone: ZoneInfo) -> dict[str, Any]:
    """What the compliance template shows: the report, and each incident's picture."""
    charts: dict[str, Chart] = {
        item.reference: incident_chart(marks=item.marks, duties=item.duties,
                                       aware_at=item.aware_at, now=found.generated_at, zone=zone)
        for item in found.incidents}
    return {"report": compliance_public(found), "charts": charts}
