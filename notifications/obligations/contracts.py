"""Contractual clocks: what the organisation promised its counterparties, as one more regime.

A processing agreement, business associate agreement or customer contract often sets its
own time to tell the other party of a breach ("within 24 hours of becoming aware", DPA
s. 7.2). The organisation profile lists its counterparties, each with such a clock; an
incident names the counterparties whose data it involves and may add a clock of its own.
`contract_regime` turns the clocks an incident involves into a `Regime` (id `contract`,
one obligation per counterparty, its citation the contract's clause), so that each
becomes an obligation row like a legal duty: with a due time and its basis, reminders,
and a line in the register and the compliance report.

Pure: the stored JSON of the profile and the incident in, a regime and the assumptions
made out; the service adds the regime to the catalogue for that incident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, cast, get_args

from notifications.obligations.regimes import (
    COUNTERPARTY,
    Regime,
    Role,
    TriggerName,
)

CONTRACT_REGIME = "contract"
"""The id of the regime of contractual clocks; its obligations are "contract/<counterparty id>"."""
PROFILE_SOURCE = "/api/v1/organisation"
"""Where a contractual clock with no link to its contract is written down: the profile."""
PLACEHOLDER_SOURCE = "https://contract.invalid/"
"""Validates the regime before the profile's own address replaces it."""

CounterpartyRole = Literal[
    "controller",
    "processor",
    "covered_entity",
    "business_associate",
    "data_owner",
    "service_provider",
    "customer",
    "other",
]
"""What a counterparty is toward the organisation: one of the roles of the laws, a customer,
or other."""
COUNTERPARTY_ROLES: tuple[str, ...] = get_args(CounterpartyRole)
TRIGGERS: tuple[str, ...] = get_args(TriggerName)


def role_words(role: str) -> str:
    """"covered_entity" -> "covered entity"."""
    return role.replace("_", " ")


@dataclass(frozen=True)
class ContractClock:
    """One counterparty's clock: tell `name` within `hours` of `trigger`, as `contract` says."""

    id: str
    name: str
    role: str
    hours: int
    trigger: str
    contract: str
    email: str | None = None
    note: str = ""
    url: str | None = None
    incident_only: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, incident_only: bool = False) -> ContractClock:
        """A clock from its stored form (the profile's or the incident's JSON)."""
        return cls(id=str(data["id"]), name=str(data["name"]), role=str(data["role"]),
                   hours=int(data["hours"]), trigger=str(data.get("trigger") or "aware_at"),
                   contract=str(data["contract"]), email=data.get("email") or None,
                   note=str(data.get("note") or ""), url=data.get("url") or None,
                   incident_only=incident_only)


def involved_clocks(profile_counterparties: Iterable[Mapping[str, Any]],
                    parties: Mapping[str, Any] | None) -> tuple[list[ContractClock], list[str]]:
    """The clocks of the counterparties an incident involves, and the assumptions made.

    `parties` is the incident's record (`counterparties`: ids of the profile's counterparties;
    `clocks`: clocks of this incident only). A counterparty named by the incident but since
    removed from the profile has no clock any more: said in the assumptions.
    """
    known = {str(c["id"]): c for c in profile_counterparties}
    parties = parties or {}
    clocks: list[ContractClock] = []
    assumptions: list[str] = []
    for party in parties.get("counterparties") or []:
        if party in known:
            clocks.append(ContractClock.from_json(known[party]))
        else:
            assumptions.append(f"counterparty {party!r} is no longer in the organisation "
                               "profile: its contractual clock is not computed")
    clocks.extend(ContractClock.from_json(c, incident_only=True)
                  for c in parties.get("clocks") or [])
    return clocks, assumptions


def contract_regime(clocks: Sequence[ContractClock], *, jurisdiction: str,
                    reviewed: date) -> Regime | None:
    """The regime of these contractual clocks (None when there are none).

    Each clock becomes the obligation `contract/<id>`: owed to the counterparty, `hours`
    elapsed hours after its trigger, its citation the contract's clause and its source the
    contract's link (or the organisation profile, where the clocks are written down). The
    confidence is high: it is the organisation's own contract, not a reading of a law.
    """
    if not clocks:
        return None
    obligations = [_obligation(clock) for clock in clocks]
    regime = Regime.model_validate({
        "id": CONTRACT_REGIME,
        "name": "Contractual notification clocks",
        "jurisdiction": jurisdiction,
        "sources": [PLACEHOLDER_SOURCE],
        "applies": {},
        "confidence": "high",
        "reviewed": reviewed,
        "notes": ["The organisation's own contracts with the parties whose data it holds or "
                  "processes: tracked like the law's duties, on top of them."],
        "obligations": obligations,
    })
    # The profile page is where a clock with no link is written down: a path of this
    # service, not an outside address, so it replaces the placeholder once validated.
    return regime.model_copy(update={
        "sources": (PROFILE_SOURCE,),
        "obligations": tuple(o if clock.url else o.model_copy(update={"source": PROFILE_SOURCE})
                             for o, clock in zip(regime.obligations, clocks, strict=True)),
    })


def _obligation(clock: ContractClock) -> dict[str, Any]:
    whom = f"{clock.name} ({role_words(clock.role)})"
    notes = [f"Contractual clock of {clock.hours} hours after {clock.trigger.replace('_', ' ')}"
             + (", recorded for this incident only" if clock.incident_only else
                ", from the organisation profile")]
    if clock.email:
        notes.append(f"Contact: {clock.email}")
    if clock.note:
        notes.append(clock.note)
    return {
        "id": clock.id,
        "recipient": COUNTERPARTY,
        "recipient_name": whom,
        "trigger": cast(TriggerName, clock.trigger),
        "deadline": {"hours": clock.hours},
        "content": [f"notice of the incident to {clock.name}, as {clock.contract} requires"],
        "citation": clock.contract,
        "source": clock.url or PLACEHOLDER_SOURCE,
        "notes": notes,
    }


ROLE_OF_COUNTERPARTY: Mapping[str, tuple[Role, ...]] = {
    "controller": ("processor",),
    "covered_entity": ("business_associate",),
    "data_owner": ("service_provider",),
}
"""What the organisation is, by the law's words, toward a counterparty in these roles: the
hint a page gives when an incident involves a controller's data and no role is recorded."""
