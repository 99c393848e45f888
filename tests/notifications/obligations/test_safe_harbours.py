"""Safe harbours of the shipped regimes: when each law's own text says its duty does not arise.

Each case is written from the provision it cites: encryption with a safe key (and, where the
law says so, redaction), a documented determination that misuse or harm is not reasonably
likely, and the duties such a determination itself creates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from notifications.obligations.engine import ObligationResult, compute_obligations
from notifications.obligations.facts import FactsError, facts_from_json
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import Catalogue

REGIMES: Catalogue = load_regimes()

SAFE_KEY: dict[str, Any] = {"encrypted": True, "state_of_the_art": True, "key_compromised": False}
TAKEN_KEY: dict[str, Any] = {**SAFE_KEY, "key_compromised": True}


def harm_not_likely(**more: Any) -> dict[str, Any]:
    """A documented determination that misuse or harm is not reasonably likely."""
    return {"harm_not_likely": True, "harm_determined_at": "2026-03-12T15:00:00+00:00", **more}


def run(affected: dict[str, int], categories: list[str], *, flags: tuple[str, ...] = (),
        country: str = "US", zone: str = "America/New_York",
        **incident: Any) -> dict[str, ObligationResult]:
    data = {"organisation": {"country": country, "timezone": zone, "flags": list(flags)},
            "incident": {"aware_at": "2026-03-10T14:00:00+00:00", "risk": "high",
                         "data_categories": categories, **incident},
            "affected": affected}
    return {r.ref: r for r in compute_obligations(facts_from_json(data), REGIMES, explain=True)}


def lifted(result: ObligationResult, citation: str) -> bool:
    """The duty does not arise, and says so citing `citation`."""
    return not result.applies and "safe harbour" in result.why[0] and citation in result.why[0]


# ------------------------------------------------------------------------ California


def test_california_encrypted_data_with_a_safe_key_is_outside_the_duty() -> None:
    # Cal. Civ. Code 1798.82(a): notice to a resident "(1) whose unencrypted personal
    # information was ... acquired ..., or, (2) whose encrypted personal information was ...
    # acquired ... and the encryption key or security credential was ... acquired".
    clear = run({"US-CA": 600}, ["official_id"])
    assert clear["us-ca/individuals"].applies and clear["us-ca/attorney-general"].applies
    safe = run({"US-CA": 600}, ["official_id"], **SAFE_KEY)
    assert lifted(safe["us-ca/individuals"], "1798.82(a)")
    assert safe["us-ca/attorney-general"].why == ("follows us-ca/individuals, which does not apply",)
    taken = run({"US-CA": 600}, ["official_id"], **TAKEN_KEY)
    assert taken["us-ca/individuals"].applies and taken["us-ca/attorney-general"].applies


def test_california_says_nothing_of_redaction() -> None:
    assert run({"US-CA": 10}, ["official_id"], redacted=True)["us-ca/individuals"].applies


# -------------------------------------------------------------------------- Colorado


def test_colorado_encrypted_or_redacted_data_is_not_personal_information() -> None:
    # C.R.S. 6-1-716(1)(g): the name or element "not encrypted, redacted, or secured by any other
    # method rendering the name or the element unreadable or unusable".
    for facts in (SAFE_KEY, {"redacted": True}):
        results = run({"US-CO": 600}, ["official_id"], zone="America/Denver", **facts)
        assert lifted(results["us-co/individuals"], "6-1-716(1)(d)")
        assert lifted(results["us-co/attorney-general"], "6-1-716(1)(d)")
    taken = run({"US-CO": 600}, ["official_id"], zone="America/Denver", **TAKEN_KEY)
    assert taken["us-co/individuals"].applies


def test_colorado_no_notice_when_misuse_has_not_occurred_and_is_not_reasonably_likely() -> None:
    # C.R.S. 6-1-716(2)(a): notice "unless the investigation determines that the misuse of
    # information about a Colorado resident has not occurred and is not reasonably likely to occur";
    # (2)(f): the Attorney General is told by an entity "required to notify" the residents.
    results = run({"US-CO": 600}, ["official_id"], zone="America/Denver", **harm_not_likely())
    assert lifted(results["us-co/individuals"], "6-1-716(2)(a)")
    assert lifted(results["us-co/attorney-general"], "6-1-716(2)(a)")


# --------------------------------------------------------------------------- Florida


def test_florida_determination_after_consulting_law_enforcement_lifts_the_notice_and_is_sent() -> None:
    # Fla. Stat. 501.171(4)(c): no notice "if, after an appropriate investigation and consultation
    # with relevant federal, state, or local law enforcement agencies, the covered entity
    # reasonably determines that the breach has not and will not likely result in identity theft
    # or any other financial harm"; "The covered entity shall provide the written determination
    # to the department within 30 days after the determination."
    alone = run({"US-FL": 600}, ["financial"], **harm_not_likely())
    assert alone["us-fl/individuals"].applies  # law enforcement was not consulted
    assert not alone["us-fl/harm-determination"].applies
    consulted = run({"US-FL": 600}, ["financial"], **harm_not_likely(law_enforcement_consulted=True))
    assert lifted(consulted["us-fl/individuals"], "501.171(4)(c)")
    sent = consulted["us-fl/harm-determination"]
    assert sent.applies and sent.recipient == "authority"
    # 30 days after 12 March 2026 (Eastern): 11 April, to the end of that day.
    assert sent.due_at == datetime.fromisoformat("2026-04-11T23:59:59.999999-04:00")
    # (4)(c) speaks of notice to individuals only: the Department's notice under (3) stays.
    assert consulted["us-fl/attorney-general"].applies


def test_florida_encrypted_or_identifiers_removed_is_not_personal_information() -> None:
    # Fla. Stat. 501.171(1)(g)2.: not "information that is encrypted, secured, or modified by any
    # other method or technology that removes elements that personally identify an individual".
    for facts in (SAFE_KEY, {"redacted": True}):
        results = run({"US-FL": 600}, ["financial"], **facts)
        assert lifted(results["us-fl/individuals"], "501.171(1)(g)2.")
        assert lifted(results["us-fl/attorney-general"], "501.171(1)(g)2.")
    assert run({"US-FL": 600}, ["financial"], **TAKEN_KEY)["us-fl/individuals"].applies


# --------------------------------------------------------------------- Massachusetts


def test_massachusetts_encrypted_data_without_its_key_is_no_breach_of_security() -> None:
    # M.G.L. c. 93H s. 1(a): "Breach of security", the unauthorized acquisition or use of
    # "unencrypted data or, encrypted electronic data and the confidential process or key".
    safe = run({"US-MA": 5}, ["financial"], **SAFE_KEY)
    assert lifted(safe["us-ma/individuals"], "93H, s. 1(a)")
    assert lifted(safe["us-ma/attorney-general"], "93H, s. 1(a)")
    assert run({"US-MA": 5}, ["financial"], **TAKEN_KEY)["us-ma/individuals"].applies
    assert run({"US-MA": 5}, ["financial"], redacted=True)["us-ma/individuals"].applies


# -------------------------------------------------------------------------- New York


def test_new_york_private_information_is_what_is_not_encrypted_or_whose_key_was_taken() -> None:
    # N.Y. Gen. Bus. Law 899-aa(1)(b): "not encrypted, or is encrypted with an encryption key that
    # has also been accessed or acquired".
    safe = run({"US-NY": 600}, ["financial"], **SAFE_KEY)
    assert lifted(safe["us-ny/individuals"], "899-aa(1)(b)")
    assert lifted(safe["us-ny/attorney-general"], "899-aa(1)(b)")
    assert run({"US-NY": 600}, ["financial"], **TAKEN_KEY)["us-ny/individuals"].applies


def test_new_york_inadvertent_disclosure_determined_harmless_is_documented_and_sent() -> None:
    # 899-aa(2)(a): no notice "if the exposure of private information was an inadvertent
    # disclosure by persons authorized to access private information, and the person or business
    # reasonably determines such exposure will not likely result in misuse"; "If the incident
    # affects over five hundred residents of New York, the person or business shall provide the
    # written determination to the state attorney general within ten days after the determination."
    not_inadvertent = run({"US-NY": 600}, ["financial"], **harm_not_likely())
    assert not_inadvertent["us-ny/individuals"].applies
    results = run({"US-NY": 600}, ["financial"], **harm_not_likely(inadvertent_disclosure=True))
    assert lifted(results["us-ny/individuals"], "899-aa(2)(a)")
    assert lifted(results["us-ny/attorney-general"], "899-aa(2)(a)")
    sent = results["us-ny/harm-determination"]
    assert sent.applies and sent.due_at == datetime.fromisoformat("2026-03-22T23:59:59.999999-04:00")
    few = run({"US-NY": 500}, ["financial"], **harm_not_likely(inadvertent_disclosure=True))
    assert not few["us-ny/harm-determination"].applies


# ----------------------------------------------------------------------------- Texas


def test_texas_encrypted_data_is_a_breach_only_with_its_key() -> None:
    # Tex. Bus. & Com. Code 521.053(a): a breach includes "data that is encrypted if the person
    # accessing the data has the key required to decrypt the data"; 521.002(a)(2): "if the name
    # and the items are not encrypted".
    safe = run({"US-TX": 300}, ["financial"], zone="America/Chicago", **SAFE_KEY)
    assert lifted(safe["us-tx/individuals"], "521.053(a)")
    assert lifted(safe["us-tx/attorney-general"], "521.053(a)")
    assert run({"US-TX": 300}, ["financial"], **TAKEN_KEY)["us-tx/individuals"].applies


# ------------------------------------------------------------------------ Washington


def test_washington_secured_means_encrypted_to_the_nist_standard_or_unreadable() -> None:
    # RCW 19.255.010(1): notice where "the personal information was not secured"; RCW 19.255.005:
    # "Secured" is encrypted in a manner that meets or exceeds the NIST standard, or otherwise
    # modified so that it is rendered unreadable, unusable, or undecipherable.
    weak = run({"US-WA": 600}, ["credentials"], encrypted=True)
    assert weak["us-wa/individuals"].applies  # not shown to meet the NIST standard
    for facts in (SAFE_KEY, {"redacted": True}):
        results = run({"US-WA": 600}, ["credentials"], **facts)
        assert lifted(results["us-wa/individuals"], "19.255.005")
        assert lifted(results["us-wa/attorney-general"], "19.255.005")
    # "... or if the confidential process, encryption key, or other means to decipher the
    # secured information was acquired by an unauthorized person."
    assert run({"US-WA": 600}, ["credentials"], **TAKEN_KEY)["us-wa/individuals"].applies


def test_washington_no_notice_when_no_risk_of_harm_is_reasonably_likely() -> None:
    # RCW 19.255.010(1): "Notice is not required if the breach of the security of the system is
    # not reasonably likely to subject consumers to a risk of harm."
    results = run({"US-WA": 600}, ["credentials"], **harm_not_likely())
    assert lifted(results["us-wa/individuals"], "RCW 19.255.010(1)")
    assert lifted(results["us-wa/attorney-general"], "RCW 19.255.010(1)")


# ---------------------------------------------------------------------------- HIPAA


def test_hipaa_covers_only_unsecured_protected_health_information() -> None:
    # 45 CFR 164.402: "Unsecured protected health information means protected health information
    # that is not rendered unusable, unreadable, or indecipherable to unauthorized persons through
    # the use of a technology or methodology specified by the Secretary in the guidance"
    # (encryption per NIST, with the decryption key not breached).
    flags = ("hipaa_covered_entity",)
    safe = run({"US-CA": 600}, ["health"], flags=flags, **SAFE_KEY)
    for ref in ("hipaa/individuals", "hipaa/hhs", "hipaa/media"):
        assert lifted(safe[ref], "45 CFR 164.402"), ref
    taken = run({"US-CA": 600}, ["health"], flags=flags, **TAKEN_KEY)
    assert all(taken[ref].applies for ref in ("hipaa/individuals", "hipaa/hhs", "hipaa/media"))
    weak = run({"US-CA": 600}, ["health"], flags=flags, encrypted=True)
    assert weak["hipaa/individuals"].applies  # not encrypted as the guidance specifies


def test_hipaa_a_breach_is_presumed_unless_a_risk_assessment_shows_low_probability() -> None:
    # 45 CFR 164.402, "Breach" (2): an impermissible use or disclosure "is presumed to be a
    # breach unless the covered entity ... demonstrates that there is a low probability that
    # the protected health information has been compromised based on a risk assessment of at
    # least the following factors ...". Not the severity assessment: the documented one.
    flags = ("hipaa_covered_entity",)
    presumed = run({"US-CA": 600}, ["health"], flags=flags, risk="none")
    assert all(presumed[ref].applies for ref in ("hipaa/individuals", "hipaa/hhs", "hipaa/media"))
    shown = run({"US-CA": 600}, ["health"], flags=flags, **harm_not_likely())
    for ref in ("hipaa/individuals", "hipaa/hhs", "hipaa/media"):
        assert lifted(shown[ref], "164.402, definition of breach, paragraph (2)"), ref


# ------------------------------------------------------------------------ GDPR, UK GDPR


@pytest.mark.parametrize(("regime", "country", "zone"), [("gdpr", "DE", "Europe/Berlin"),
                                                           ("uk-gdpr", "GB", "Europe/London")])
def test_art_34_3_a_lifts_the_communication_to_people_never_the_authority(
        regime: str, country: str, zone: str) -> None:
    # Art. 34(3)(a): the communication to the data subject is not required if "the controller has
    # implemented appropriate technical and organisational protection measures ... in particular
    # those that render the personal data unintelligible ..., such as encryption". Art. 33 has no
    # such exception.
    safe = run({country: 100}, ["contact"], country=country, zone=zone, **SAFE_KEY)
    assert lifted(safe[f"{regime}/data-subjects"], "Art. 34(3)(a)")
    assert safe[f"{regime}/authority"].applies
    taken = run({country: 100}, ["contact"], country=country, zone=zone, **TAKEN_KEY)
    assert taken[f"{regime}/data-subjects"].applies


# ------------------------------------------------------------------------------ FACTS


def test_circumstances_that_contradict_each_other_are_refused_by_name() -> None:
    base = {"organisation": {"country": "US", "timezone": "America/New_York"},
            "incident": {"aware_at": "2026-03-10T14:00:00Z", "risk": "high"}}
    bad: list[tuple[dict[str, Any], str]] = [
        ({"key_compromised": True}, "need encrypted: true"),
        ({"harm_not_likely": True}, "give harm_determined_at"),
        ({"law_enforcement_delay": {"agency": "FBI", "requested_at": "2026-03-11T00:00:00Z",
                                    "ended_at": "2026-03-10T00:00:00Z"}},
         "ended_at lies before requested_at"),
        ({"law_enforcement_delay": {"agency": "", "requested_at": "2026-03-11T00:00:00Z"}},
         "incident.law_enforcement_delay.agency"),
    ]
    for extra, words in bad:
        with pytest.raises(FactsError) as caught:
            facts_from_json({**base, "incident": {**base["incident"], **extra}})
        assert words in str(caught.value), (extra, str(caught.value))
