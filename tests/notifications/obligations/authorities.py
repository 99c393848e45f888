"""An organisation's own regime whose report to an authority names that authority and how it
takes reports (its `authority` block), written to a test's own folder so that the tests of the
pages, the API and the commands do not depend on shipped regime files that change as laws are
read. A plain module: test modules import from here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REGIME_ID = "acme-dpa"
REPORT = f"{REGIME_ID}/report"
"""The report to the authority."""
FILING = ("the authority's online breach portal (https://portal.example.org/breach), which "
          "issues a receipt number")
AUTHORITY: dict[str, Any] = {
    "name": "Demo Data Protection Authority",
    "address": "1 Demo Street, 10115 Berlin, Germany",
    "website": "https://authority.example.org",
    "filing": FILING,
    "email": None,
    "phone": "+49 30 555 0100",
    "source": "https://authority.example.org/contact",
    "reviewed": "2026-12-01",
}
"""The authority block as the API shows it."""

REGIME = f"""\
id: {REGIME_ID}
name: Demo data protection act - report to the demo authority
jurisdiction: DE
sources: [https://example.org/demo-act]
applies:
  established_in: [DE]
confidence: medium
reviewed: 2026-11-30
obligations:
  - id: report
    recipient: authority
    recipient_name: The Demo Data Protection Authority
    trigger: aware_at
    deadline: {{hours: 72}}
    content: [the nature of the breach]
    citation: Demo Act s. 4
    source: https://example.org/demo-act#s4
    authority:
      name: {AUTHORITY["name"]}
      address: {AUTHORITY["address"]}
      website: {AUTHORITY["website"]}
      filing: "{FILING}"
      phone: "{AUTHORITY["phone"]}"
      source: {AUTHORITY["source"]}
      reviewed: {AUTHORITY["reviewed"]}
  - id: board
    recipient: internal
    recipient_name: The management board
    trigger: aware_at
    deadline: {{hours: 24}}
    content: [what happened]
    citation: Demo Act s. 5
    source: https://example.org/demo-act#s5
"""
"""Established in Germany (as tests.factories.PROFILE is): a report to the demo authority,
which takes reports only through its portal, and a duty with no authority."""


def regime_folder(directory: Path) -> Path:
    """A BREACH_REGIMES_DIR in `directory` holding the demo regime."""
    folder = directory / "regimes"
    folder.mkdir(exist_ok=True)
    (folder / f"{REGIME_ID}.yaml").write_text(REGIME, encoding="utf-8")
    return folder
