"""Reminders in every language their templates exist in: a duty named in words (never its
code), its phase, the authority's name, and the digest of what fell due meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import cast, get_args
from zoneinfo import ZoneInfo

import pytest

from incident.kernel.settings import REPOSITORY
from notifications.drafting.contexts import sample_context
from notifications.drafting.letters import internal_context
from notifications.drafting.render import Renderer, renderer
from notifications.obligations.regimes import Recipient
from notifications.reminders.service import DUTY_WORDS

BERLIN = ZoneInfo("Europe/Berlin")
AUTHORITY = "Berliner Beauftragte für Datenschutz und Informationsfreiheit"


@cache
def shipped() -> Renderer:
    return renderer(REPOSITORY / "templates")


LOCALES = shipped().locales("reminder")


def digest_fields(title: str = "Stolen laptop") -> dict[str, object]:
    """A digest's stored fields, as the reminders service writes them (JSON)."""
    line = {"incident_reference": "BR-2026-0007", "incident_title": title,
            "incident_url": "https://breach.example.org/incidents/BR-2026-0007",
            "regime": "EU General Data Protection Regulation", "obligation_recipient": AUTHORITY,
            "due_at": "2026-03-13T09:30:00+00:00"}
    return {"items": [
        {**line, "duty": "authority", "obligation": "Notify the supervisory authority",
         "phase": "initial", "state": "overdue"},
        {**line, "duty": "individuals", "obligation": "Notify the people affected", "phase": "",
         "state": "overdue"},
        {**line, "duty": "", "obligation": "classify the incident (NIS2 significant)",
         "phase": "", "state": "decide"}]}


def test_the_words_exist_for_every_language_of_the_reminder_templates() -> None:
    assert len(LOCALES) >= 30
    for name in LOCALES:
        words = REPOSITORY / "templates" / "email" / "reminder" / "words"
        assert (words / f"{name}.txt").read_text() == (words / f"{name}.html").read_text()


@pytest.mark.parametrize("locale", LOCALES)
def test_a_reminder_names_its_duty_in_words_in_every_language(locale: str) -> None:
    english = shipped().render("reminder", "en", sample_context("reminder"), zone=BERLIN)
    rendered = shipped().render("reminder", locale, sample_context("reminder"), zone=BERLIN)
    for part in rendered[:3]:
        assert "gdpr/" not in part
    assert "Prezes Urzędu Ochrony Danych Osobowych (UODO)" in rendered.text
    if locale != "en":  # the duty in the template's own words, not the English ones
        assert "Notify the supervisory authority" not in rendered.text
    assert "Notify the supervisory authority" in english.text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_digest_renders_in_every_language(locale: str) -> None:
    context = {**internal_context(digest_fields()), "recipient_name": "Marek Zieliński"}
    rendered = shipped().render("reminder", locale, context, zone=BERLIN)
    assert rendered.subject.endswith("(3)")
    for part in (rendered.text, rendered.html):
        assert part.count("https://breach.example.org/incidents/BR-2026-0007") == 3
        assert part.count(AUTHORITY) == 3
        assert "None" not in part and "individuals" not in part and "overdue," not in part
    # The decision that starts a legal clock has no duty word: it is shown as recorded.
    assert "classify the incident (NIS2 significant)" in rendered.text
    if locale == "de":
        assert ("Aufsichtsbehörde benachrichtigen: Erstmeldung (Berliner Beauftragte für "
                "Datenschutz und Informationsfreiheit, EU General Data Protection Regulation). "
                "Überfällig, fällig 13. März 2026, 10:30 MEZ.") in rendered.text


def test_a_title_typed_by_a_person_stays_data_in_the_digest() -> None:
    hostile = '"><img src=x onerror=alert(1)> {{ 7*7 }}'
    context = {**internal_context(digest_fields(hostile)), "recipient_name": ""}
    rendered = shipped().render("reminder", "en", context, zone=BERLIN)
    assert "<img" not in rendered.html and "&lt;img" in rendered.html
    assert "{{ 7*7 }}" in rendered.text and "49" not in rendered.text


def test_the_stored_digest_is_restored_with_its_instants() -> None:
    restored = internal_context(digest_fields())
    assert restored["items"][0]["due_at"] == datetime(2026, 3, 13, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_kind_of_recipient_is_named_in_words_in_every_language(locale: str) -> None:
    # A duty to any recipient the regime files may name (regimes.Recipient) gets a reminder:
    # its words must exist, or the reminder would not render at all.
    recipients = get_args(Recipient)
    line = cast(list[dict[str, object]], digest_fields()["items"])[0]
    items = [{**line, "duty": kind, "phase": ""} for kind in recipients]
    context = {**internal_context({"items": items}), "recipient_name": "Marek Zieliński"}
    rendered = shipped().render("reminder", locale, context, zone=BERLIN)
    assert rendered.subject.endswith(f"({len(recipients)})")
    english = shipped().render("reminder", "en", context, zone=BERLIN)
    assert "Notify the nationwide consumer reporting agencies" in english.text
    assert set(DUTY_WORDS) == set(recipients)
