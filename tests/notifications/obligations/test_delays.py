"""Law-enforcement delays: how each law's clock behaves while and after the delay, by its text.

The first cases run the shipped regimes through the engine; the last ones test `apply_delay`
alone on rules written here, for the branches no shipped law needs today.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from notifications.obligations.delays import apply_delay
from notifications.obligations.engine import ObligationResult, compute_obligations
from notifications.obligations.facts import Incident, facts_from_json
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import Catalogue, Obligation

REGIMES: Catalogue = load_regimes()
FBI = "FBI Field Office"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def request(**more: Any) -> dict[str, Any]:
    """A request by law enforcement to delay notice, three days after discovery."""
    return {"agency": FBI, "requested_at": "2026-03-05T16:00:00+00:00", **more}


def run(affected: dict[str, int], categories: list[str], *, zone: str = "America/New_York",
        flags: tuple[str, ...] = (), **incident: Any) -> dict[str, ObligationResult]:
    data = {"organisation": {"country": "US", "timezone": zone, "flags": list(flags)},
            "incident": {"aware_at": "2026-03-02T15:00:00+00:00", "risk": "high",
                         "breach_determined_at": "2026-03-02T15:00:00+00:00",
                         "data_categories": categories, **incident},
            "affected": affected}
    return {r.ref: r for r in compute_obligations(facts_from_json(data), REGIMES, explain=True)}


def notes(result: ObligationResult) -> str:
    assert result.basis is not None
    return " | ".join(result.basis.notes)


# ----------------------------------------------------------------------- an open delay


def test_an_open_delay_leaves_no_due_time_and_waits_for_its_end_naming_agency_and_law() -> None:
    # Cal. Civ. Code 1798.82(c): "The notification required by this section shall be delayed if a
    # law enforcement agency determines that the notification will impede a criminal
    # investigation."
    result = run({"US-CA": 10}, ["official_id"], zone="America/Los_Angeles",
                 law_enforcement_delay=request())["us-ca/individuals"]
    assert result.applies and result.due_at is None and result.target_at is None
    assert result.trigger is not None and result.trigger.at is not None
    assert result.trigger.waiting_for == (
        f"the end of the law-enforcement delay requested by {FBI} (Cal. Civ. Code 1798.82(c))")
    assert "with no end stated yet" in notes(result)


# ------------------------------------------------------------- suspended until the end


def test_california_notice_is_due_promptly_after_the_delay_ends() -> None:
    # 1798.82(c): "The notification ... shall be made promptly after the law enforcement agency
    # determines that it will not compromise the investigation."
    plain = run({"US-CA": 10}, ["official_id"], zone="America/Los_Angeles")["us-ca/individuals"]
    assert plain.due_at is not None
    late_end = "2026-05-20T17:00:00+00:00"
    delayed = run({"US-CA": 10}, ["official_id"], zone="America/Los_Angeles",
                  law_enforcement_delay=request(ended_at=late_end))["us-ca/individuals"]
    assert delayed.due_at == at(late_end) and delayed.target_at == at(late_end)
    assert "1798.82(c)" in notes(delayed) and "ended at 2026-05-20T17:00:00Z" in notes(delayed)
    # A delay that ended before the notice fell due leaves the law's own time limit in place.
    early = run({"US-CA": 10}, ["official_id"], zone="America/Los_Angeles",
                law_enforcement_delay=request(ended_at="2026-03-06T00:00:00+00:00"))
    assert early["us-ca/individuals"].due_at == plain.due_at


def test_a_stated_end_counts_until_the_agency_ends_the_delay() -> None:
    # N.Y. Gen. Bus. Law 899-aa(4): "shall be made after such law enforcement agency determines
    # that such notification does not compromise such investigation."
    until = "2026-06-01T04:00:00+00:00"
    stated = run({"US-NY": 10}, ["financial"], law_enforcement_delay=request(until=until))
    assert stated["us-ny/individuals"].due_at == at(until)
    assert "ends as stated at 2026-06-01T04:00:00Z" in notes(stated["us-ny/individuals"])
    ended = "2026-05-01T12:00:00+00:00"
    revoked = run({"US-NY": 10}, ["financial"], law_enforcement_delay=request(until=until,
                                                                             ended_at=ended))
    assert revoked["us-ny/individuals"].due_at == at(ended)


def test_texas_delay_holds_the_notice_to_people_not_the_attorney_general_report() -> None:
    # Tex. Bus. & Com. Code 521.053(d): "A person may delay providing notice as required by
    # Subsection (b) at the request of a law enforcement agency"; the report under (i) is not (b).
    results = run({"US-TX": 300}, ["financial"], zone="America/Chicago",
                  law_enforcement_delay=request())
    assert results["us-tx/individuals"].due_at is None
    report = results["us-tx/attorney-general"]
    assert report.due_at is not None and "no provision of this duty's law" in notes(report)


def test_massachusetts_and_washington_hold_notice_until_the_agency_says_it_may_go() -> None:
    # M.G.L. c. 93H s. 4: notice "shall be provided, as soon as practicable and without
    # unreasonable delay" once the agency "determines and informs the person ... that notification
    # no longer poses a risk of impeding an investigation". RCW 19.255.010(3): "shall be made ...
    # after the law enforcement agency determines that it will not compromise the investigation."
    end = "2026-07-01T15:00:00+00:00"
    ma = run({"US-MA": 5}, ["financial"], law_enforcement_delay=request(ended_at=end))
    assert ma["us-ma/individuals"].target_at == at(end)  # no fixed limit: the target moves
    assert "M.G.L. c. 93H, s. 4" in notes(ma["us-ma/individuals"])
    wa = run({"US-WA": 5}, ["credentials"], zone="America/Los_Angeles",
             law_enforcement_delay=request(ended_at=end))
    assert wa["us-wa/individuals"].due_at == at(end)


# ------------------------------------------------------------ a fresh clock after the end


def test_colorado_notice_is_due_thirty_days_after_the_agency_lets_it_go() -> None:
    # C.R.S. 6-1-716(2)(c): notice "not later than thirty days after the law enforcement agency
    # determines that notification will no longer impede the investigation and has notified the
    # covered entity that it is appropriate to send the notice".
    results = run({"US-CO": 10}, ["official_id"], zone="America/Denver",
                  law_enforcement_delay=request(ended_at="2026-04-15T16:00:00+00:00"))
    # 15 April 2026 in Denver, plus thirty days: 15 May, to the end of that day (MDT).
    assert results["us-co/individuals"].due_at == at("2026-05-15T23:59:59.999999-06:00")
    assert "due 30 calendar days after the end of the delay" in notes(results["us-co/individuals"])


# ---------------------------------------------------------------- written requests only


def test_florida_delays_notice_only_on_a_written_request() -> None:
    # Fla. Stat. 501.171(4)(b): "the notice shall be delayed upon the written request of the law
    # enforcement agency for a specified period that the law enforcement agency determines is
    # reasonably necessary."
    oral = run({"US-FL": 10}, ["financial"], law_enforcement_delay=request())["us-fl/individuals"]
    assert oral.due_at is not None and "was not in writing" in notes(oral)
    until = "2026-06-15T04:00:00+00:00"
    written = run({"US-FL": 10}, ["financial"],
                  law_enforcement_delay=request(written=True, until=until))["us-fl/individuals"]
    assert written.due_at == at(until)


# -------------------------------------------------------- an oral statement, 30 days at most


def test_hipaa_oral_statement_delays_at_most_thirty_days() -> None:
    # 45 CFR 164.412: "(a) If the statement is in writing and specifies the time for which a delay
    # is required, delay such notification ... for the time period specified by the official; or
    # (b) If the statement is made orally, ... delay the notification ... temporarily and no
    # longer than 30 days from the date of the oral statement, unless a written statement as
    # described in paragraph (a) of this section is submitted during that time."
    flags = ("hipaa_covered_entity",)
    said = "2026-04-25T14:00:00+00:00"  # before the 60-day limit ends on 1 May
    oral = run({"US-NY": 600}, ["health"], flags=flags,
               law_enforcement_delay=request(requested_at=said, until="2026-08-01T00:00:00+00:00"))
    for ref in ("hipaa/individuals", "hipaa/hhs", "hipaa/media"):
        assert oral[ref].due_at == at("2026-05-25T14:00:00+00:00"), ref
        assert "not in writing: it delays notice at most 30 days" in notes(oral[ref])
    open_oral = run({"US-NY": 600}, ["health"], flags=flags,
                    law_enforcement_delay=request(requested_at=said))
    assert open_oral["hipaa/individuals"].due_at == at("2026-05-25T14:00:00+00:00")
    written = run({"US-NY": 600}, ["health"], flags=flags, law_enforcement_delay=request(
        requested_at=said, written=True, until="2026-08-01T00:00:00+00:00"))
    assert written["hipaa/individuals"].due_at == at("2026-08-01T00:00:00+00:00")


# ------------------------------------------------------------------------ what never moves


def test_a_request_after_the_notice_was_due_does_not_move_it() -> None:
    plain = run({"US-CA": 10}, ["official_id"], zone="America/Los_Angeles")["us-ca/individuals"]
    assert plain.due_at is not None
    late = run({"US-CA": 10}, ["official_id"], zone="America/Los_Angeles",
               law_enforcement_delay=request(requested_at="2026-05-01T00:00:00+00:00"))
    assert late["us-ca/individuals"].due_at == plain.due_at
    assert "came after this notice was due" in notes(late["us-ca/individuals"])


def test_gdpr_provides_no_law_enforcement_delay() -> None:
    data = {"organisation": {"country": "DE", "timezone": "Europe/Berlin"},
            "incident": {"aware_at": "2026-03-02T15:00:00+00:00", "risk": "high",
                         "law_enforcement_delay": request()},
            "affected": {"DE": 10}}
    results = {r.ref: r for r in compute_obligations(facts_from_json(data), REGIMES)}
    authority = results["gdpr/authority"]
    assert authority.due_at == at("2026-03-05T15:00:00+00:00")
    assert "no provision of this duty's law lets it delay" in notes(authority)


# ------------------------------------------------------------ the module alone, rules here


def obligation(**delay: Any) -> Obligation:
    return Obligation.model_validate({
        "id": "notice", "recipient": "authority", "recipient_name": "An authority",
        "trigger": "aware_at", "deadline": {"calendar_days": 30}, "content": ["a notice"],
        "citation": "Test Act s. 1", "source": "https://example.org/act",
        "law_enforcement_delay": {"citation": "Test Act s. 2", "confidence": "high",
                                  "note": "as the test says", **delay}})


def incident(**delay: Any) -> Incident:
    return Incident.model_validate({"aware_at": "2026-03-02T15:00:00Z", "risk": "high",
                                    "law_enforcement_delay": {"agency": FBI, **delay}})


def test_after_end_never_shortens_the_laws_own_time() -> None:
    rule = obligation(effect="after_end", after_end={"hours": 24})
    due, target = at("2026-04-01T21:59:59+00:00"), at("2026-03-20T00:00:00+00:00")
    moved = apply_delay(rule, incident(requested_at="2026-03-03T00:00:00Z",
                                       ended_at="2026-03-04T00:00:00Z"),
                        due=due, target=target, tz=ZoneInfo("UTC"))
    assert moved.due_at == due and moved.target_at == target and moved.waiting_for is None


def test_no_delay_recorded_changes_nothing() -> None:
    rule = obligation(effect="until_end")
    plain = Incident.model_validate({"aware_at": "2026-03-02T15:00:00Z", "risk": "high"})
    due = datetime(2026, 4, 1, tzinfo=UTC)
    assert apply_delay(rule, plain, due=due, target=due, tz=ZoneInfo("UTC")).notes == ()
