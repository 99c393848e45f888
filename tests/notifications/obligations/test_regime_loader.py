"""Loading regime files: the shipped folder loads, and broken files are reported clearly."""

from __future__ import annotations

import os
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
        for state in ("us-ca", "us-wa", "us-ma")
    },
    "us-tx": ["individuals", "attorney-general", "owner", "consumer-reporting-agencies"],
    # Fla. Stat. 501.171(4)(c) and N.Y. GBL 899-aa(2)(a): the written determination that no
    # notice is needed goes to the Department of Legal Affairs / the Attorney General.
    "us-fl": ["individuals", "attorney-general", "covered-entity", "harm-determination",
              "consumer-reporting-agencies"],
    "us-ny": ["individuals", "attorney-general", "owner", "harm-determination",
              "consumer-reporting-agencies"],
    "us-co": ["individuals", "attorney-general", "covered-entity", "consumer-reporting-agencies"],
    # Ala. Code 8-38-5, 8-38-6, 8-38-8; AS 45.48.010(a) and (c).
    "us-al": ["individuals", "attorney-general", "covered-entity", "consumer-reporting-agencies"],
    "us-ak": ["individuals", "attorney-general-determination", "consumer-reporting-agencies"],
    # 10 M.R.S. 1348; Md. Code Com. Law 14-3504; MCL 445.72; Minn. Stat. 325E.61;
    # Miss. Code Ann. 75-24-29; Mo. Rev. Stat. 407.1500.
    "us-me": ["individuals", "regulator", "owner", "consumer-reporting-agencies"],
    "us-md": ["individuals", "attorney-general", "owner", "consumer-reporting-agencies"],
    "us-mi": ["individuals", "owner", "consumer-reporting-agencies"],
    "us-mn": ["individuals", "owner", "consumer-reporting-agencies"],
    "us-ms": ["individuals", "owner"],
    "us-mo": ["individuals", "attorney-general", "owner", "consumer-reporting-agencies"],
    "us-mt": ["individuals", "consumer-protection", "owner"],  # Mont. Code Ann. 30-14-1704
    "us-ne": ["individuals", "attorney-general", "owner"],  # Neb. Rev. Stat. 87-803
    "us-nv": ["individuals", "owner", "consumer-reporting-agencies"],  # NRS 603A.220
    "us-nh": ["individuals", "attorney-general", "owner", "consumer-reporting-agencies"],  # RSA 359-C:20
    "us-nj": ["individuals", "state-police", "owner", "consumer-reporting-agencies"],  # N.J.S.A. 56:8-163
    # NMSA 57-12C-6 and -10
    "us-nm": ["individuals", "attorney-general", "owner", "consumer-reporting-agencies"],
    # ORS 646A.604(1), (2)(a) and (2)(c); 73 P.S. 2303(a), (c.1) and (c); R.I. Gen. Laws
    # 11-49.3-4(a); S.C. Code 39-1-90(A), (B) and (K); SDCL 22-40-20; Tenn. Code 47-18-2107(b)
    # and (c); Utah Code 13-44-202; 9 V.S.A. 2435(b)(1) to (3); Va. Code 18.2-186.6;
    # W. Va. Code 46A-2A-102(a) and (c).
    "us-or": ["individuals", "attorney-general", "covered-entity", "vendor-attorney-general",
              "consumer-reporting-agencies"],
    "us-pa": ["individuals", "attorney-general", "entity", "consumer-reporting-agencies"],
    "us-ri": ["individuals", "attorney-general", "consumer-reporting-agencies"],
    "us-sc": ["individuals", "consumer-affairs", "owner", "consumer-reporting-agencies"],
    "us-sd": ["individuals", "attorney-general", "attorney-general-determination"],
    "us-tn": ["individuals", "owner", "consumer-reporting-agencies"],
    "us-ut": ["individuals", "attorney-general", "owner", "consumer-reporting-agencies"],
    "us-va": ["individuals", "attorney-general", "attorney-general-distribution", "owner",
              "consumer-reporting-agencies"],
    "us-wv": ["individuals", "owner", "consumer-reporting-agencies"],
    "us-vt": ["individuals", "attorney-general-preliminary", "attorney-general-follow-up", "owner",
              "consumer-reporting-agencies"],
    # A.R.S. 18-552(B) and the maintainer's notice; Ark. Code 4-110-105(a), (b)(1) and (b)(2);
    # Conn. Gen. Stat. 36a-701b(b) and (c); 6 Del. C. 12B-102(a), (b) and (d); D.C. Code
    # 28-3852(a), (b) and (b-1); O.C.G.A. 10-1-912(a) and (b); HRS 487N-2(a), (b) and (f); Idaho
    # Code 28-51-105(1) and (2); 815 ILCS 530/10(a), (b) and (e); IC 24-4.9-3-1 and 3-2.
    "us-az": ["individuals", "attorney-general", "homeland-security", "owner",
              "consumer-reporting-agencies"],
    "us-ar": ["individuals", "attorney-general", "owner"],
    "us-ct": ["individuals", "attorney-general", "owner"],
    "us-de": ["individuals", "attorney-general", "owner"],
    "us-dc": ["individuals", "attorney-general", "owner", "consumer-reporting-agencies"],
    "us-ga": ["individuals", "owner", "consumer-reporting-agencies"],
    "us-hi": ["individuals", "consumer-protection", "owner", "consumer-reporting-agencies"],
    "us-id": ["individuals", "owner"],
    "us-il": ["individuals", "attorney-general", "owner"],
    "us-in": ["individuals", "attorney-general", "owner", "consumer-reporting-agencies"],
    # Iowa Code 715C.2(1), (2) and (8); K.S.A. 50-7a02(a) and (b); KRS 365.732(2) and (3); La.
    # R.S. 51:3074(C) and (D) with LAC 16:III.701; N.C.G.S. 75-65(a), (b) and (e1); N.D.C.C.
    # 51-30-02 and 51-30-03; O.R.C. 1349.19(B) and (C); 24 O.S. 163 (SB 626); Wis. Stat.
    # 134.98(2); Wyo. Stat. 40-12-502(a) and (g).
    "us-ia": ["individuals", "attorney-general", "owner"],
    "us-ks": ["individuals", "owner", "consumer-reporting-agencies"],
    "us-ky": ["individuals", "owner", "consumer-reporting-agencies"],
    "us-la": ["individuals", "attorney-general", "owner"],
    "us-nc": ["individuals", "attorney-general", "owner", "consumer-reporting-agencies"],
    "us-nd": ["individuals", "attorney-general", "owner"],
    "us-oh": ["individuals", "owner", "consumer-reporting-agencies"],
    "us-ok": ["individuals", "attorney-general", "owner"],
    "us-wi": ["individuals", "owner", "consumer-reporting-agencies"],
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
    "cn": ["cac", "pipl-departments", "individuals"],
    # P-39.1 s. 3.5; LFPDPPP (2025) art. 19; Ley 1581 art. 17 n) and 18 k); DS 016-2024-JUS;
    # Ley 19.628 art. 14 sexies; LOPDP arts. 43 and 46; Decreto 64/020 arts. 3-4.
    "ca-qc": ["commission", "persons"],
    "mx-lfpdppp": ["data-subjects"],
    "co-habeas-data": ["sic"],
    "pe-lpdp": ["authority", "data-subjects"],
    "cl-lpdp": ["agency", "data-subjects"],
    "ec-lopdp": ["authority", "arcotel", "data-subjects", "controller"],
    "uy-lpdp": ["containment", "urcdp", "final-report", "data-subjects", "controller"],
    # -- americas (keep this line; add entries above it)
    # KVKK Art. 12(5); ZZPL cl. 52-53; North Macedonia LPDP (2020); Georgia PDP Law (2023) Art. 29;
    # Data Protection (Jersey) Law 2018 Arts. 20-21; Guernsey Law 2017 ss. 42-43; Applied GDPR (IoM).
    "tr-kvkk": ["board", "data-subjects"],
    "rs-zzpl": ["poverenik", "data-subjects", "controller"],
    "mk-zzlp": ["agency", "data-subjects", "controller"],
    "ge-pdp": ["service", "data-subjects", "controller"],
    "je-dpjl": ["authority", "data-subjects", "controller"],
    "gg-dpl": ["authority", "data-subjects", "controller"],
    "im-gdpr": ["commissioner", "data-subjects", "controller"],
    "md-pdp": ["centre", "data-subjects", "controller"],  # Moldova Law No. 195/2024
    # -- europe (keep this line; add entries above it)
    # POPIA s. 21(2), 22(1); Kenya DPA 2019 s. 43(1), (3); NDPA 2023 s. 40(1)-(3); Saudi PDPL
    # Implementing Regulation Art. 24(1), (5).
    "za-popia": ["regulator", "data-subjects", "responsible-party"],
    "ke-dpa": ["commissioner", "data-subjects", "controller"],
    "ng-ndpa": ["commission", "data-subjects", "controller"],
    "sa-pdpl": ["sdaia", "data-subjects"],
    "qa-pdppl": ["competent-department", "individuals", "controller"],  # PDPPL Arts. 13-14
    # -- middle-east-africa (keep this line; add entries above it)
    # PDPA B.E. 2562 s. 37(4), 40(2); RA 10173 s. 20(f) with NPC Circular 16-03 ss. 16-18; UU
    # 27/2022 art. 46; Law 91/2025/QH15 art. 23 with Decree 356/2025 art. 29; PDPA 2010 s. 12B;
    # Privacy Act 2020 ss. 114-115; PDPA (Taiwan) art. 12.
    "th-pdpa": ["office", "data-subjects", "controller"],
    "ph-dpa": ["commission", "data-subjects", "controller"],
    "id-pdp": ["institution", "data-subjects"],
    "vn-pdp": ["agency", "data-subjects", "controller"],
    "my-pdpa": ["commissioner", "data-subjects"],
    "nz-privacy": ["commissioner", "individuals"],
    "tw-pdpa": ["data-subjects"],
    # -- asia-pacific (keep this line; add entries above it)
    # 9 GCA 48.30 (Guam); 14 V.I.C. 2208-2209 (US Virgin Islands).
    "us-gu": ["individuals", "owner"],
    "us-vi": ["individuals", "owner"],
    # -- us-territories (keep this line; add entries above it)
    # PIPA 2016 s. 14 (Bermuda); DPA (2021 Revision) s. 16 (Cayman Islands); Act 843 s. 31
    # (Ghana); DPPA 2019 s. 23 (Uganda); Law No. 058/2021 Arts. 43-45 (Rwanda); DPA 2021 s. 49
    # (Zambia); Cyber and Data Protection Act s. 19 (Zimbabwe).
    "bm-pipa": ["commissioner", "individuals"],
    "ky-dpa": ["ombudsman", "data-subjects"],
    "gh-dpa": ["commission", "data-subjects"],
    "ug-dppa": ["authority"],
    "rw-ppdp": ["authority", "report", "data-subjects", "controller"],
    "zm-dpa": ["commissioner", "data-subjects", "controller"],
    "zw-cdpa": ["authority"],
    # -- islands-africa (keep this line; add entries above it)
    # Albania Law No. 124/2024 Arts. 29-30; Bosnia and Herzegovina ZZLP (Sl. glasnik BiH 12/25);
    # Kazakhstan Law No. 94-V as amended by Law No. 44-VIII (2023).
    "al-pdp": ["commissioner", "data-subjects", "controller"],
    "ba-zzlp": ["agency", "data-subjects", "controller"],
    "kz-pd": ["authorized-body"],
    # -- eurasia (keep this line; add entries above it)
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


def test_a_file_changed_since_it_was_read_is_read_again(tmp_path: Path) -> None:
    path = write(tmp_path, "demo.yaml", GOOD)
    assert load_regimes(tmp_path).obligation("demo/authority") is not None
    write(tmp_path, "demo.yaml", GOOD.replace("id: authority", "id: regulator-report"))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    changed = load_regimes(tmp_path)
    assert changed.obligation("demo/authority") is None
    assert changed.obligation("demo/regulator-report") is not None


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


def test_a_limit_tied_to_another_notice_must_name_a_loaded_obligation(tmp_path: Path) -> None:
    tied = GOOD.replace("    deadline: {hours: 72}\n", "    deadline: {hours: 72}\n"
                        "    no_later_than: {met: demo/nothing, citation: Demo Act s. 2}\n")
    write(tmp_path, "demo.yaml", tied)
    (problem,) = problems_of(tmp_path)
    assert problem.endswith("obligations[authority].no_later_than.met: 'demo/nothing' is not an "
                            "obligation of any loaded regime")


def test_a_limit_that_depends_on_its_own_duty_is_refused(tmp_path: Path) -> None:
    # The follow-up starts when the report is made, and the report may not come after the
    # follow-up: neither could ever be computed.
    second = ("  - id: follow-up\n    recipient: authority\n    recipient_name: The authority\n"
              "    trigger: {met: demo/authority}\n    deadline: {hours: 24}\n"
              "    content: [more]\n    citation: Demo Act s. 3\n"
              "    source: https://example.org/law#s3\n")
    looped = GOOD.replace("    deadline: {hours: 72}\n", "    deadline: {hours: 72}\n"
                          "    no_later_than: {met: demo/follow-up, citation: Demo Act s. 2}\n")
    write(tmp_path, "demo.yaml", looped + second)
    (problem,) = problems_of(tmp_path)
    assert problem.endswith("obligations[authority].no_later_than.met: depends on this "
                            "duty itself (through follow-ups, limits or duties it arises with): "
                            "it can never be computed")


def test_a_duty_that_arises_with_another_must_name_a_loaded_obligation(tmp_path: Path) -> None:
    write(tmp_path, "demo.yaml", GOOD.replace("    deadline: {hours: 72}\n",
                                              "    deadline: {hours: 72}\n"
                                              "    arises_with: other/individuals\n"))
    (problem,) = problems_of(tmp_path)
    assert problem.endswith("obligations[authority].arises_with: 'other/individuals' is not an "
                            "obligation of any loaded regime")
