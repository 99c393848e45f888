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

from notifications.drafting.environment import Formatting

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


def report_sheet(context: Mapping[str, Any], content: Sequence[str],
                 formatting: Formatting) -> list[SheetRow]:
    """The report's content field by field, as GDPR Art. 33(3) lists it (the layout most
    authorities' online forms follow), in the words, dates and numbers of `formatting`'s
    language, then every item of the obligation's own content list (`content`, from the
    regime) for the reviewer to check off."""
    words, terms = formatting.terms.report, formatting.terms

    def when(value: datetime | None) -> str:
        return formatting.when(value) if value is not None else ""

    def count(key: str, value: int) -> str:
        return words[key].replace("{n}", formatting.number(value))

    counted, estimate = context.get("subjects_counted"), context.get("subjects_estimate")
    people = (count("counted", counted) if counted is not None else
              count("estimated", estimate) if estimate is not None else words["not_yet_known"])
    records = context.get("records_estimate")
    by_category = "; ".join(f"{terms.categories[item['category']]}: "
                            f"{formatting.number(item['subjects'])}"
                            for item in context.get("subjects_by_category", []))
    by_country = "; ".join(f"{formatting.place(place['code'])}: "
                           f"{formatting.number(place['subjects'])}"
                           for place in context.get("jurisdictions", []))
    supplement = context.get("supplement")
    row = SheetRow
    rows = [
        row(words["controller"], "GDPR Art. 33(3)", str(context.get("organisation", ""))),
        row(words["our_reference"], "", str(context.get("incident_reference", ""))),
        row(words["authority_reference"], "", str(context.get("authority_reference") or "")),
        row(words["phase"], "GDPR Art. 33(4)",
            count("supplement", supplement) if supplement else words["initial_report"]),
        row(words["changes"], "GDPR Art. 33(4)", str(context.get("changes") or "")),
        row(words["nature"], "GDPR Art. 33(3)(a)", str(context.get("description", ""))),
        row(words["kind"], "GDPR Art. 33(3)(a)",
            "; ".join([terms.kinds[context["kind"]],
                       *(terms.breach_types[t] for t in context.get("breach_types", []))])),
        row(words["period"], "GDPR Art. 33(3)(a)",
            " \u2013 ".join(filter(None, (when(context.get("occurred_from")),
                                     when(context.get("occurred_to")))))),
        row(words["detected"], "GDPR Art. 33(3)(a)", when(context.get("detected_at"))),
        row(words["aware"], "GDPR Art. 33(1)", when(context.get("aware_at"))),
        row(words["categories"], "GDPR Art. 33(3)(a)",
            "; ".join(terms.categories[c] for c in context.get("categories", []))),
        row(words["subjects"], "GDPR Art. 33(3)(a)", people),
        row(words["subjects_by_category"], "GDPR Art. 33(3)(a)", by_category),
        row(words["subjects_by_country"], "GDPR Art. 33(3)(a)", by_country),
        row(words["records"], "GDPR Art. 33(3)(a)",
            count("records_estimate", records) if records is not None
            else words["not_yet_known"]),
        row(words["contact"], "GDPR Art. 33(3)(b)",
            ", ".join(filter(None, (str(context.get("dpo_name") or ""),
                                    str(context.get("dpo_email") or ""),
                                    str(context.get("dpo_phone") or ""))))),
        row(words["consequences"], "GDPR Art. 33(3)(c)", str(context.get("consequences", ""))),
        row(words["measures_taken"], "GDPR Art. 33(3)(d)",
            _lines(context.get("measures_taken", []))),
        row(words["measures_proposed"], "GDPR Art. 33(3)(d)",
            _lines(context.get("measures_proposed", []))),
        row(words["delay_reason"], "GDPR Art. 33(1)", str(context.get("delay_reason") or "")),
    ]
    return rows + [row(words["content_required"].replace("{item}", item),
                       "the obligation's content list", "") for item in content]


def _lines(values: Sequence[str]) -> str:
    return "\n".join(f"- {value}" for value in values)


def sheet_text(rows: Sequence[SheetRow]) -> str:
    """The sheet as plain text: each field, its basis, then the answer, ready to copy."""
    blocks = []
    for row in rows:
        head = f"{row.field} ({row.basis})" if row.basis else row.field
        blocks.append(f"{head}\n{row.value or '—'}")
    return "\n\n".join(blocks) + "\n"
