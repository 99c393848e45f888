"""The escalation that a notice left people not reached, in every language the escalation
templates are written in (templates/email/escalation/): the approvers are told in the
organisation's language, never in another one, and never with the template's refusal of an
issue it does not know.

GDPR Art. 34(1) asks that each person be informed; the escalation tells the approvers who
can act that some were not, how many of how many, and that the duty stays open until each
is reached another way and that is recorded."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifications.drafting.contexts import sample_context
from notifications.drafting.render import Renderer, renderer

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
BERLIN = ZoneInfo("Europe/Berlin")


@cache
def shipped() -> Renderer:
    return renderer(TEMPLATES)


def not_reached_context() -> dict[str, Any]:
    """The context the reminders give an escalation about people not reached
    (notifications/reminders/service.py): no delivery failures, a count of those missing."""
    context = {key: value for key, value in sample_context("escalation").items()
               if key not in ("deliveries_failed", "last_error")}
    return {**context, "issue": "people_not_reached", "not_reached": 4321,
            "deliveries_total": 98765}


LOCALES = sorted(shipped().locales("escalation"))


def test_the_escalation_templates_exist_in_many_languages() -> None:
    assert len(LOCALES) > 20 and "en" in LOCALES


@pytest.mark.parametrize("locale", LOCALES)
def test_each_language_says_who_was_not_reached_in_its_own_words(locale: str) -> None:
    context = not_reached_context()
    rendered = shipped().render("escalation", locale, context, zone=BERLIN)
    overdue = shipped().render("escalation", locale, {**context, "issue": "obligation_overdue"},
                               zone=BERLIN)
    english = shipped().render("escalation", "en", context, zone=BERLIN)

    assert rendered.locale == locale
    missing = shipped().formatting("escalation", locale, zone=BERLIN).number(4321)
    total = shipped().formatting("escalation", locale, zone=BERLIN).number(98765)
    for part in (rendered.subject, rendered.text, rendered.html):
        assert missing in part and str(context["incident_reference"]) in part
    assert total in rendered.text and total in rendered.html
    assert str(context["obligation"]) in rendered.subject
    # Its own wording: not the overdue one, and not English (but in English itself).
    assert rendered.text != overdue.text and rendered.subject != overdue.subject
    if locale != "en":
        assert rendered.subject != english.subject
        assert "did not reach" not in rendered.text and "Not reached" not in rendered.html
    # The letters, as CSV and PDF, are named in every language (Dutch writes "pdf").
    assert "CSV" in rendered.text and "pdf" in rendered.text.lower()
