"""Who owes whom: the duties of a controller, covered entity or owner do not fall on a pure
processor, business associate or service provider, who owes its own duty to the party it
serves instead. Each case is written from the provision it cites."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from notifications.obligations.engine import ObligationResult, compute_obligations
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import Catalogue

REGIMES: Catalogue = load_regimes()
PROCESSOR_SIDE = ["processor", "business_associate", "service_provider"]


def run(roles: list[str], *, country: str = "DE", timezone: str = "Europe/Berlin",
        affected: dict[str, int] | None = None, flags: list[str] | None = None,
        **incident: Any) -> dict[str, ObligationResult]:
    data = {
        "organisation": {"country": country, "timezone": timezone, "flags": flags or [],
                         "roles": roles},
        "incident": {"aware_at": "2026-03-02T15:00:00+01:00", "risk": "high",
                     "data_categories": ["contact", "financial", "credentials", "official_id",
                                         "health"], **incident},
        "affected": affected or {"DE": 40},
    }
    results = compute_obligations(facts_from_json(data), REGIMES, explain=True)
    return {r.ref: r for r in results}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --------------------------------------------------------------- GDPR and laws like it


def test_gdpr_art_33_2_the_processor_notifies_the_controller_without_undue_delay() -> None:
    # Regulation (EU) 2016/679 Art. 33(2): "The processor shall notify the controller without
    # undue delay after becoming aware of a personal data breach." No fixed time, no risk test.
    results = run(["processor"], risk="none")
    duty = results["gdpr/controller"]
    assert duty.applies and duty.recipient == "counterparty" and duty.due_at is None
    assert duty.target_at == at("2026-03-03T15:00:00+01:00")  # our own 24-hour target
    assert duty.basis is not None and duty.basis.citation == "Regulation (EU) 2016/679, Art. 33(2)"


def test_a_pure_processor_owes_neither_art_33_1_nor_art_34() -> None:
    # Arts. 33(1) and 34(1) address "the controller".
    results = run(["processor"])
    for ref in ("gdpr/authority", "gdpr/data-subjects"):
        assert not results[ref].applies
        assert results[ref].why == (
            "organisation acts as processor, not as controller or data owner or covered entity",)


def test_without_a_role_the_organisation_is_the_controller_as_before() -> None:
    results = run([])
    assert results["gdpr/authority"].applies and results["gdpr/data-subjects"].applies
    assert not results["gdpr/controller"].applies
    assert "organisation acts as controller or data owner or covered entity (assumed: no role " \
           "given)" in results["gdpr/authority"].why


def test_a_controller_that_is_also_a_processor_owes_both() -> None:
    results = run(["controller", "processor"])
    assert results["gdpr/authority"].applies and results["gdpr/controller"].applies


def test_uk_gdpr_art_33_2() -> None:
    # UK GDPR Art. 33(2): the same words as the EU text.
    results = run(["processor"], country="GB", timezone="Europe/London", affected={"GB": 5})
    assert results["uk-gdpr/controller"].applies
    assert results["uk-gdpr/controller"].basis.citation == "UK GDPR, Art. 33(2)"  # type: ignore[union-attr]
    assert not results["uk-gdpr/authority"].applies


def test_swiss_fadp_art_24_3_the_processor_informs_the_controller_as_quickly_as_possible() -> None:
    # FADP Art. 24(3): "The processor shall notify the controller of any breach of data security
    # as quickly as possible." Art. 24(1) and (4) bind the controller.
    results = run(["processor"], country="CH", timezone="Europe/Zurich", affected={"CH": 5})
    assert results["ch-fadp/controller"].applies
    assert results["ch-fadp/controller"].due_at is None
    assert not results["ch-fadp/fdpic"].applies and not results["ch-fadp/data-subjects"].applies


def test_singapore_pdpa_s_26c_3_a_the_data_intermediary_notifies_the_organisation() -> None:
    # PDPA s. 26C(3)(a): "the data intermediary must, without undue delay, notify that other
    # organisation of the occurrence of the data breach"; the assessment (26C(2)) and the
    # notices (26D) are that organisation's.
    results = run(["processor"], country="SG", timezone="Asia/Singapore", affected={"SG": 600})
    assert results["sg-pdpa/organisation"].applies
    for ref in ("sg-pdpa/assessment", "sg-pdpa/commission", "sg-pdpa/individuals"):
        assert not results[ref].applies, ref


@pytest.mark.parametrize(("regime", "country", "timezone"), [
    ("br-lgpd", "BR", "America/Sao_Paulo"),      # LGPD Art. 48: "O controlador deverá comunicar"
    ("ca-pipeda", "CA", "America/Toronto"),      # PIPEDA s. 10.1: information "under its control"
    ("in-dpdp", "IN", "Asia/Kolkata"),           # DPDP Act s. 8(6): "the Data Fiduciary shall"
    ("kr-pipa", "KR", "Asia/Seoul"),             # PIPA Art. 34: the personal information controller
])
def test_laws_addressing_only_the_controller_put_nothing_on_a_processor(
        regime: str, country: str, timezone: str) -> None:
    # The DPDP Rules' breach duties are in force from 13 May 2027.
    when: dict[str, Any] = {"aware_at": "2027-06-01T10:00:00+05:30"} if regime == "in-dpdp" else {}
    as_processor = run(["processor"], country=country, timezone=timezone, affected={country: 900},
                       **when)
    assert not any(r.applies for r in as_processor.values() if r.regime == regime)
    as_controller = run([], country=country, timezone=timezone, affected={country: 900}, **when)
    assert any(r.applies for r in as_controller.values() if r.regime == regime)


# ---------------------------------------------------------------------------------- HIPAA


def test_hipaa_164_410_the_business_associate_notifies_the_covered_entity_within_60_days() -> None:
    # 45 CFR 164.410(a)(1): "A business associate shall, following the discovery of a breach of
    # unsecured protected health information, notify the covered entity of such breach."
    # (b): "without unreasonable delay and in no case later than 60 calendar days after
    # discovery"; (a)(2): discovered on the first day it is known to the business associate.
    results = run(["business_associate"], country="US", timezone="America/Chicago",
                  affected={"US-IL": 20}, discovered_at="2026-03-02T09:00:00-06:00",
                  aware_at="2026-03-04T09:00:00-06:00")
    duty = results["hipaa/covered-entity"]
    assert duty.applies and duty.recipient == "counterparty"
    # Day 1 is 3 March; day 60 is 1 May, to its end in the organisation's zone.
    assert duty.due_at == at("2026-05-01T23:59:59.999999-05:00")
    assert duty.trigger is not None and duty.trigger.name == "discovered_at"
    # A business associate is not a covered entity: 164.404-164.406 are not its duties, and it
    # needs no hipaa_covered_entity flag for 164.410 to reach it.
    for ref in ("hipaa/individuals", "hipaa/hhs", "hipaa/media"):
        assert not results[ref].applies, ref


def test_hipaa_a_covered_entity_keeps_its_own_duties_and_owes_no_164_410_notice() -> None:
    results = run([], country="US", timezone="America/Chicago", affected={"US-IL": 20},
                  flags=["hipaa_covered_entity"])
    assert results["hipaa/individuals"].applies
    assert not results["hipaa/covered-entity"].applies
    # Without the flag and without the role, HIPAA does not reach the organisation at all.
    plain = run([], country="US", timezone="America/Chicago", affected={"US-IL": 20})
    assert not any(r.applies for r in plain.values() if r.regime == "hipaa")


# -------------------------------------------------------------------------- US state laws


@pytest.mark.parametrize(("ref", "state", "citation"), [
    # 1798.82(b): "shall notify the owner or licensee of the information of the breach of the
    # security of the system immediately following discovery".
    ("us-ca/owner", "US-CA", "Cal. Civ. Code 1798.82(b)"),
    # 899-aa(3): "shall notify the owner or licensee ... immediately following discovery".
    ("us-ny/owner", "US-NY", "N.Y. Gen. Bus. Law 899-aa(3)"),
    # 521.053(c): "shall notify the owner or license holder ... immediately after discovering".
    ("us-tx/owner", "US-TX", "Tex. Bus. & Com. Code 521.053(c)"),
    # 19.255.010(2): "shall notify the owner or licensee ... immediately following discovery".
    ("us-wa/owner", "US-WA", "RCW 19.255.010(2)"),
])
def test_a_service_provider_tells_the_owner_immediately_following_discovery(
        ref: str, state: str, citation: str) -> None:
    results = run(["service_provider"], country="US", timezone="America/New_York",
                  affected={state: 10}, discovered_at="2026-03-02T08:00:00-05:00")
    duty = results[ref]
    assert duty.applies and duty.recipient == "counterparty"
    assert duty.due_at is None  # "immediately": no number of days in the text
    assert duty.target_at == at("2026-03-03T08:00:00-05:00")
    assert duty.basis is not None and duty.basis.citation == citation
    regime = ref.split("/")[0]
    assert not results[f"{regime}/individuals"].applies
    # The owner or licensee keeps its notice to residents and owes no notice to itself.
    owner = run([], country="US", timezone="America/New_York", affected={state: 10},
                discovered_at="2026-03-02T08:00:00-05:00")
    assert owner[f"{regime}/individuals"].applies and not owner[ref].applies


def test_massachusetts_93h_3a_the_holder_tells_the_owner_or_licensor() -> None:
    # c. 93H s. 3(a): a person that "maintains or stores, but does not own or license data"
    # shall give notice "as soon as practicable and without unreasonable delay" to the owner
    # or licensor, when it knows or has reason to know of the breach.
    results = run(["processor"], country="US", timezone="America/New_York",
                  affected={"US-MA": 10})
    assert results["us-ma/owner"].applies and results["us-ma/owner"].due_at is None
    assert results["us-ma/owner"].trigger.name == "aware_at"  # type: ignore[union-attr]
    assert not results["us-ma/individuals"].applies


def test_florida_501_171_6_the_third_party_agent_has_10_days_from_determination() -> None:
    # 501.171(6)(a): "as expeditiously as practicable, but no later than 10 days following the
    # determination of the breach of security or reason to believe the breach occurred".
    results = run(["service_provider"], country="US", timezone="America/New_York",
                  affected={"US-FL": 10}, breach_determined_at="2026-03-05T14:00:00-05:00")
    duty = results["us-fl/covered-entity"]
    assert duty.applies and duty.due_at == at("2026-03-15T23:59:59.999999-04:00")
    assert not results["us-fl/individuals"].applies


def test_florida_the_harm_exception_is_the_covered_entitys_not_the_agents() -> None:
    # 501.171(4)(c) lets the covered entity skip the individuals' notice where no harm is
    # likely; (6)(a) has no such exception for the agent's notice to the covered entity.
    determined: dict[str, Any] = {"harm_not_likely": True, "harm_determined_at": "2026-03-06T10:00:00-05:00",
                  "law_enforcement_consulted": True}
    agent = run(["service_provider"], country="US", timezone="America/New_York",
                affected={"US-FL": 10}, breach_determined_at="2026-03-05T14:00:00-05:00",
                **determined)
    assert agent["us-fl/covered-entity"].applies
    owner = run([], country="US", timezone="America/New_York", affected={"US-FL": 10},
                breach_determined_at="2026-03-05T14:00:00-05:00", **determined)
    assert not owner["us-fl/individuals"].applies
    assert owner["us-fl/harm-determination"].applies  # the written determination to the Department


def test_colorado_6_1_716_2_b_the_service_provider_notifies_the_covered_entity() -> None:
    # C.R.S. 6-1-716(1)(b): a covered entity "does not include a person acting as a third-party
    # service provider"; (2)(b) (read with low confidence, see the regime file) asks the
    # service provider to notify the covered entity without unreasonable delay.
    results = run(["service_provider"], country="US", timezone="America/Denver",
                  affected={"US-CO": 10})
    assert results["us-co/covered-entity"].applies
    assert not results["us-co/individuals"].applies


def test_the_controller_side_roles_are_equivalent_for_the_owners_duties() -> None:
    # A controller under privacy law owns or licenses the data in the state laws' words.
    for roles in (["controller"], ["data_owner"], ["covered_entity"]):
        results = run(roles, country="US", timezone="America/Los_Angeles",
                      affected={"US-CA": 10})
        assert results["us-ca/individuals"].applies, roles
        assert not results["us-ca/owner"].applies, roles


def test_every_duty_between_parties_is_owed_to_a_counterparty_and_cited() -> None:
    duties = [(r, o) for r in REGIMES for o in r.obligations if o.recipient == "counterparty"]
    assert {f"{r.id}/{o.id}" for r, o in duties} == {
        "gdpr/controller", "uk-gdpr/controller", "ch-fadp/controller", "sg-pdpa/organisation",
        "hipaa/covered-entity", "us-ca/owner", "us-co/covered-entity", "us-fl/covered-entity",
        "us-ma/owner", "us-ny/owner", "us-tx/owner", "us-wa/owner",
        "us-al/covered-entity",
        "us-me/owner", "us-md/owner", "us-mi/owner", "us-mn/owner", "us-ms/owner", "us-mo/owner",
        "us-mt/owner", "us-ne/owner", "us-nv/owner",
        "us-nh/owner", "us-nj/owner", "us-nm/owner",
        "us-or/covered-entity", "us-pa/entity", "us-sc/owner", "us-tn/owner", "us-ut/owner",
        "us-vt/owner", "us-va/owner", "us-wv/owner",
        "us-az/owner", "us-ar/owner", "us-ct/owner", "us-de/owner", "us-dc/owner", "us-ga/owner",
        "us-hi/owner", "us-id/owner", "us-il/owner", "us-in/owner",
        "us-ia/owner", "us-ks/owner", "us-ky/owner", "us-la/owner", "us-nc/owner", "us-nd/owner",
        "us-oh/owner", "us-ok/owner", "us-wi/owner", "us-wy/owner", "us-pr/owner",
        "us-gu/owner", "us-vi/owner",  # 9 GCA 48.30; 14 V.I.C. 2208-2209
        # Decreto 64/020 art. 4 par. 3 (Uruguay); LOPDP art. 43 (Ecuador).
        "uy-lpdp/controller", "ec-lopdp/controller",
        # POPIA s. 21(2); Kenya DPA 2019 s. 43(3); NDPA 2023 s. 40(1); Qatar PDPPL Art. 13.
        "za-popia/responsible-party", "ke-dpa/controller", "ng-ndpa/controller",
        "qa-pdppl/controller",
        # ZZPL cl. 52(3) (Serbia); Georgia PDP Law Art. 29(2); Guernsey DPL s. 42(1); GDPR-model
        # processor duties of North Macedonia, Jersey, the Isle of Man (Applied GDPR Art. 33(2))
        # and Moldova.
        "rs-zzpl/controller", "ge-pdp/controller", "gg-dpl/controller", "mk-zzlp/controller",
        "je-dpjl/controller", "im-gdpr/controller", "md-pdp/controller",
        # PDPA B.E. 2562 s. 40(2) (Thailand); NPC Circular 16-03 s. 16 (Philippines); Law
        # 91/2025/QH15 art. 23(1) (Vietnam).
        "th-pdpa/controller", "ph-dpa/controller", "vn-pdp/controller",
        # Law No. 058/2021 Art. 43 (Rwanda); Data Protection Act 2021 s. 49(2) (Zambia).
        "rw-ppdp/controller", "zm-dpa/controller",
        # Albania Law No. 124/2024 Art. 29 (GDPR-model, not read); Bosnia and Herzegovina ZZLP
        # (2025), the processor's notice to the controller.
        "al-pdp/controller", "ba-zzlp/controller",
    }
    for regime, obligation in duties:
        assert obligation.when is not None and obligation.when.roles, obligation.id
        assert set(obligation.when.roles) <= set(PROCESSOR_SIDE)
        assert obligation.citation and obligation.source.startswith("http"), regime.id


def test_roles_are_validated_in_facts() -> None:
    with pytest.raises(ValueError, match="roles"):
        run(["landlord"])


def test_a_discovery_later_than_awareness_is_the_processor_duty_unaffected() -> None:
    # Art. 33(2) counts from the processor's awareness, not from the detection instant.
    results = run(["processor"], discovered_at="2026-03-01T15:00:00+01:00")
    assert results["gdpr/controller"].target_at == at("2026-03-02T15:00:00+01:00") + timedelta(
        hours=24)
