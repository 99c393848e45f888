"""Message rendering: every template in every locale, localisation, fallback, and hostile data."""

from __future__ import annotations

import html
import re
import shutil
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from jinja2.exceptions import SecurityError

from notifications.drafting.contexts import sample_context
from notifications.drafting.environment import SUBJECT_LIMIT, RenderError
from notifications.drafting.render import Rendered, Renderer, renderer

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
BERLIN = ZoneInfo("Europe/Berlin")
SHIPPED_KINDS = {"subject_notice", "authority_report", "reminder", "escalation"}
REQUIRED_LOCALES = {"en", "pl", "de", "fr"}
# Keys whose values are chosen from a fixed set or checked, not free text typed by a person.
CHOSEN = {"kind", "issue", "incident_url", "categories", "breach_types", "jurisdictions",
          "subjects_by_category", "duty", "items"}


@cache
def shipped() -> Renderer:
    return renderer(TEMPLATES)


CASES = [(kind, locale) for kind in shipped().kinds() for locale in shipped().locales(kind)]
KEY_CASES = [(kind, locale, key) for kind, locale in CASES for key in sample_context(kind)]


def render(kind: str, locale: str, /, *, zone: ZoneInfo = BERLIN, **changes: Any) -> Rendered:
    return shipped().render(kind, locale, {**sample_context(kind), **changes}, zone=zone)


def copy_templates(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES / "email", target / "email")
    return target


# ------------------------------------------------------------------- every template


def test_the_shipped_kinds_exist_in_every_required_locale() -> None:
    assert set(shipped().kinds()) >= SHIPPED_KINDS
    for kind in SHIPPED_KINDS:
        assert set(shipped().locales(kind)) >= REQUIRED_LOCALES


@pytest.mark.parametrize(("kind", "locale"), CASES)
def test_every_template_renders_its_sample(kind: str, locale: str) -> None:
    rendered = render(kind, locale)

    assert rendered.locale == locale
    assert rendered.subject and "\n" not in rendered.subject and "\r" not in rendered.subject
    assert len(rendered.subject) <= SUBJECT_LIMIT
    assert rendered.subject == rendered.subject.strip()
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{locale.replace("_", "-")}">' in rendered.html
    about_an_incident = "incident_reference" in sample_context(kind)  # not a checkpoint
    for part in rendered[:3]:
        assert "BR-2026-0007" in part or not about_an_incident
        assert "None" not in part


@pytest.mark.parametrize(("kind", "locale", "key"), KEY_CASES)
def test_a_missing_key_is_an_error_naming_it_and_the_template(kind: str, locale: str, key: str) -> None:
    context = sample_context(kind)
    del context[key]

    with pytest.raises(RenderError) as caught:
        shipped().render(kind, locale, context, zone=BERLIN)

    message = str(caught.value)
    assert f"'{key}'" in message
    assert f"email/{kind}/{locale}." in message
    assert " line " in message


def test_the_notice_names_the_persons_data_in_their_language() -> None:
    expected = {"en": "Contact details", "pl": "Dane kontaktowe", "de": "Kontaktdaten", "fr": "Coordonnées"}
    for locale, words in expected.items():
        text = render("subject_notice", locale, categories=["contact"]).text
        assert f"- {words}\n" in text
    de = render("subject_notice", "de", categories=["credentials", "financial"]).text
    assert "Ändern Sie jetzt Ihr Passwort" in de
    assert "Konto- und Kartenauszüge" in de
    assert "Phishing" not in de


def test_the_authority_report_is_initial_or_a_numbered_supplement() -> None:
    initial = render("authority_report", "en", supplement=0, first_reported_at=None,
                     delay_reason="", authority_reference="")
    assert initial.subject.startswith("Personal data breach notification (Art. 33 GDPR)")
    assert "Supplement" not in initial.text
    assert "Reasons for the delay" not in initial.text

    third = render("authority_report", "en", supplement=3)
    assert third.subject.startswith("Supplement 3 to the personal data breach notification of November 25")
    assert "Reasons for the delay" in third.text
    assert "Ergänzung Nr. 3" in render("authority_report", "de", supplement=3).subject


def test_the_authority_report_counts_people_by_jurisdiction_in_words() -> None:
    text = render("authority_report", "pl").text
    assert "- Polska: 9\xa0120\n" in text
    assert "- Stany Zjednoczone (US-CA): 1\xa0050\n" in text
    unknown = render("authority_report", "en", subjects_counted=None, counted_at=None,
                     subjects_estimate=None, records_estimate=None).text
    assert "Approximate number of data subjects: not yet known" in unknown


def test_the_authority_report_states_the_count_and_says_whether_it_is_one() -> None:
    counted = render("authority_report", "en").text
    assert ("Number of data subjects: 12,480 (counted from our records on November 26, 2026"
            in counted and "first estimated at 12,000)" in counted)
    assert "- Sign-in details: 11,902\n" in counted
    assert "Approximate number of data subjects" not in counted
    estimated = render("authority_report", "de", subjects_counted=None, counted_at=None,
                       subjects_by_category=[]).text
    assert ("Ungefähre Zahl der betroffenen Personen: 12.000 (eine Schätzung, noch nicht aus "
            "unseren Aufzeichnungen ermittelt)") in estimated


def test_a_supplement_says_what_is_new_and_the_annex_holds_the_assessment() -> None:
    text = render("authority_report", "en").text
    assert "What is new since the last report:\nThe number of people concerned is now counted" in text
    annex = text[text.index("Annex: our risk assessment"):]
    assert ("Severity: high (score 3.5); recommendation: notify the supervisory authority and "
            "the people affected\n") in annex
    assert "- DPC is the highest category score: 3." in annex
    assert "DPC is the highest" not in text[:text.index("Annex: our risk assessment")]
    initial = render("authority_report", "fr", supplement=None, first_reported_at=None,
                     assessment=None).text
    assert "Ce qui a changé" not in initial and "Annexe" not in initial


def test_an_escalation_about_an_overdue_obligation_needs_no_delivery_figures() -> None:
    context = sample_context("escalation")
    for key in ("deliveries_failed", "deliveries_total", "last_error", "since"):
        del context[key]
    context["issue"] = "obligation_overdue"

    rendered = shipped().render("escalation", "en", context, zone=BERLIN)

    assert rendered.subject == "Escalation: “Notify the supervisory authority” is overdue (BR-2026-0007)"
    assert "3 hours, 25 minutes ago" in rendered.text


# ---------------------------------------------------------------- locale and format


@pytest.mark.parametrize(("asked", "used"), [
    ("de_AT", "de"), ("de-AT", "de"), ("DE_at", "de"), ("de", "de"), ("pl_PL", "pl"), ("fr_CH", "fr"),
    ("en_GB", "en"), ("xx", "en"), ("th_TH", "en"), ("sw", "en"), ("", "en"),
    ("../../etc/passwd", "en"),
])
def test_a_locale_falls_back_to_its_language_then_english(asked: str, used: str) -> None:
    assert shipped().resolve_locale("reminder", asked) == used
    assert render("reminder", asked).locale == used


def test_a_regional_locale_formats_in_its_own_variant() -> None:
    january = datetime(2027, 1, 15, 12, 5, tzinfo=UTC)
    assert "15. Jänner 2027, 13:05 MEZ" in render("reminder", "de_AT", due_at=january).text
    assert "15. Januar 2027, 13:05 MEZ" in render("reminder", "de", due_at=january).text
    assert "15 January 2027, 13:05 CET" in render("reminder", "en_GB", due_at=january).text
    assert "January 15, 2027, 1:05\u202fPM CET" in render("reminder", "xx", due_at=january).text


WINTER = datetime(2026, 11, 24, 13, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 24, 12, 5, tzinfo=UTC)


@pytest.mark.parametrize(("locale", "winter", "summer"), [
    ("en", "November 24, 2026, 2:05\u202fPM CET", "July 24, 2026, 2:05\u202fPM CEST"),
    ("pl", "24 listopada 2026, 14:05 CET", "24 lipca 2026, 14:05 CEST"),
    ("de", "24. November 2026, 14:05 MEZ", "24. Juli 2026, 14:05 MESZ"),
    ("fr", "24 novembre 2026, 14:05 CET", "24 juillet 2026, 14:05 CEST"),
])
def test_dates_are_localised_in_the_recipients_zone_across_dst(locale: str, winter: str, summer: str) -> None:
    # 13:05 UTC in winter and 12:05 UTC in summer are both 14:05 on a Berlin wall clock.
    assert winter in render("reminder", locale, due_at=WINTER).text
    assert summer in render("reminder", locale, due_at=SUMMER).text


def test_the_same_instant_reads_differently_in_another_zone() -> None:
    assert "November 24, 2026, 2:05\u202fPM CET" in render("reminder", "en", due_at=WINTER).text
    new_york = ZoneInfo("America/New_York")
    winter = render("reminder", "en", zone=new_york, due_at=WINTER).text
    assert "November 24, 2026, 8:05\u202fAM EST" in winter
    assert "July 24, 2026, 8:05\u202fAM EDT" in render("reminder", "en", zone=new_york, due_at=SUMMER).text
    assert "13:05 UTC" in render("reminder", "de", zone=ZoneInfo("UTC"), due_at=WINTER).text


@pytest.mark.parametrize(("locale", "figure"), [
    ("en", "1,234,567.5"), ("pl", "1\xa0234\xa0567,5"), ("de", "1.234.567,5"),
    ("fr", "1\u202f234\u202f567,5"),
])
def test_numbers_are_localised(locale: str, figure: str) -> None:
    assert figure in render("escalation", locale, deliveries_total=1234567.5).text


@pytest.mark.parametrize(("locale", "left"), [
    ("en", "2 days, 3 hours"), ("pl", "2 dni i 3 godziny"), ("de", "2 Tage, 3 Stunden"),
    ("fr", "2\xa0jours et 3\xa0heures"),
])
def test_time_left_is_localised_and_rounded_down(locale: str, left: str) -> None:
    text = render("reminder", locale, time_left=timedelta(days=2, hours=3, minutes=59)).text
    assert left in text


def test_durations_keep_the_two_largest_units() -> None:
    def left(value: timedelta) -> str:
        line = next(x for x in render("reminder", "en", time_left=value).text.splitlines()
                    if x.startswith("Time left"))
        return line.removeprefix("Time left: ")

    assert left(timedelta(hours=5)) == "5 hours"
    assert left(timedelta(hours=5, minutes=1)) == "5 hours, 1 minute"
    assert left(timedelta(days=1, minutes=30)) == "1 day"
    assert left(timedelta(seconds=59)) == "0 minutes"
    assert left(timedelta(hours=-2)) == "2 hours"


# ------------------------------------------------------------------------ hostile data

LONG_LINE = "A" * 10_000
CORPUS = [
    pytest.param("Jan\r\nBcc: victim@example.com\r\n\r\nbody", id="crlf"),
    pytest.param("Quiz {{ 7*7 }} and {{ config }}", id="expression"),
    pytest.param("{% raw %}x{% endraw %}{% include 'email/layout.html' %}", id="statement"),
    pytest.param("<script>alert(1)</script>", id="script"),
    pytest.param('"><img src=x onerror=alert(1)>', id="attribute-break"),
    pytest.param("\u202egnp.exe and more", id="rtl-override"),
    pytest.param(LONG_LINE, id="long-line"),
]


def hostile(kind: str, payload: str) -> dict[str, Any]:
    context = sample_context(kind)
    for key, value in context.items():
        if key in CHOSEN:
            continue
        if isinstance(value, str):
            context[key] = payload
        elif isinstance(value, list):
            context[key] = [payload, payload]
    return context


@pytest.mark.parametrize(("kind", "locale"), CASES)
@pytest.mark.parametrize("payload", CORPUS)
def test_typed_text_stays_data(kind: str, locale: str, payload: str) -> None:
    rendered = shipped().render(kind, locale, hostile(kind, payload), zone=BERLIN)

    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    assert len(rendered.subject) <= SUBJECT_LIMIT
    assert "\r" not in rendered.text and "\r" not in rendered.html
    assert "<script" not in rendered.html and "<img" not in rendered.html
    if "<script>" in payload:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
        assert "<script>alert(1)</script>" in rendered.text
    if "onerror" in payload:
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in rendered.html
    if "{{ 7*7 }}" in payload:
        assert "{{ 7*7 }}" in rendered.text and "{{ 7*7 }}" in rendered.html
        assert "49" not in rendered.text and "49" not in rendered.html
    if "{% raw %}" in payload:
        assert "{% raw %}x{% endraw %}{% include 'email/layout.html' %}" in rendered.text
        assert rendered.text.count("<!DOCTYPE") == 0
    if "\u202e" in payload:
        for part in rendered[:3]:
            assert part.count("\u202e") == part.count("\u202c") > 0
    if payload == LONG_LINE:
        assert LONG_LINE in rendered.text and LONG_LINE in rendered.html
        assert rendered.subject.endswith("…")
    if "Bcc:" in payload:
        assert "Jan\nBcc: victim@example.com\n\nbody" in rendered.text
        assert "Jan Bcc: victim@example.com body" in rendered.subject



# ------------------------------------------------------------------------ wrong values


@pytest.mark.parametrize(("kind", "change", "words"), [
    ("reminder", {"due_at": datetime(2026, 11, 24, 9, 0)}, "has no time zone"),
    ("reminder", {"due_at": "tomorrow"}, "expected a datetime"),
    ("reminder", {"time_left": 3600}, "expected a timedelta"),
    ("reminder", {"incident_url": "javascript:alert(1)"}, "is not an http(s) address"),
    ("escalation", {"issue": "on_fire"}, "issue has an unexpected value 'on_fire'"),
    ("escalation", {"deliveries_total": "many"}, "expected a number"),
    ("subject_notice", {"categories": ["contact", "shoe_size"]}, "'shoe_size' is not a data category"),
    ("subject_notice", {"kind": "earthquake"}, "'earthquake' is not an incident kind"),
    ("subject_notice", {"dpo_email": None}, "is None"),
    ("authority_report", {"breach_types": "confidentiality"}, "expected a list of breach types"),
])
def test_a_wrong_value_is_an_error_naming_the_template(kind: str, change: dict[str, Any], words: str) -> None:
    with pytest.raises(RenderError, match=r"email/" + kind) as caught:
        render(kind, "en", **change)
    assert words in str(caught.value)


def test_an_unknown_kind_is_an_error() -> None:
    with pytest.raises(RenderError, match="unknown message kind 'memo'"):
        shipped().render("memo", "en", {}, zone=BERLIN)
    with pytest.raises(RenderError, match="no sample context"):
        sample_context("memo")


# ------------------------------------------------------------------------- sandbox



def test_a_template_that_tries_the_sandbox_fails_to_render(tmp_path: Path) -> None:
    root = copy_templates(tmp_path)
    evil = root / "email" / "evil"
    evil.mkdir()
    (evil / "en.subject.txt").write_text("Hello")
    (evil / "en.txt").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    (evil / "en.html").write_text("<p>Hello</p>")

    with pytest.raises(RenderError, match=r"email/evil/en\.txt line 1") as caught:
        renderer(root).render("evil", "en", {}, zone=BERLIN)
    assert isinstance(caught.value.__cause__, SecurityError)



# ----------------------------------------------------------------- the template set


def test_a_new_kind_is_discovered_and_falls_back_to_english(tmp_path: Path) -> None:
    root = copy_templates(tmp_path)
    kind = root / "email" / "thanks"
    kind.mkdir()
    (kind / "en.subject.txt").write_text("Thanks\r\n {{ name }}\n")
    (kind / "en.txt").write_text("Thanks, {{ name }}: {{ when | datetime }}")
    (kind / "en.html").write_text("<p>{{ name }}</p>")

    built = renderer(root)
    rendered = built.render("thanks", "pl", {"name": "<Ola>", "when": SUMMER}, zone=BERLIN)

    assert "thanks" in built.kinds() and built.locales("thanks") == ["en"]
    assert rendered == ("Thanks <Ola>", "Thanks, <Ola>: July 24, 2026, 2:05\u202fPM CEST",
                        "<p>&lt;Ola&gt;</p>", "en")


@pytest.mark.parametrize(("breakage", "words"), [
    (lambda e: (e / "reminder" / "de.html").unlink(), "de has no de.html"),
    (lambda e: [p.unlink() for p in (e / "reminder").glob("en.*")], "every kind needs en templates"),
    (lambda e: (e / "reminder" / "klingon.txt").write_text("x"), "'klingon' is not a locale"),
    (lambda e: (e / "terms" / "fr.yaml").unlink(), "no words in email/terms/ for this language"),
    (lambda e: (e / "terms" / "en.yaml").unlink(), "en.yaml is missing"),
    (lambda e: (e / "terms" / "de.yaml").write_text("categories: {contact: Kontakt}\nmood: {}\n"),
     "unknown group 'mood'"),
    (lambda e: (e / "terms" / "pl.yaml").write_text("- a list\n"), "expected a mapping"),
])
def test_a_broken_template_set_is_refused_when_built(tmp_path: Path, breakage: Any, words: str) -> None:
    root = copy_templates(tmp_path)
    breakage(root / "email")

    with pytest.raises(RenderError, match="templates") as caught:
        renderer(root)
    assert words in str(caught.value)


def test_terms_must_cover_every_category_kind_and_breach_type(tmp_path: Path) -> None:
    root = copy_templates(tmp_path)
    terms = root / "email" / "terms" / "de.yaml"
    terms.write_text(terms.read_text(encoding="utf-8").replace("  health: Gesundheitsdaten\n", ""),
                     encoding="utf-8")

    with pytest.raises(RenderError, match="categories: health is missing"):
        renderer(root)


def test_a_missing_templates_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="no message templates"):
        renderer(tmp_path)


def test_lines_ending_in_a_condition_keep_their_line_break() -> None:
    for locale, words, advice in (
            ("en", "Data protection officer: Anna Nowak\nEmail: dpo@", "people affected\n"),
            ("de", "Datenschutzbeauftragte/r: Anna Nowak\nE-Mail: dpo@",
             "betroffenen Personen benachrichtigen\n")):
        text = render("authority_report", locale).text
        assert words in text
        assert advice in text
    estimated = render("authority_report", "en", subjects_counted=None, counted_at=None).text
    assert "not yet counted from our records)\nData subjects by category" in estimated


def test_a_duration_reads_in_a_language_whose_unit_list_pattern_is_incomplete() -> None:
    assert "19 horas y 40 minutos" in render("reminder", "es").text


ENGLISH = frozenset({"the", "and", "your", "you", "our", "have", "this", "that", "with", "been",
                     "were", "which", "what", "should", "about", "please", "would", "their",
                     "these", "those", "there", "they", "when", "where", "who", "its", "from"})
"""Words of English that are rare in the other languages the templates are written in: three of
them in one line of a translated template is an English sentence left behind."""
TAGS = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|<[^>]+>|&[a-z#0-9]+;", re.S)


def english_lines(text: str) -> list[str]:
    return [line.strip() for line in TAGS.sub(" ", text).splitlines()
            if len(ENGLISH & set(re.findall(r"[a-z]+", line.lower()))) >= 3]


def test_english_sentences_are_found() -> None:
    assert english_lines("Wir haben {{ x }} Ihre Daten geschützt.") == []
    assert english_lines("<p>We have informed the authority about what happened.</p>") == [
        "We have informed the authority about what happened."]


@pytest.mark.parametrize("locale", sorted({locale for _, locale in CASES} - {"en"}))
def test_no_translated_template_keeps_an_english_sentence(locale: str) -> None:
    email = TEMPLATES / "email"
    files = [path for path in email.glob(f"*/{locale}.*") if path.is_file()]
    assert files
    left = {f"{path.relative_to(email)}: {line}" for path in files
            for line in english_lines(path.read_text(encoding="utf-8"))}
    for path in files:  # a line of the English template, word for word, left untranslated
        english = path.with_name("en" + path.name[len(locale):])
        if english.exists():
            kept = prose(english.read_text(encoding="utf-8"))
            left |= {f"{path.relative_to(email)}: {line}"
                     for line in prose(path.read_text(encoding="utf-8")) & kept}
    assert left == set()


def prose(text: str) -> set[str]:
    """The lines of a template with four words or more once tags are taken out."""
    lines = (" ".join(TAGS.sub(" ", line).split()) for line in text.splitlines())
    return {line for line in lines if len(re.findall(r"[^\W\d_]{2,}", line)) >= 4}


@pytest.mark.parametrize(("kind", "locale"), CASES)
def test_no_line_runs_into_the_next(kind: str, locale: str) -> None:
    """A value at a line's end is followed by a line break, not glued to the next label."""
    text = render(kind, locale).text
    for value in ("Anna Nowak", "dpo@smartcp.example"):
        for line in text.splitlines():
            if value in line and not line.rstrip().endswith((value, ")", ".", "»", "」", "。")):
                after = line[line.index(value) + len(value):]
                assert not after[:1].isalpha(), f"{value!r} runs into {after[:30]!r}"


@pytest.mark.parametrize("locale", sorted({locale for _, locale in CASES}))
def test_the_annex_names_the_assessment_in_the_report_s_language(locale: str) -> None:
    """The severity and the recommendation are words of the report's language, not values."""
    text = render("authority_report", locale).text
    assert "notify_authority_and_subjects" not in text and "very_high" not in text
    if locale.split("_")[0] in ("de", "fr", "pl", "cs"):
        assert "3,5" in text and "3.5" not in text  # the score in the language's own numbers



NOTICE_LOCALES = shipped().locales("subject_notice")
CALIFORNIA_HEADINGS = ("what_happened", "information_involved", "what_we_are_doing",
                       "what_you_can_do", "more_information")


def terms_of(locale: str) -> dict[str, str]:
    words = yaml.safe_load((TEMPLATES / "email" / "terms" / f"{locale}.yaml").read_text("utf-8"))
    return dict(words["letter"])


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_a_californian_s_letter_is_titled_and_headed_as_california_prescribes(locale: str) -> None:
    """Cal. Civ. Code 1798.82(d)(1): "Notice of Data Breach" under five headings, in order, in
    the reader's language; the other headings of the letter give way."""
    words = terms_of(locale)
    for part in ("text", "html"):
        californian = getattr(render("subject_notice", locale, elements=[
            "california_format", "notice_date", "law_enforcement_delay"], delay_reason=""), part)
        other = getattr(render("subject_notice", locale, elements=["nature"]), part)
        title = words["notice_title"].upper() if part == "text" else words["notice_title"]
        assert title in californian and words["notice_title"] not in other
        assert html.unescape(words["not_delayed"]) in html.unescape(californian)
        shown = html.unescape(californian)
        found = [shown.find(f"\n{words[key]}\n" if part == "text" else f">{words[key]}</h2>")
                 for key in CALIFORNIA_HEADINGS]
        assert -1 not in found and found == sorted(found), (locale, part, found)
        assert words["more_information"] not in other or locale == "en"


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_a_massachusetts_letter_leaves_out_the_nature_of_the_breach(locale: str) -> None:
    """M.G.L. c. 93H s. 3(b): no nature of the breach; the police report and the free security
    freeze instead."""
    words = terms_of(locale)
    description = sample_context("subject_notice")["description"]
    text = render("subject_notice", locale, elements=["police_report", "security_freeze"],
                  omitted=["nature", "count"]).text
    assert description not in text
    assert " ".join(words["police_report"].split()) in " ".join(text.split())
    assert "Equifax" in text  # a freeze is asked for at each consumer reporting agency
    assert description in render("subject_notice", locale).text
