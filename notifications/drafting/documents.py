"""A report as documents: the PDF an authority's portal takes, rendered by WeasyPrint from the
same HTML template the e-mail uses, and the field-by-field sheet to paste into an online form.

Pure functions of a rendered message and its context; WeasyPrint is imported only when a PDF
is made (it is heavy), and fetches nothing: a report is self-contained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

PRINT_CSS = """
@page {
  size: A4;
  margin: 18mm 16mm 20mm;
  @bottom-right { content: counter(page) " / " counter(pages); font: 8pt sans-serif;
                  color: #4b5563; }
}
body { background: #ffffff !important; }
body > div { max-width: none !important; padding: 0 !important; font-size: 11pt !important; }
th { width: 34%; vertical-align: top; }
table, tr, li, p { page-break-inside: avoid; }
"""
"""A4 pages, numbered, with the same words and layout the e-mail has."""


def pdf_of(html: str) -> bytes:
    """The PDF of a rendered report (its HTML part)."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    # No protocol allowed: a report is self-contained and loads nothing, whatever it holds.
    document = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=frozenset()))
    pdf: bytes = document.write_pdf(stylesheets=[CSS(string=PRINT_CSS)])
    return pdf


@dataclass(frozen=True)
class SheetRow:
    """One field of an authority's form: what it asks, the article asking it, our answer."""

    field: str
    basis: str
    value: str


def _when(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _lines(values: Sequence[str]) -> str:
    return "\n".join(f"- {value}" for value in values)


def _count(counted: int | None, estimate: int | None) -> str:
    if counted is not None:
        return f"{counted} (counted from our records)"
    if estimate is not None:
        return f"about {estimate} (an estimate, not yet counted)"
    return "not yet known"


def report_sheet(context: Mapping[str, Any], content: Sequence[str] = ()) -> list[SheetRow]:
    """The report's content field by field, as GDPR Art. 33(3) lists it (the layout most
    authorities' online forms follow), then every item of the obligation's own content list
    (`content`, from the regime) for the reviewer to check off."""
    people = _count(context.get("subjects_counted"), context.get("subjects_estimate"))
    by_category = "; ".join(f"{item['category']}: {item['subjects']}"
                            for item in context.get("subjects_by_category", []))
    by_country = "; ".join(f"{place['code']}: {place['subjects']}"
                           for place in context.get("jurisdictions", []))
    records = context.get("records_estimate")
    rows = [
        SheetRow("Controller", "GDPR Art. 33(3)", str(context.get("organisation", ""))),
        SheetRow("Our reference", "", str(context.get("incident_reference", ""))),
        SheetRow("The authority's reference", "", str(context.get("authority_reference") or "")),
        SheetRow("Initial report or supplement", "GDPR Art. 33(4)",
                 f"supplement {context['supplement']}" if context.get("supplement")
                 else "initial report"),
        SheetRow("What is new since the last report", "GDPR Art. 33(4)",
                 str(context.get("changes") or "")),
        SheetRow("Nature of the breach", "GDPR Art. 33(3)(a)", str(context.get("description", ""))),
        SheetRow("Kind of incident and of breach", "GDPR Art. 33(3)(a)",
                 ", ".join([str(context.get("kind", "")), *context.get("breach_types", [])])),
        SheetRow("When it began and ended", "GDPR Art. 33(3)(a)",
                 " to ".join(filter(None, (_when(context.get("occurred_from")),
                                          _when(context.get("occurred_to")))))),
        SheetRow("When it was detected", "GDPR Art. 33(3)(a)", _when(context.get("detected_at"))),
        SheetRow("When the controller became aware", "GDPR Art. 33(1)",
                 _when(context.get("aware_at"))),
        SheetRow("Categories of personal data", "GDPR Art. 33(3)(a)",
                 ", ".join(context.get("categories", []))),
        SheetRow("Number of data subjects", "GDPR Art. 33(3)(a)", people),
        SheetRow("Data subjects by category of data", "GDPR Art. 33(3)(a)", by_category),
        SheetRow("Data subjects by country or region", "GDPR Art. 33(3)(a)", by_country),
        SheetRow("Number of personal data records", "GDPR Art. 33(3)(a)",
                 f"about {records} (an estimate)" if records is not None else "not yet known"),
        SheetRow("Data protection officer or other contact point", "GDPR Art. 33(3)(b)",
                 ", ".join(filter(None, (str(context.get("dpo_name") or ""),
                                         str(context.get("dpo_email") or ""),
                                         str(context.get("dpo_phone") or ""))))),
        SheetRow("Likely consequences", "GDPR Art. 33(3)(c)", str(context.get("consequences", ""))),
        SheetRow("Measures taken", "GDPR Art. 33(3)(d)",
                 _lines(context.get("measures_taken", []))),
        SheetRow("Measures proposed", "GDPR Art. 33(3)(d)",
                 _lines(context.get("measures_proposed", []))),
        SheetRow("Reasons for the delay", "GDPR Art. 33(1)", str(context.get("delay_reason") or "")),
    ]
    return rows + [SheetRow(f"Content required: {item}", "the obligation's content list", "")
                   for item in content]


def sheet_text(rows: Sequence[SheetRow]) -> str:
    """The sheet as plain text: each field, its basis, then the answer, ready to copy."""
    blocks = []
    for row in rows:
        head = f"{row.field} ({row.basis})" if row.basis else row.field
        blocks.append(f"{head}\n{row.value or '—'}")
    return "\n\n".join(blocks) + "\n"
