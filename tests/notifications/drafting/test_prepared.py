"""A message prepared once per language and filled per person: byte for byte what a full render
gives, for every shipped template and any name, and a full render wherever the templates do
more with a name than print it."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from incident.inventory.rules import categories_mask
from notifications.drafting.contexts import sample_context
from notifications.drafting.environment import RenderError
from notifications.drafting.letters import Letter, shared_context
from notifications.drafting.models import Delivery, Notification
from notifications.drafting.render import Prepared, Rendered, Renderer, renderer
from notifications.drafting.service import letters_of
from tests.factories import START
from tests.notifications.drafting.test_letters import INCIDENT, OBLIGATION, PROFILE

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
BERLIN = ZoneInfo("Europe/Berlin")
HOSTILE = ["", None, "Jan Kowalski", "<script>alert(1)</script> & \"Tom\" O'Neil", "{{ 7*7 }}",
           "李小龍", "محمد بن سلمان", "Ελένη Παπαδοπούλου",
           "\u0410\u043d\u043d\u0430\u00a0\u041f\u0435\u0442\u0440\u043e\u0432\u0430",
           "Ann\r\nBell\rCarl\nDora", "tab\there\x00nul\x1bescape\x7f\u2028\u2029",
           "\u202eevil override \u2066isolate", "closer only \u202c\u2069", "   spaced    out   ",
           "x" * 5000, "qxzapersonalqxz", "qxzapersonalsecondvalueqxz", "Dear", "None", "0"]


@cache
def shipped() -> Renderer:
    return renderer(TEMPLATES)


CASES = [(kind, locale) for kind in shipped().kinds() for locale in shipped().locales(kind)]


def personal_name(kind: str) -> str:
    return "authority" if kind == "authority_report" else "recipient_name"


@cache
def prepared(kind: str, locale: str) -> Prepared:
    # One per template: the examples of a case share it, as the recipients of a notice do.
    return shipped().prepared(kind, locale, sample_context(kind), zone=BERLIN,
                              personal=(personal_name(kind),))


def full(engine: Renderer, kind: str, locale: str, context: dict[str, Any]) -> Rendered | str:
    try:
        return engine.render(kind, locale, context, zone=BERLIN)
    except RenderError as exc:
        return f"RenderError: {exc}"


def filled(found: Prepared, **values: Any) -> Rendered | str:
    try:
        return found.fill(**values)
    except RenderError as exc:
        return f"RenderError: {exc}"


names = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(),
    st.text(st.sampled_from("<>&\"'`=/ \t\r\n\x00\x0b\x0c\x1b\x85\u2028\u2029\u202a\u202b"
                            "\u202c\u202d\u202e\u2066\u2067\u2068\u2069{}%#\u00a0aZ")),
    st.text(st.characters(codec="utf-8", categories=["Lo", "Lu", "Ll", "Mn", "Zs", "Cc"])),
    st.text(min_size=150, max_size=600),
)


# ------------------------------------------------------------------- the shipped templates


@pytest.mark.parametrize(("kind", "locale"), CASES)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names)
def test_filling_a_shipped_template_gives_the_full_render(kind: str, locale: str,
                                                          name: str | None) -> None:
    key = personal_name(kind)
    expected = full(shipped(), kind, locale, {**sample_context(kind), key: name})
    assert filled(prepared(kind, locale), **{key: name}) == expected


@pytest.mark.parametrize(("kind", "locale"), CASES)
def test_a_shipped_template_is_filled_without_rendering_it_again(kind: str, locale: str) -> None:
    found = prepared(kind, locale)
    key = personal_name(kind)
    for name in HOSTILE:
        expected = full(shipped(), kind, locale, {**sample_context(kind), key: name})
        # A report prints its authority without a test: None fails, in full, as it does today.
        assert found.in_full(**{key: name}) == (not isinstance(expected, Rendered)), name
        assert filled(found, **{key: name}) == expected


def test_a_name_appears_escaped_in_html_and_as_typed_in_text() -> None:
    message = prepared("subject_notice", "en").fill(recipient_name="Tom <b>&</b> \"O'Neil\"")
    assert "Dear Tom &lt;b&gt;&amp;&lt;/b&gt; &#34;O&#39;Neil&#34;," in message.html
    assert "Dear Tom <b>&</b> \"O'Neil\"," in message.text
    assert "Dear" not in prepared("subject_notice", "en").fill(recipient_name="").text


def test_values_the_pieces_cannot_serve_are_rendered_in_full() -> None:
    found = prepared("subject_notice", "de")
    context = sample_context("subject_notice")
    for values in ({"recipient_name": Markup("<b>Jan</b>")}, {"recipient_name": 42},
                   {"recipient_name": "Jan", "organisation": "Other Ltd"}, {"omitted": ["nature"]}):
        assert found.in_full(**values)
        assert found.fill(**values) == full(shipped(), "subject_notice", "de", {**context, **values})


def test_a_message_that_cannot_be_rendered_fails_as_the_full_render_does() -> None:
    context = {**sample_context("subject_notice"), "categories": ["no_such_category"]}
    found = shipped().prepared("subject_notice", "pl", context, zone=BERLIN)
    for name in ("Jan", "", None):
        with pytest.raises(RenderError) as caught:
            found.fill(recipient_name=name)
        assert f"RenderError: {caught.value}" == full(shipped(), "subject_notice", "pl",
                                                      {**context, "recipient_name": name})
    with pytest.raises(RenderError, match="unknown message kind"):
        shipped().prepared("no_such_kind", "en", context, zone=BERLIN)


# ------------------------------------------------------------ templates that use the name


@pytest.fixture(scope="module")
def templates_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("prepared")
    yield root
    shutil.rmtree(root, ignore_errors=True)


def variant(root: Path, label: str, greeting: str, subject: str = "") -> Renderer:
    """The shipped templates with the English notice greeting the reader as `greeting` (in
    its text and HTML) and `subject` added to its subject."""
    target = root / label
    if target in ENGINES:
        return ENGINES[target]
    if not target.exists():
        shutil.copytree(TEMPLATES / "email", target / "email")
        folder = target / "email" / "subject_notice"
        for part in ("txt", "html"):
            path = folder / f"en.{part}"
            source = path.read_text()
            assert "Dear {{ recipient_name }}," in source
            path.write_text(source.replace("Dear {{ recipient_name }},", f"Dear {greeting},"))
        path = folder / "en.subject.txt"
        path.write_text(path.read_text().rstrip("\n") + subject + "\n")
    return ENGINES.setdefault(target, renderer(target))


ENGINES: dict[Path, Renderer] = {}
SUBJECT_PREPARED: dict[Renderer, Prepared] = {}


# Each transforms, measures, compares, captures or re-escapes the name, so every name is
# rendered in full. Those marked "missed" pass the check by stand-ins alone (a lower-case
# stand-in is the same lower-cased or trimmed, both stand-ins are cut to "...", start with "q",
# are shorter than 30 and are not "Jan"); only reading the templates finds them.
TRANSFORMING = {
    "title": "{{ recipient_name|title }}",
    "upper": "{{ recipient_name|upper }}",
    "truncate": "{{ recipient_name|truncate(5) }}",  # missed
    "lower": "{{ recipient_name|lower }}",  # missed
    "trim": "{{ recipient_name|trim }}",  # missed
    "length": "{{ recipient_name|length }}",
    "length_test": "{% if recipient_name|length > 30 %}long{% else %}short{% endif %}",  # missed
    "equals": "{% if recipient_name == 'Jan' %}Jan{% else %}you{% endif %}",  # missed
    "first_letter": "{{ recipient_name[0] }}",  # missed
    "unescaped": "{% autoescape false %}{{ recipient_name }}{% endautoescape %}",  # missed
    "or": "{{ recipient_name or 'customer' }}",
    "concat": "{{ 'Ms ' ~ recipient_name }}",
    "set": "{% set who = recipient_name %}{{ who|capitalize }}",
    "filter_block": "{% filter upper %}{{ recipient_name }}{% endfilter %}",
    "macro": "{% macro who() %}{{ recipient_name }}{% endmacro %}{{ who()|upper }}",
    "recursive": "{% for c in [[1]] recursive %}{% if c is iterable %}{{ loop(c)|trim }}"
                 "{% else %}{{ recipient_name }}{% endif %}{% endfor %}",  # missed
}
# Each prints the name as it is or tests whether it is set: filled from pieces.
PRINTING = {
    "if": "{% if recipient_name %}{{ recipient_name }}{% else %}customer{% endif %}",
    "twice": "{{ recipient_name }} ({{ recipient_name }})",
    "conditional": "{{ 'friend' if recipient_name else 'customer' }} {{ recipient_name }}",
    "none_test": "{% if recipient_name is none or not recipient_name %}you{% endif %}",
    "loop": "{% for c in categories %}{{ recipient_name }}{% endfor %}",
}


@pytest.mark.parametrize("label", sorted(TRANSFORMING))
def test_a_template_that_transforms_the_name_is_rendered_in_full(templates_root: Path,
                                                                 label: str) -> None:
    engine = variant(templates_root, label, TRANSFORMING[label])
    context = sample_context("subject_notice")
    found = engine.prepared("subject_notice", "en", context, zone=BERLIN)
    assert found.in_full(recipient_name="Jan Kowalski")
    for name in [*HOSTILE, "Jan", "jan kowalski", "a much longer name than twenty", " Ann "]:
        assert filled(found, recipient_name=name) == full(
            engine, "subject_notice", "en", {**context, "recipient_name": name}), name


@pytest.mark.parametrize("label", sorted(PRINTING))
def test_a_template_that_prints_the_name_is_filled_from_pieces(templates_root: Path,
                                                              label: str) -> None:
    engine = variant(templates_root, label, PRINTING[label])
    context = sample_context("subject_notice")
    found = engine.prepared("subject_notice", "en", context, zone=BERLIN)
    assert not found.in_full(recipient_name="Jan Kowalski")
    for name in [*HOSTILE, "Jan"]:
        assert filled(found, recipient_name=name) == full(
            engine, "subject_notice", "en", {**context, "recipient_name": name}), name


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names)
def test_a_name_in_the_subject_is_made_one_line_as_a_full_render_makes_it(
        templates_root: Path, name: str | None) -> None:
    engine = variant(templates_root, "subject", "{{ recipient_name }}",
                     " for {{ recipient_name }}")
    context = sample_context("subject_notice")
    found = SUBJECT_PREPARED.get(engine) or SUBJECT_PREPARED.setdefault(
        engine, engine.prepared("subject_notice", "en", context, zone=BERLIN))
    assert not found.in_full(recipient_name="Jan Kowalski")
    expected = full(engine, "subject_notice", "en", {**context, "recipient_name": name})
    assert filled(found, recipient_name=name) == expected
    if isinstance(expected, Rendered):
        assert "\n" not in expected.subject and "\r" not in expected.subject


# ------------------------------------------------------------------------ through a letter


def notice_letter() -> Letter:
    notice = Notification(id=8, incident_id=INCIDENT.id, ref="gdpr/data-subjects",
                          kind="subject_notice", content_hash="0" * 64, created_at=START,
                          created_by="tests", covers=["gdpr/data-subjects", "us-ca/individuals"])
    fields = {"description": {"en": "A laptop was stolen.", "de": "Ein Laptop wurde gestohlen.",
                              "fr": "Un ordinateur portable a été volé."},
              "advice": "- Watch your statements.\n- Change your password."}

    def compose(texts: Any) -> dict[str, Any]:
        return shared_context(notice, INCIDENT, PROFILE, texts, None, None)

    return Letter(notice, fields, compose({"description": "A laptop was stolen.",
                                           "advice": fields["advice"]}),
                  ZoneInfo("Europe/Berlin"), None, language="en", compose=compose,
                  letters=letters_of(notice.refs),
                  complaints={"gdpr/data-subjects": {"name": "BlnBDI",
                                                     "website": "https://www.datenschutz-berlin.de"}},
                  report_date=START)


def person(locale: str, name: str, meets: str = "gdpr/data-subjects",
           categories: tuple[str, ...] = ("contact",)) -> Delivery:
    return Delivery(notification_id=8, recipient_key=str(uuid.uuid4()), message_id="",
                    next_attempt_at=START, name=name, locale=locale, meets=meets,
                    categories=categories_mask(list(categories)))


def today(letter: Letter, delivery: Delivery, locale: str | None = None) -> Rendered:
    """The message as the outbox renders it in full."""
    return shipped().render(letter.notification.kind, locale or delivery.locale,
                            letter.context_for(delivery, locale), zone=letter.zone,
                            fallback=letter.language)


@pytest.mark.parametrize("locale", ["en", "de", "de_AT", "fr", "fr_CA", "pl", "ja", "zh_Hans",
                                    "ar", "pt_BR"])
def test_a_notice_through_its_letter_is_the_full_render(locale: str) -> None:
    letter = notice_letter()
    people = [person(locale, name) for name in ("Anna Nowak", "", "Zoë <O'Brien>", "Ann\r\nBell")]
    people += [person(locale, "Pat Doe", "gdpr/data-subjects,us-ca/individuals",
                      ("official_id", "financial")),
               person(locale, "", "us-ca/individuals", ("contact", "credentials"))]
    for delivery in people:
        assert letter.rendered_for(shipped(), delivery) == today(letter, delivery)
    first, second = people[0], people[2]
    assert letter.prepared_for(shipped(), first) is letter.prepared_for(shipped(), second)
    assert letter.prepared_for(shipped(), first) is not letter.prepared_for(shipped(), people[4])
    assert not letter.prepared_for(shipped(), first).in_full(recipient_name=first.name)


def test_a_letter_prepares_again_when_what_its_readers_share_changes() -> None:
    letter = notice_letter()
    anna = person("de", "Anna Nowak", "us-ca/individuals")  # California's letter is dated
    before = letter.rendered_for(shipped(), anna)
    letter.report_date = START + timedelta(days=40)  # the notice is dated anew
    after = letter.rendered_for(shipped(), anna)
    assert after == today(letter, anna) and after != before


def test_a_report_and_its_english_copy_through_the_letter_are_the_full_render() -> None:
    report = Notification(id=7, incident_id=INCIDENT.id, ref="gdpr/authority",
                          kind="authority_report", content_hash="0" * 64, created_at=START,
                          created_by="tests")
    shared = shared_context(report, INCIDENT, PROFILE, {"description": "Stolen."}, OBLIGATION, None)
    letter = Letter(report, {}, shared, ZoneInfo("Europe/Berlin"), None, language="de",
                    report_date=START)
    for delivery in (person("de", "BlnBDI"), person("de", ""), person("fr", "CNIL <Paris>")):
        assert letter.rendered_for(shipped(), delivery) == today(letter, delivery)
        english = shipped().render("authority_report", "en", letter.context_for(delivery, "en"),
                                   zone=letter.zone)
        assert letter.rendered_for(shipped(), delivery, "en") == english


def test_an_internal_message_through_the_letter_is_the_full_render() -> None:
    stored = {key: value.isoformat() if hasattr(value, "isoformat") else value
              for key, value in sample_context("reminder").items()
              if key not in ("recipient_name", "time_left")}
    reminder = Notification(id=9, incident_id=INCIDENT.id, ref="gdpr/authority", kind="reminder",
                            content_hash="0" * 64, created_at=START, created_by="tests")
    letter = Letter(reminder, {**stored, "time_left_seconds": 5400}, {}, ZoneInfo("UTC"), None)
    for delivery in (person("pl", "Marek Zieliński"), person("pl", ""), person("ja", "<&>")):
        assert letter.rendered_for(shipped(), delivery) == today(letter, delivery)
