"""Whom an obligation owed to people protects (`protects` in a regime file) and what its notice
contains (`letter`): required there, refused elsewhere, and chosen for every shipped regime
from its law's own texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifications.obligations.regime_loader import RegimeError, load_regimes

HEAD = """\
id: demo
name: Demo regime
jurisdiction: DE
sources: [https://example.org/law]
applies:
  affected_in: [DE]
confidence: low
reviewed: 2026-11-24
obligations:
"""

AUTHORITY = """\
  - id: authority
    recipient: authority
    recipient_name: The authority
    trigger: aware_at
    deadline: {hours: 72}
    content: [what happened]
    citation: Demo Act s. 1
    source: https://example.org/law#s1
"""

PEOPLE = """\
  - id: people
    recipient: individuals
    recipient_name: Each affected person
    trigger: aware_at
    deadline: {hours: 72}
    content: [what happened]
    citation: Demo Act s. 2
    source: https://example.org/law#s2
    letter:
      elements:
        nature: Demo Act s. 4
"""

PROTECTS = """\
    protects:
      people_in: [DE]
      citation: Demo Act s. 3
      confidence: high
"""

SHIPPED: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...] | None, str]] = {
    "gdpr/data-subjects": (("EEA",), ("EEA",), "high"),
    "uk-gdpr/data-subjects": (("GB",), ("GB",), "high"),
    "us-ca/individuals": (("US-CA",), None, "high"),
    "us-co/individuals": (("US-CO",), None, "medium"),
    "us-fl/individuals": (("US-FL",), None, "high"),
    "us-ma/individuals": (("US-MA",), None, "high"),
    "us-ny/individuals": (("US-NY",), None, "high"),
    "us-tx/individuals": (None, None, "medium"),
    "us-wa/individuals": (("US-WA",), None, "high"),
    "us-al/individuals": (("US-AL",), None, "medium"),
    "us-ak/individuals": (("US-AK",), None, "medium"),
    "us-me/individuals": (("US-ME",), None, "high"),
    "us-md/individuals": (("US-MD",), None, "high"),
    "us-mi/individuals": (("US-MI",), None, "medium"),
    "us-mn/individuals": (("US-MN",), None, "high"),
    "us-ms/individuals": (("US-MS",), None, "medium"),
    "us-mo/individuals": (("US-MO",), None, "high"),
    "us-mt/individuals": (("US-MT",), None, "medium"),
    "us-ne/individuals": (("US-NE",), None, "high"),
    "us-nv/individuals": (("US-NV",), None, "high"),
    "us-nh/individuals": (None, None, "medium"),
    "us-nj/individuals": (("US-NJ",), None, "medium"),
    "us-nm/individuals": (("US-NM",), None, "medium"),
    "us-or/individuals": (("US-OR",), None, "high"),
    "us-pa/individuals": (("US-PA",), None, "medium"),
    "us-ri/individuals": (("US-RI",), None, "high"),
    "us-sc/individuals": (("US-SC",), None, "high"),
    "us-sd/individuals": (("US-SD",), None, "high"),
    "us-tn/individuals": (("US-TN",), None, "medium"),
    "us-ut/individuals": (("US-UT",), None, "high"),
    "us-va/individuals": (("US-VA",), None, "medium"),
    "us-wv/individuals": (("US-WV",), None, "high"),
    "us-vt/individuals": (("US-VT",), None, "medium"),
    "us-az/individuals": (("US-AZ",), None, "high"),
    "us-ar/individuals": (("US-AR",), None, "high"),
    "us-ct/individuals": (("US-CT",), None, "high"),
    "us-de/individuals": (("US-DE",), None, "high"),
    "us-dc/individuals": (("US-DC",), None, "medium"),
    "us-ga/individuals": (("US-GA",), None, "high"),
    "us-hi/individuals": (None, None, "medium"),
    "us-id/individuals": (("US-ID",), None, "medium"),
    "us-il/individuals": (("US-IL",), None, "high"),
    "us-in/individuals": (("US-IN",), None, "high"),
    "us-ia/individuals": (("US-IA",), None, "high"),
    "us-ks/individuals": (("US-KS",), None, "high"),
    "us-ky/individuals": (("US-KY",), None, "high"),
    "us-la/individuals": (("US-LA",), None, "high"),
    "us-nc/individuals": (("US-NC",), None, "medium"),
    "us-nd/individuals": (("US-ND",), None, "high"),
    "us-oh/individuals": (("US-OH",), None, "high"),
    "us-ok/individuals": (("US-OK",), None, "medium"),
    "us-wi/individuals": (("US-WI",), ("US-WI",), "high"),  # Wis. Stat. 134.98(2)(a)-(b)
    "us-wy/individuals": (("US-WY",), None, "high"),
    "us-pr/individuals": (("US-PR",), None, "high"),
    "hipaa/individuals": (None, None, "high"),
    "br-lgpd/data-subjects": (("BR",), ("BR",), "medium"),
    "ca-pipeda/individuals": (("CA",), ("CA",), "low"),
    "ch-fadp/data-subjects": (("CH",), ("CH",), "medium"),
    "in-dpdp/data-principals": (("IN",), ("IN",), "medium"),
    "kr-pipa/data-subjects": (("KR",), ("KR",), "low"),
    "sg-pdpa/individuals": (("SG",), ("SG",), "low"),
    "au-ndb/individuals": (None, None, "medium"),
    "ca-qc/persons": (("CA-QC",), None, "low"),
    "mx-lfpdppp/data-subjects": (("MX",), ("MX",), "low"),
    "pe-lpdp/data-subjects": (("PE",), ("PE",), "low"),
    "cl-lpdp/data-subjects": (("CL",), ("CL",), "low"),
    "ec-lopdp/data-subjects": (("EC",), ("EC",), "low"),
    "uy-lpdp/data-subjects": (("UY",), ("UY",), "medium"),
    # -- americas (keep this line; add entries above it)
    "tr-kvkk/data-subjects": (("TR",), ("TR",), "low"),
    "rs-zzpl/data-subjects": (("RS",), ("RS",), "medium"),
    "mk-zzlp/data-subjects": (("MK",), ("MK",), "medium"),
    "ge-pdp/data-subjects": (("GE",), ("GE",), "low"),
    "je-dpjl/data-subjects": (("JE",), ("JE",), "low"),
    "gg-dpl/data-subjects": (("GG",), ("GG",), "low"),
    "im-gdpr/data-subjects": (("IM",), ("IM",), "low"),
    "md-pdp/data-subjects": (("MD",), ("MD",), "low"),
    # -- europe (keep this line; add entries above it)
    "za-popia/data-subjects": (("ZA",), ("ZA",), "low"),
    "ke-dpa/data-subjects": (("KE",), ("KE",), "medium"),
    "ng-ndpa/data-subjects": (("NG",), ("NG",), "medium"),
    "sa-pdpl/data-subjects": (("SA",), ("SA",), "medium"),
    "qa-pdppl/individuals": (("QA",), ("QA",), "low"),
    # -- middle-east-africa (keep this line; add entries above it)
    "th-pdpa/data-subjects": (("TH",), ("TH",), "medium"),
    "ph-dpa/data-subjects": (("PH",), ("PH",), "low"),
    "id-pdp/data-subjects": (("ID",), ("ID",), "low"),
    "vn-pdp/data-subjects": (("VN",), ("VN",), "low"),
    "my-pdpa/data-subjects": (None, None, "low"),
    "nz-privacy/individuals": (None, None, "medium"),
    "tw-pdpa/data-subjects": (("TW",), ("TW",), "low"),
    # -- asia-pacific (keep this line; add entries above it)
    "cn/individuals": (("CN",), ("CN",), "medium"),
    "us-gu/individuals": (("US-GU",), None, "medium"),  # 9 GCA 48.30: "any resident of Guam"
    "us-vi/individuals": (("US-VI",), None, "medium"),  # 14 V.I.C. 2208-2209
    # -- us-territories (keep this line; add entries above it)
    "bm-pipa/individuals": (("BM",), ("BM",), "low"),
    "ky-dpa/data-subjects": (None, None, "medium"),
    "gh-dpa/data-subjects": (("GH",), ("GH",), "low"),
    "rw-ppdp/data-subjects": (("RW",), ("RW",), "medium"),
    "zm-dpa/data-subjects": (("ZM",), ("ZM",), "low"),
    # -- islands-africa (keep this line; add entries above it)
    "al-pdp/data-subjects": (("AL",), ("AL",), "low"),
    "ba-zzlp/data-subjects": (("BA",), ("BA",), "low"),
    # -- eurasia (keep this line; add entries above it)
}
"""Per obligation owed to people: people_in (None: everyone), everyone_if_established_in,
confidence."""


def problems_with(tmp_path: Path, obligations: str) -> list[str]:
    (tmp_path / "demo.yaml").write_text(HEAD + obligations, encoding="utf-8")
    with pytest.raises(RegimeError) as caught:
        load_regimes(tmp_path)
    return [str(p) for p in caught.value.problems]


def test_an_obligation_owed_to_people_without_protects_is_refused(tmp_path: Path) -> None:
    problems = problems_with(tmp_path, AUTHORITY + PEOPLE)
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'demo.yaml'}: obligations[people]: ")
    assert "an obligation owed to individuals must say whom its law protects" in problems[0]


def test_protects_on_an_obligation_owed_to_an_authority_is_refused(tmp_path: Path) -> None:
    problems = problems_with(tmp_path, AUTHORITY + PROTECTS + PEOPLE + PROTECTS)
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'demo.yaml'}: obligations[authority]: ")
    assert "protects is only for obligations owed to individuals, not to recipient 'authority'" \
        in problems[0]


def test_an_obligation_owed_to_people_with_protects_loads(tmp_path: Path) -> None:
    (tmp_path / "demo.yaml").write_text(HEAD + AUTHORITY + PEOPLE + PROTECTS, encoding="utf-8")
    found = load_regimes(tmp_path).obligation("demo/people")
    assert found is not None and found[1].protects is not None
    assert (found[1].protects.people_in, found[1].protects.citation) == (("DE",), "Demo Act s. 3")


@pytest.mark.parametrize(("rule", "expected"), [
    ("      people_in: []\n      citation: c\n      confidence: high\n",
     "obligations[people].protects.people_in: Tuple should have at least 1 item"),
    ("      people_in: [Germany]\n      citation: c\n      confidence: high\n",
     "obligations[people].protects.people_in[0]: Value error, 'Germany' is not a territory"),
    ("      people_in: [DE]\n      confidence: high\n",
     "obligations[people].protects.citation: Field required"),
    ("      people_in: [DE]\n      citation: c\n      confidence: sure\n",
     "obligations[people].protects.confidence: Input should be 'high', 'medium' or 'low'"),
    ("      people_in: [DE]\n      everyone_if_established_in: [DE]\n      citation: c\n"
     "      confidence: high\n",
     "everyone_if_established_in and established_citation go together"),
    ("      everyone_if_established_in: [DE]\n      established_citation: c\n      citation: c\n"
     "      confidence: high\n",
     "everyone_if_established_in needs people_in"),
    ("      people_in: [DE]\n      citation: c\n      confidence: high\n      whom: all\n",
     "obligations[people].protects.whom: Extra inputs are not permitted"),
])
def test_a_broken_rule_is_reported_with_its_field(tmp_path: Path, rule: str, expected: str) -> None:
    problems = problems_with(tmp_path, PEOPLE + "    protects:\n" + rule)
    assert len(problems) == 1 and expected in problems[0], problems


def test_every_shipped_obligation_owed_to_people_says_whom_it_protects_and_how_surely() -> None:
    chosen = {}
    for regime in load_regimes():
        for obligation in regime.obligations:
            rule = obligation.protects
            if obligation.recipient != "individuals":
                assert rule is None
                continue
            assert rule is not None and rule.citation.strip()
            assert (rule.everyone_if_established_in is None) == (rule.established_citation is None)
            chosen[f"{regime.id}/{obligation.id}"] = (
                rule.people_in, rule.everyone_if_established_in, rule.confidence)
    assert chosen == SHIPPED


@pytest.mark.parametrize(("letter", "expected"), [
    ("", "an obligation owed to individuals must say what its notice contains"),
    ("    letter:\n      elements: {}\n", "a letter lists at least one element"),
    ("    letter:\n      elements:\n        gossip: Demo Act s. 4\n",
     "obligations[people].letter.elements.gossip.[key]: Input should be"),
    ("    letter:\n      omits: [nature]\n      elements:\n        advice: s. 4\n",
     "omits needs own_letter"),
    ("    letter:\n      own_letter: s. 5\n      omits: [nature]\n      elements:\n"
     "        nature: s. 4\n", "nature cannot be both required and omitted"),
    ("    letter:\n      elements:\n        state_agencies: s. 4\n",
     "the element state_agencies and the list agencies go together"),
    ("    letter:\n      elements:\n        credit_bureaus:\n          citation: s. 4\n"
     "          if_exposed: [passwords]\n", "credit_bureaus.if_exposed[0]: Input should be 'contact'"),
])
def test_a_broken_letter_is_reported_with_its_field(tmp_path: Path, letter: str,
                                                    expected: str) -> None:
    people = PEOPLE.split("    letter:")[0] + letter + PROTECTS
    problems = problems_with(tmp_path, people)
    assert len(problems) == 1 and expected in problems[0], problems


def test_a_letter_on_an_obligation_owed_to_an_authority_is_refused(tmp_path: Path) -> None:
    authority = AUTHORITY + "    letter:\n      elements:\n        nature: s. 4\n"
    problems = problems_with(tmp_path, authority + PEOPLE + PROTECTS)
    assert len(problems) == 1 and "letter is only for obligations owed to individuals" in \
        problems[0], problems
