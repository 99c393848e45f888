"""Loading regime files: the shipped folder loads, and broken files are reported clearly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from notifications.obligations.regime_loader import REGIMES_DIR, RegimeError, load_regimes

CATALOGUE = {
    "gdpr": ["authority", "data-subjects", "controller"],
    "uk-gdpr": ["authority", "data-subjects", "controller"],
    "nis2": ["early-warning", "notification", "final-report"],
    "dora": ["initial", "intermediate", "final"],
    "hipaa": ["individuals", "hhs", "media", "covered-entity"],
    "sec-8k": ["form-8k"],
    **{
        state: ["individuals", "attorney-general", "owner"]
        for state in ("us-ca", "us-tx", "us-ny", "us-wa", "us-ma")
    },
    # Fla. Stat. 501.171(4)(c) and N.Y. GBL 899-aa(2)(a): the written determination that no
    # notice is needed goes to the Department of Legal Affairs / the Attorney General.
    "us-fl": ["individuals", "attorney-general", "covered-entity", "harm-determination"],
    "us-ny": ["individuals", "attorney-general", "owner", "harm-determination"],
    "us-co": ["individuals", "attorney-general", "covered-entity"],
    # Ala. Code 8-38-5, 8-38-6, 8-38-8; AS 45.48.010(a) and (c).
    "us-al": ["individuals", "attorney-general", "covered-entity"],
    "us-ak": ["individuals", "attorney-general-determination"],
    # 10 M.R.S. 1348; Md. Code Com. Law 14-3504; MCL 445.72; Minn. Stat. 325E.61;
    # Miss. Code Ann. 75-24-29; Mo. Rev. Stat. 407.1500.
    "us-me": ["individuals", "regulator", "owner"],
    "us-md": ["individuals", "attorney-general", "owner"],
    "us-mi": ["individuals", "owner"],
    "us-mn": ["individuals", "owner"],
    "us-ms": ["individuals", "owner"],
    "us-mo": ["individuals", "attorney-general", "owner"],
    "us-mt": ["individuals", "consumer-protection", "owner"],  # Mont. Code Ann. 30-14-1704
    "us-ne": ["individuals", "attorney-general", "owner"],  # Neb. Rev. Stat. 87-803
    "us-nv": ["individuals", "owner"],  # NRS 603A.220
    "us-nh": ["individuals", "attorney-general", "owner"],  # RSA 359-C:20
    "us-nj": ["individuals", "state-police", "owner"],  # N.J.S.A. 56:8-163
    "us-nm": ["individuals", "attorney-general", "owner"],  # NMSA 57-12C-6 and -10
    # ORS 646A.604(1), (2)(a) and (2)(c); 73 P.S. 2303(a), (c.1) and (c); R.I. Gen. Laws
    # 11-49.3-4(a); S.C. Code 39-1-90(A), (B) and (K); SDCL 22-40-20; Tenn. Code 47-18-2107(b)
    # and (c); Utah Code 13-44-202; 9 V.S.A. 2435(b)(1) to (3); Va. Code 18.2-186.6;
    # W. Va. Code 46A-2A-102(a) and (c).
    "us-or": ["individuals", "attorney-general", "covered-entity", "vendor-attorney-general"],
    "us-pa": ["individuals", "attorney-general", "entity"],
    "us-ri": ["individuals", "attorney-general"],
    "us-sc": ["individuals", "consumer-affairs", "owner"],
    "us-sd": ["individuals", "attorney-general", "attorney-general-determination"],
    "us-tn": ["individuals", "owner"],
    "us-ut": ["individuals", "attorney-general", "owner"],
    "us-va": ["individuals", "attorney-general", "attorney-general-distribution", "owner"],
    "us-wv": ["individuals", "owner"],
    "us-vt": ["individuals", "attorney-general-preliminary", "attorney-general-follow-up", "owner"],
    # A.R.S. 18-552(B) and the maintainer's notice; Ark. Code 4-110-105(a), (b)(1) and (b)(2);
    # Conn. Gen. Stat. 36a-701b(b) and (c); 6 Del. C. 12B-102(a), (b) and (d); D.C. Code
    # 28-3852(a), (b) and (b-1); O.C.G.A. 10-1-912(a) and (b); HRS 487N-2(a), (b) and (f); Idaho
    # Code 28-51-105(1) and (2); 815 ILCS 530/10(a), (b) and (e); IC 24-4.9-3-1 and 3-2.
    "us-az": ["individuals", "attorney-general", "homeland-security", "owner"],
    "us-ar": ["individuals", "attorney-general", "owner"],
    "us-ct": ["individuals", "attorney-general", "owner"],
    "us-de": ["individuals", "attorney-general", "owner"],
    "us-dc": ["individuals", "attorney-general", "owner"],
    "us-ga": ["individuals", "owner"],
    "us-hi": ["individuals", "consumer-protection", "owner"],
    "us-id": ["individuals", "owner"],
    "us-il": ["individuals", "attorney-general", "owner"],
    "us-in": ["individuals", "attorney-general", "owner"],
    # Iowa Code 715C.2(1), (2) and (8); K.S.A. 50-7a02(a) and (b); KRS 365.732(2) and (3); La.
    # R.S. 51:3074(C) and (D) with LAC 16:III.701; N.C.G.S. 75-65(a), (b) and (e1); N.D.C.C.
    # 51-30-02 and 51-30-03; O.R.C. 1349.19(B) and (C); 24 O.S. 163 (SB 626); Wis. Stat.
    # 134.98(2); Wyo. Stat. 40-12-502(a) and (g).
    "us-ia": ["individuals", "attorney-general", "owner"],
    "us-ks": ["individuals", "owner"],
    "us-ky": ["individuals", "owner"],
    "us-la": ["individuals", "attorney-general", "owner"],
    "us-nc": ["individuals", "attorney-general", "owner"],
    "us-nd": ["individuals", "attorney-general", "owner"],
    "us-oh": ["individuals", "owner"],
    "us-ok": ["individuals", "attorney-general", "owner"],
    "us-wi": ["individuals", "owner"],
    "us-wy": ["individuals", "owner"],
    # 10 L.P.R.A. 4052 (residents, the Department of Consumer Affairs, the holder).
    "us-pr": ["individuals", "consumer-affairs", "owner"],
    "ca-pipeda": ["commissioner", "individuals"],
    "au-ndb": ["assessment", "commissioner", "individuals"],
    "br-lgpd": ["anpd", "data-subjects"],
    "sg-pdpa": ["assessment", "commission", "individuals", "organisation"],
    "jp-appi": ["preliminary", "final"],
    "kr-pipa": ["data-subjects", "commission"],
    "in-dpdp": ["board", "board-detailed", "data-principals"],
    "ch-fadp": ["fdpic", "data-subjects", "controller"],
    "us-nydfs": ["superintendent"],
    "us-bank": ["regulator"],
    "us-ftc": ["ftc"],
    "cn": ["cac"],
    # -- americas (keep this line; add entries above it)
    # -- europe (keep this line; add entries above it)
    # -- middle-east-africa (keep this line; add entries above it)
    # -- asia-pacific (keep this line; add entries above it)
    # -- us-territories (keep this line; add entries above it)
}

GOOD = """\
id: demo
name: Demo regime
jurisdiction: DE
sources: [https://example.org/law]
applies:
  affected_in: [DE]
confidence: low
reviewed: 2026-11-24
obligations:
  - id: authority
    recipient: authority
    recipient_name: The authority
    trigger: aware_at
    deadline: {hours: 72}
    content: [what happened]
    citation: Demo Act s. 1
    source: https://example.org/law#s1
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(RegimeError) as caught:
        load_regimes(folder)
    return [str(p) for p in caught.value.problems]


def test_every_shipped_regime_file_loads_with_the_expected_ids() -> None:
    catalogue = load_regimes()
    assert {r.id: [o.id for o in r.obligations] for r in catalogue} == CATALOGUE
    assert sorted(p.stem for p in REGIMES_DIR.glob("*.yaml")) == sorted(CATALOGUE)



def test_loading_is_fast() -> None:
    load_regimes()
    start = time.perf_counter()
    load_regimes()
    assert time.perf_counter() - start < 1.0


def test_a_good_file_loads(tmp_path: Path) -> None:
    write(tmp_path, "demo.yaml", GOOD)
    catalogue = load_regimes(tmp_path)
    assert [r.id for r in catalogue] == ["demo"]


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            "    deadline: {hours: 72}",
            "    deadline: {hourz: 72}",
            "obligations[authority].deadline",
            "a deadline rule needs one of",
        ),
        (
            "    deadline: {hours: 72}",
            "    deadline: {hours: -1}",
            "obligations[authority].deadline.hours",
            "greater than 0",
        ),
        (
            "    deadline: {hours: 72}",
            "    deadline: {business_days: 3, calendar: XX}",
            "obligations[authority].deadline.calendar",
            "no public-holiday calendar",
        ),
        (
            "    deadline: {hours: 72}",
            "    deadline: {calendar_days: 3, ends_at: 17:30}",
            "obligations[authority].deadline.ends_at",
            "quoted string",
        ),
        (
            "    trigger: aware_at",
            "    trigger: noticed_at",
            "obligations[authority].trigger",
            "Input should be 'aware_at'",
        ),
        (
            "    trigger: aware_at",
            "    trigger: {met: not a ref}",
            "obligations[authority].trigger.met",
            "not an obligation reference",
        ),
        ("  affected_in: [DE]", "  affected_in: [Germany]", "applies.affected_in[0]", "not a territory"),
        ("jurisdiction: DE", "jurisdiction: DE\ntimezone: Europe/Atlantis", "timezone", "unknown time zone"),
        (
            "    recipient: authority",
            "    recipient: regulators",
            "obligations[authority].recipient",
            "Input should be",
        ),
        (
            "    content: [what happened]",
            "    content: []",
            "obligations[authority].content",
            "at least 1 item",
        ),
        (
            "    source: https://example.org/law#s1",
            "    source: example.org",
            "obligations[authority].source",
            "not an http(s) link",
        ),
        ("confidence: low", "confidence: low\nsurprise: 1", "surprise", "Extra inputs are not permitted"),
        (
            "  affected_in: [DE]",
            "  affected_in: [DE]\n  min_rsk: high",
            "applies.min_rsk",
            "Extra inputs are not permitted",
        ),
        (
            "  affected_in: [DE]",
            "  count_in: [DE]",
            "applies",
            "count_in and per_territory only make sense with min_affected",
        ),
        ("    citation: Demo Act s. 1\n", "", "obligations[authority].citation", "Field required"),
    ],
)
def test_a_broken_file_names_path_field_and_problem(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, "demo.yaml", GOOD.replace(old, new))
    problems = problems_of(tmp_path)
    assert any(p.startswith(f"{path}: {field}: ") and message in p for p in problems), problems


def test_all_problems_of_all_files_are_collected(tmp_path: Path) -> None:
    write(
        tmp_path,
        "demo.yaml",
        GOOD.replace("{hours: 72}", "{hours: 0}").replace("confidence: low", "confidence: sure"),
    )
    write(
        tmp_path,
        "other.yaml",
        GOOD.replace("id: demo", "id: other").replace("recipient: authority", "recipient: nobody"),
    )
    problems = problems_of(tmp_path)
    assert len(problems) == 3
    assert sum("demo.yaml" in p for p in problems) == 2
    assert sum("other.yaml" in p for p in problems) == 1


def test_yaml_syntax_errors_and_duplicate_keys(tmp_path: Path) -> None:
    write(tmp_path, "demo.yaml", GOOD + "  - [unclosed\n")
    write(tmp_path, "dupe.yaml", GOOD.replace("id: demo", "id: dupe") + "name: Again\n")
    problems = problems_of(tmp_path)
    assert any("demo.yaml: (file): not valid YAML" in p for p in problems)
    assert any("dupe.yaml: (file): not valid YAML: duplicate key 'name'" in p for p in problems)


def test_file_name_must_match_id(tmp_path: Path) -> None:
    write(tmp_path, "elsewhere.yaml", GOOD)
    assert problems_of(tmp_path) == [
        f"{tmp_path / 'elsewhere.yaml'}: id: 'demo' must match the file name 'elsewhere'"
    ]


def test_follow_up_must_name_a_loaded_obligation(tmp_path: Path) -> None:
    write(tmp_path, "demo.yaml", GOOD.replace("trigger: aware_at", "trigger: {met: demo/nothing}"))
    (problem,) = problems_of(tmp_path)
    assert problem.endswith(
        "obligations[authority].trigger.met: 'demo/nothing' is not an obligation of any loaded regime"
    )


def test_follow_up_loops_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "demo.yaml", GOOD.replace("trigger: aware_at", "trigger: {met: demo/authority}"))
    (problem,) = problems_of(tmp_path)
    assert "loops back to 'demo/authority'" in problem


def test_duplicate_obligation_ids(tmp_path: Path) -> None:
    obligation = GOOD[GOOD.index("  - id: authority") :]
    write(tmp_path, "demo.yaml", GOOD + obligation)
    (problem,) = problems_of(tmp_path)
    assert "obligations: Value error, obligation id 'authority' appears twice" in problem


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [f"{tmp_path}: (folder): no *.yaml regime files found"]


def test_error_message_lists_every_problem(tmp_path: Path) -> None:
    write(tmp_path, "demo.yaml", GOOD.replace("confidence: low", "confidence: sure"))
    with pytest.raises(RegimeError, match=r"1 problem\(s\) in regime files:\n  .*demo.yaml: confidence"):
        load_regimes(tmp_path)


AUTHORITY_BLOCK = """\
    authority:
      name: The Demo Data Protection Authority
      address: 1 Demo Street, 10115 Berlin
      website: https://example.org/authority
      filing: the authority's online breach form
      source: https://example.org/authority/contact
      reviewed: 2026-12-05
"""


def test_a_report_to_an_authority_can_name_the_authority_and_how_to_file(tmp_path: Path) -> None:
    write(tmp_path, "demo.yaml", GOOD + AUTHORITY_BLOCK)
    authority = load_regimes(tmp_path).obligation("demo/authority")
    assert authority is not None and authority[1].authority is not None
    assert authority[1].authority.filing == "the authority's online breach form"


def test_an_authority_block_on_a_duty_to_people_is_refused(tmp_path: Path) -> None:
    people = GOOD.replace("recipient: authority", "recipient: internal")
    write(tmp_path, "demo.yaml", people + AUTHORITY_BLOCK)
    assert any("authority is only for reports to an authority or regulator" in p
               for p in problems_of(tmp_path))


def test_an_authority_block_needs_its_source_and_review_date(tmp_path: Path) -> None:
    write(tmp_path, "demo.yaml", GOOD + AUTHORITY_BLOCK.replace(
        "      reviewed: 2026-12-05\n", ""))
    assert any("reviewed" in p for p in problems_of(tmp_path))
