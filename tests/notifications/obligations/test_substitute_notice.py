"""Substitute notice: when a public communication may take the place of notice to a person.

Every obligation owed to people either says, from its law's own text, when a public
communication may stand in for a person's notice and what it must consist of
(`substitute_notice`), or says in its notes that the law names none and what was checked.
Each case below is written from the provision it cites; where our reading could not be checked
against the text, the shipped data says so (confidence low and a note naming what to check), and
the test holds it to that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from notifications.obligations.regime_loader import RegimeError, load_regimes
from notifications.obligations.regimes import PEOPLE, Catalogue, SubstituteNotice
from tests.notifications.obligations.test_protects import AUTHORITY, HEAD, PROTECTS
from tests.notifications.obligations.test_protects import PEOPLE as PEOPLE_DUTY_HEAD

REGIMES: Catalogue = load_regimes()

NONE_NAMED = "No substitute notice:"
"""How an obligation's notes begin when its law names no public communication in place of notice."""


def substitute(ref: str) -> SubstituteNotice:
    found = REGIMES.obligation(ref)
    assert found is not None, ref
    notice = found[1].substitute_notice
    assert notice is not None, f"{ref} has no substitute_notice"
    return notice


def conditions(notice: SubstituteNotice) -> str:
    return " | ".join(notice.conditions)


def means(notice: SubstituteNotice) -> str:
    return " | ".join(notice.means)


# ------------------------------------------------------------------- read in the law's text


def test_gdpr_disproportionate_effort_means_a_public_communication() -> None:
    # GDPR Art. 34(3)(c): "it would involve disproportionate effort. In such a case, there shall
    # instead be a public communication or similar measure whereby the data subjects are informed
    # in an equally effective manner."
    notice = substitute("gdpr/data-subjects")
    assert notice.citation == "GDPR Art. 34(3)(c)" and notice.confidence == "high"
    assert "disproportionate effort" in conditions(notice)
    assert "public communication or similar measure" in means(notice)
    assert "equally effective manner" in means(notice)


def test_uk_gdpr_keeps_the_same_rule() -> None:
    # UK GDPR Art. 34(3)(c), the retained wording of Regulation (EU) 2016/679 Art. 34(3)(c).
    notice = substitute("uk-gdpr/data-subjects")
    assert notice.citation == "UK GDPR Art. 34(3)(c)"
    assert "disproportionate effort" in conditions(notice)
    assert "public communication or similar measure" in means(notice)
    assert "equally effective manner" in means(notice)
    # Paragraph 3 of the UK text itself was not read: medium, and the note says so.
    assert notice.confidence == "medium"
    assert notice.note is not None and "not in the copy read here" in notice.note


def test_hipaa_substitute_notice_has_two_tiers() -> None:
    # 45 CFR 164.404(d)(2): where "insufficient or out-of-date contact information ... precludes
    # written notification", (i) "for fewer than 10 individuals ... an alternative form of written
    # notice, telephone, or other means"; (ii) "for 10 or more individuals ... (A) ... either a
    # conspicuous posting for a period of 90 days on the home page of the Web site of the covered
    # entity involved, or conspicuous notice in major print or broadcast media in geographic areas
    # where the individuals affected by the breach likely reside; and (B) Include a toll-free phone
    # number that remains active for at least 90 days".
    notice = substitute("hipaa/individuals")
    assert notice.citation == "45 CFR 164.404(d)(2)" and notice.confidence == "high"
    assert len(notice.conditions) == 2
    assert "insufficient or out-of-date contact information" in notice.conditions[0]
    assert "fewer than 10 individuals" in notice.conditions[0]
    assert "10 or more individuals" in notice.conditions[1]
    small, posting, phone = notice.means
    assert small.startswith("fewer than 10 individuals")
    assert "alternative form of written notice, telephone, or other means" in small
    assert posting.startswith("10 or more individuals")
    assert "conspicuous posting for a period of 90 days on the home page" in posting
    assert "major print or broadcast media" in posting
    assert phone.startswith("10 or more individuals")
    assert "toll-free phone number that remains active for at least 90 days" in phone
    # Both means of the second tier apply together: the note says so.
    assert notice.note is not None and "AND the toll-free number" in notice.note


def test_australia_publishes_the_statement_when_no_direct_notice_is_practicable() -> None:
    # Privacy Act 1988 (Cth) s. 26WL(2)(c): "if neither paragraph (a) nor (b) applies: (i) publish a
    # copy of the statement on the entity's website (if any); and (ii) take reasonable steps to
    # publicise the contents of the statement."
    notice = substitute("au-ndb/individuals")
    assert notice.citation == "Privacy Act 1988 (Cth) s. 26WL(2)(c)" and notice.confidence == "high"
    assert "not practicable" in conditions(notice)
    assert "each of the individuals who are at risk" in conditions(notice)
    assert notice.means == (
        "publish a copy of the statement on the entity's website (if any)",
        "take reasonable steps to publicise the contents of the statement",
    )


def test_switzerland_a_public_announcement_that_informs_equally() -> None:
    # FADP Art. 24(5)(c) (English translation): "the provision of information to the data subject
    # is equally guaranteed by making a public announcement".
    notice = substitute("ch-fadp/data-subjects")
    assert notice.citation == "FADP Art. 24(5)(c)"
    assert "equally guaranteed by making a public announcement" in conditions(notice)
    assert means(notice) == "a public announcement"
    # Read in the (non-binding) English translation only.
    assert notice.confidence == "medium"
    assert notice.note is not None and "English translation" in notice.note


def test_california_cost_size_or_contact_information() -> None:
    # Cal. Civ. Code 1798.82(j)(3): substitute notice if "the cost of providing notice would
    # exceed two hundred fifty thousand dollars ($250,000), or that the affected class of subject
    # persons to be notified exceeds 500,000, or the person or business does not have sufficient
    # contact information"; it consists of e-mail notice, conspicuous posting on the website for
    # at least 30 days, and notification to major statewide media.
    notice = substitute("us-ca/individuals")
    assert notice.citation == "Cal. Civ. Code 1798.82(j)"
    assert "two hundred fifty thousand dollars ($250,000)" in notice.conditions[0]
    assert "exceeds 500,000" in notice.conditions[1]
    assert "sufficient contact information" in notice.conditions[2]
    assert "email notice" in notice.means[0]
    assert "for a minimum of 30 days" in notice.means[1]
    assert notice.means[2] == "notification to major statewide media"
    # Read in secondary sources only.
    assert notice.confidence == "medium"
    assert notice.note is not None and "secondary sources" in notice.note


# ------------------------------------------------- our reading, not checked against the text


@pytest.mark.parametrize(("ref", "citation", "words"), [
    # PIPEDA s. 10.1(5); SOR/2018-64 s. 5(1) "indirect notification must be given by an
    # organization in any of the following circumstances" and s. 5(2) on its form.
    ("ca-pipeda/individuals",
     "PIPEDA s. 10.1(5); Breach of Security Safeguards Regulations, SOR/2018-64, s. 5(1) and (2)",
     ("undue hardship", "does not have contact information",
      "public communication or similar measure")),
    # PIPA Art. 34(1) proviso: "if the contact information of the data subject is unknown or if
    # any other good cause exists, a measure may be taken in lieu of giving notice".
    ("kr-pipa/data-subjects", "PIPA Art. 34(1), proviso",
     ("contact information of the data subject is unknown", "Presidential Decree")),
    # Resolucao CD/ANPD 15/2024 Art. 9 (secondary summary): a public notice for at least 90 days.
    ("br-lgpd/data-subjects", "Resolucao CD/ANPD 15/2024 Art. 9 (paragraph not verified)",
     ("not possible", "at least 90 days")),
    # C.R.S. 6-1-716(1)(f)(IV): "the cost of providing notice will exceed two hundred fifty
    # thousand dollars" (the rest of the paragraph unverified).
    ("us-co/individuals", "C.R.S. 6-1-716(1)(f)(IV)",
     ("two hundred fifty thousand dollars", "major statewide media")),
    # Fla. Stat. 501.171(4)(f): website notice and "notice in print and to broadcast media,
    # including major media in urban and rural areas where the affected individuals reside".
    ("us-fl/individuals", "Fla. Stat. 501.171(4)(f)",
     ("$250,000", "500,000", "major media in urban and rural areas")),
    # M.G.L. c. 93H s. 1(a), 'notice' (iii): "the cost of providing written notice will exceed
    # $250,000, or that the affected class of Massachusetts residents to be notified exceeds
    # 500,000 residents, or that the person or agency does not have sufficient contact information".
    ("us-ma/individuals", "M.G.L. c. 93H, s. 1(a) ('notice' (iii); 'substitute notice')",
     ("will exceed $250,000", "exceeds 500,000 residents", "throughout the commonwealth")),
    # N.Y. Gen. Bus. Law 899-aa(5)(d), demonstrated to the state attorney general.
    ("us-ny/individuals", "N.Y. Gen. Bus. Law 899-aa(5)(d)",
     ("two hundred fifty thousand dollars", "five hundred thousand", "major statewide media")),
    # Tex. Bus. & Com. Code 521.053(e)(3): "notice as provided by Subsection (f)".
    ("us-tx/individuals", "Tex. Bus. & Com. Code 521.053(f)",
     ("$250,000", "500,000", "major statewide media")),
    ("us-wa/individuals", "RCW 19.255.010 (substitute notice; subsection not verified)",
     ("two hundred fifty thousand dollars", "five hundred thousand", "major statewide media")),
])
def test_a_reading_not_checked_against_the_text_is_marked(ref: str, citation: str,
                                                          words: tuple[str, ...]) -> None:
    notice = substitute(ref)
    assert notice.citation == citation
    text = conditions(notice) + " | " + means(notice)
    for word in words:
        assert word in text, (ref, word)
    assert notice.confidence == "low"
    assert notice.note is not None
    assert any(words in notice.note for words in ("not read", "unverified",
                                                  "not in the copies read here")), ref
    assert "before relying on" in notice.note or "rely on no period" in notice.note, ref


# ----------------------------------------------------------------------- laws that name none


@pytest.mark.parametrize(("ref", "checked"), [
    # DPDP Rules 2025 Rule 7(1): intimation "through her user account or any mode of
    # communication registered by her with the Data Fiduciary".
    ("in-dpdp/data-principals", "Rule 7(1)"),
    # PDPA s. 26D(2): "in any manner that is reasonable in the circumstances".
    ("sg-pdpa/individuals", "s. 26D(2)"),
])
def test_a_law_naming_no_substitute_notice_says_so(ref: str, checked: str) -> None:
    found = REGIMES.obligation(ref)
    assert found is not None
    obligation = found[1]
    assert obligation.substitute_notice is None
    said = [n for n in obligation.notes if n.startswith(NONE_NAMED)]
    assert len(said) == 1 and checked in said[0] and "checked" in said[0], obligation.notes


def test_every_obligation_owed_to_people_says_whether_a_public_communication_may_replace_it() -> None:
    silent = [
        f"{regime.id}/{obligation.id}"
        for regime in REGIMES
        for obligation in regime.obligations
        if obligation.recipient == PEOPLE
        and obligation.substitute_notice is None
        and not any(note.startswith(NONE_NAMED) for note in obligation.notes)
    ]
    assert silent == [], (
        f"say when a public communication may replace the notice (substitute_notice), or note "
        f"'{NONE_NAMED} ...' with what was checked: {silent}")


def test_every_low_confidence_substitute_notice_says_what_to_check() -> None:
    unexplained = [
        f"{regime.id}/{obligation.id}"
        for regime in REGIMES
        for obligation in regime.obligations
        if obligation.substitute_notice is not None
        and obligation.substitute_notice.confidence == "low"
        and not obligation.substitute_notice.note
    ]
    assert unexplained == []


# ----------------------------------------------------------------------------------- loader

PEOPLE_DUTY = PEOPLE_DUTY_HEAD + PROTECTS

SUBSTITUTE = """\
    substitute_notice:
      conditions: [the cost of notice would exceed the law's figure]
      means: [a notice on the website, notification to major media]
      citation: Demo Act s. 5
      confidence: high
"""


def problems_with(tmp_path: Path, obligations: str) -> list[str]:
    (tmp_path / "demo.yaml").write_text(HEAD + obligations, encoding="utf-8")
    with pytest.raises(RegimeError) as caught:
        load_regimes(tmp_path)
    return [str(p) for p in caught.value.problems]


def test_a_substitute_notice_on_an_obligation_owed_to_people_loads(tmp_path: Path) -> None:
    (tmp_path / "demo.yaml").write_text(HEAD + PEOPLE_DUTY + SUBSTITUTE, encoding="utf-8")
    found = load_regimes(tmp_path).obligation("demo/people")
    assert found is not None and found[1].substitute_notice is not None
    notice = found[1].substitute_notice
    assert notice.means == ("a notice on the website", "notification to major media")
    assert (notice.citation, notice.confidence, notice.note) == ("Demo Act s. 5", "high", None)


def test_a_substitute_notice_on_an_obligation_owed_to_an_authority_is_refused(
        tmp_path: Path) -> None:
    problems = problems_with(tmp_path, AUTHORITY + SUBSTITUTE + PEOPLE_DUTY)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{tmp_path / 'demo.yaml'}: obligations[authority]: ")
    assert "substitute_notice is only for obligations owed to individuals, not to recipient " \
        "'authority'" in problems[0]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("      conditions: [the cost of notice would exceed the law's figure]\n",
     "      conditions: []\n",
     "obligations[people].substitute_notice.conditions: Tuple should have at least 1 item"),
    ("      means: [a notice on the website, notification to major media]\n",
     "      means: []\n",
     "obligations[people].substitute_notice.means: Tuple should have at least 1 item"),
    ("      citation: Demo Act s. 5\n", "",
     "obligations[people].substitute_notice.citation: Field required"),
    ("      confidence: high\n", "      confidence: sure\n",
     "obligations[people].substitute_notice.confidence: Input should be 'high', 'medium' or 'low'"),
    ("      confidence: high\n", "      confidence: high\n      threshold: 250000\n",
     "obligations[people].substitute_notice.threshold: Extra inputs are not permitted"),
])
def test_a_broken_substitute_notice_is_reported_with_its_field(tmp_path: Path, old: str, new: str,
                                                               expected: str) -> None:
    assert old in SUBSTITUTE
    problems = problems_with(tmp_path, PEOPLE_DUTY + SUBSTITUTE.replace(old, new))
    assert len(problems) == 1 and expected in problems[0], problems
