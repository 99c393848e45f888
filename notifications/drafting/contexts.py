"""What each kind of message is given to render: its context keys, and example values.

Every key must be present; "may be empty" means "" or [], "or None" means None is
allowed; times are aware datetimes, durations timedeltas. `sample_context(kind)` gives
realistic values for every key, for tests and previews. The templates and this list
change together: a template that needs a new key adds it here first.

`subject_notice`, the notice to an affected person (GDPR Art. 34(2)):
    organisation, incident_reference, recipient_name (may be empty), kind (an incident
    kind), description (may be empty: what happened, in the organisation's words),
    occurred_from and occurred_to (or None), aware_at, categories (this person's exposed
    data categories), consequences (may be empty: more on likely consequences), measures
    (what the organisation did; may be empty), advice (what the person can do beyond the
    advice for each data category; may be empty), dpo_name (may be empty), dpo_email,
    dpo_phone (may be empty), complaint_authority and complaint_authority_website (may be
    empty: the supervisory authority people may complain to, where the law gives that right),
    delay_reason (may be empty: why the notice was not sent sooner), notice_date, elements
    (what the laws protecting this person ask their letter to contain: `LetterElement`
    values, e.g. `california_format`, `credit_bureaus`), omitted (may be empty: what those
    laws forbid it to state, e.g. `nature`), credit_bureaus, federal_agencies and
    state_agencies (lists of {name, phone, website, address (or None)}; the last may be
    empty).

`authority_report`, the report to a supervisory authority (GDPR Art. 33(3), phased per 33(4)):
    authority, organisation, incident_reference, authority_reference (may be empty: the
    authority's case number), supplement (0 for the initial report, n for the n-th
    supplement), first_reported_at (or None for the initial report), reported_at, kind,
    breach_types, description, occurred_from and occurred_to (or None), detected_at,
    aware_at, contained_at (or None), categories, subjects_counted (the people in the latest
    affected-people snapshot, or None before one exists) and counted_at (or None),
    subjects_by_category (a list of {category, subjects}; may be empty), subjects_estimate
    and records_estimate (numbers, or None when not yet known), jurisdictions (a list of
    {code, subjects} from the snapshot, code ISO 3166-1 or 3166-2; may be empty),
    consequences, measures_taken and measures_proposed (may be empty), dpo_name (may be
    empty), dpo_email, dpo_phone (may be empty), delay_reason (may be empty: set when the
    report is late, Art. 33(1)), due_at (the deadline, shown when late), changes (may be
    empty: what a supplement adds, Art. 33(4)), assessment (or None: {severity, score (or
    None), recommendation, overridden, reasons} for the annex).

`reminder`, an internal reminder that an obligation falls due:
    recipient_name (may be empty), incident_reference, incident_title, incident_url,
    duty (whom the duty is owed to, a recipient of the regime files: `authority`,
    `individuals`...; the templates name it in words; empty for a decision to make, then
    obligation, the decision in words, is shown), regime (its name), obligation_recipient
    (the authority's name), due_at, time_left, items (empty, or the digest of what fell due
    while no reminder could be sent: a list of {incident_reference, incident_title,
    incident_url, duty, phase (`initial`, `intermediate`, `final`, `follow_up` or empty),
    obligation, regime, obligation_recipient, due_at, state (`overdue`, `due`, `decide` or
    `attention`)}; the other keys are then not read).

`checkpoint`, a signed timeline checkpoint to its witness (BREACH_CHECKPOINT_WITNESS):
    recipient_name (may be empty), number, at, chains (how many timelines it signs), hash,
    fingerprint (of the signing key), line (the checkpoint as its log line, also attached).

`escalation`, an internal escalation that an obligation is overdue or its deliveries fail:
    recipient_name (may be empty), issue (`obligation_overdue` or `delivery_failing`),
    incident_reference, incident_title, incident_url, obligation, regime,
    obligation_recipient, due_at, since (when the problem began), elapsed (how long it has
    lasted); for `delivery_failing` also deliveries_failed, deliveries_total and
    last_error (may be empty: the server's last reply, verbatim).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from notifications.drafting.environment import RenderError
from notifications.obligations.regimes import LetterElement


def _agency(name: str, website: str, address: str | None = None) -> dict[str, Any]:
    return {"name": name, "phone": "1-800-555-0100", "website": website, "address": address}


def sample_context(kind: str) -> dict[str, Any]:
    """Realistic example values for every key `kind` expects, for tests and previews."""
    aware = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    incident = {"incident_reference": "BR-2026-0007"}
    dpo = {"dpo_name": "Anna Nowak", "dpo_email": "dpo@smartcp.example", "dpo_phone": "+48 34 000 12 34"}
    internal = {**incident, "recipient_name": "Marek Zieliński",
                "incident_title": "Customer CRM export found on a public file share",
                "incident_url": "https://breachdesk.example/incidents/BR-2026-0007",
                "obligation": "Notify the supervisory authority", "regime": "GDPR",
                "obligation_recipient": "Prezes Urzędu Ochrony Danych Osobowych (UODO)",
                "due_at": aware + timedelta(hours=72)}
    samples: dict[str, dict[str, Any]] = {
        "subject_notice": {
            **incident, **dpo, "organisation": "SmartCP (SmartAction.io Sp. z o.o.)",
            "recipient_name": "Jan Kowalski", "kind": "unauthorized_access",
            "description": "An export of our customer database was stored on a file share that "
                           "could be reached from the internet without a password.",
            "occurred_from": datetime(2026, 11, 20, 23, 10, tzinfo=UTC),
            "occurred_to": datetime(2026, 11, 24, 9, 5, tzinfo=UTC), "aware_at": aware,
            "categories": ["contact", "credentials", "financial"],
            "consequences": "",
            "measures": ["We removed the file from the share and closed public access to it.",
                         "We reset the passwords of all affected accounts.",
                         "We reported the incident to the data protection authority."],
            "advice": ["Change the password of your SmartCP account if you have not been "
                       "asked to already."],
            "complaint_authority": "Prezes Urzędu Ochrony Danych Osobowych (UODO)",
            "complaint_authority_website": "https://uodo.gov.pl",
            "delay_reason": "The police asked us to wait until 2 December so as not to "
                            "hinder their investigation.",
            "notice_date": datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
            "elements": [e for e in get_args(LetterElement) if e != "california_format"],
            "omitted": [],
            "credit_bureaus": [_agency("Equifax", "https://www.equifax.com",
                                       "P.O. Box 105788, Atlanta, GA 30348")],
            "federal_agencies": [_agency("Federal Trade Commission", "https://www.identitytheft.gov",
                                         "600 Pennsylvania Avenue NW, Washington, DC 20580")],
            "state_agencies": [_agency("New York State Attorney General", "https://ag.ny.gov")],
        },
        "authority_report": {
            **incident, **dpo, "authority": "Prezes Urzędu Ochrony Danych Osobowych (UODO)",
            "organisation": "SmartCP (SmartAction.io Sp. z o.o.)", "authority_reference": "DKN.5131.88.2026",
            "supplement": 2, "first_reported_at": datetime(2026, 11, 25, 14, 0, tzinfo=UTC),
            "reported_at": datetime(2026, 12, 3, 10, 15, tzinfo=UTC), "kind": "unauthorized_access",
            "breach_types": ["confidentiality", "integrity"],
            "description": "A CRM export was reachable on a public file share; access logs show "
                           "two downloads from unknown addresses.",
            "occurred_from": datetime(2026, 11, 20, 23, 10, tzinfo=UTC),
            "occurred_to": datetime(2026, 11, 24, 9, 5, tzinfo=UTC),
            "detected_at": datetime(2026, 11, 24, 7, 45, tzinfo=UTC), "aware_at": aware,
            "contained_at": datetime(2026, 11, 24, 9, 5, tzinfo=UTC),
            "categories": ["contact", "credentials", "financial"],
            "subjects_counted": 12480, "counted_at": datetime(2026, 11, 26, 16, 20, tzinfo=UTC),
            "subjects_by_category": [{"category": "contact", "subjects": 12480},
                                     {"category": "credentials", "subjects": 11902},
                                     {"category": "financial", "subjects": 3120}],
            "subjects_estimate": 12000, "records_estimate": 1250000,
            "jurisdictions": [{"code": "PL", "subjects": 9120}, {"code": "DE", "subjects": 2310},
                              {"code": "US-CA", "subjects": 1050}],
            "consequences": "Phishing aimed at the people concerned; attempts to sign in with "
                            "the exposed password hashes; payment fraud with the last four card digits.",
            "measures_taken": ["Public access to the file share removed",
                               "Passwords of affected accounts reset",
                               "Access logs preserved as evidence"],
            "measures_proposed": ["Notify the affected people by email",
                                  "Scan all file shares for public exposure weekly"],
            "delay_reason": "The exported file had to be restored from backup to establish which "
                            "people it named; this took longer than 72 hours.",
            "due_at": aware + timedelta(hours=72),
            "changes": "The number of people concerned is now counted from the restored "
                       "export: 12,480, against the 12,000 first estimated.",
            "assessment": {"severity": "high", "score": 3.5,
                           "recommendation": "notify_authority_and_subjects",
                           "overridden": False,
                           "reasons": ["DPC is the highest category score: 3."]},
        },
        "reminder": {**{k: v for k, v in internal.items() if k != "obligation"},
                     "duty": "authority", "items": [],
                     "time_left": timedelta(hours=19, minutes=40)},
        "checkpoint": {"recipient_name": "Anna Nowak", "number": 42, "at": aware,
                       "chains": 12, "hash": "ab" * 32,
                       "fingerprint": " ".join(["7efb"] * 16),
                       "line": '{"body":{"number":42},"hash":"abab","key":"7efb","signature":"x"}'},
        "escalation": {**internal, "issue": "delivery_failing",
                       "since": datetime(2026, 11, 26, 7, 0, tzinfo=UTC),
                       "elapsed": timedelta(hours=3, minutes=25),
                       "deliveries_failed": 1312, "deliveries_total": 12480,
                       "last_error": "451 4.7.1 Greylisted, please try again later"},
    }
    if kind not in samples:
        raise RenderError(f"no sample context for {kind!r}; there are: {', '.join(samples)}")
    return samples[kind]
