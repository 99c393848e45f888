"""The circumstances of an incident that the breach laws turn on, their shape and their rules.

Whether the affected data was encrypted (and to the standard the laws ask), whether the key
or credentials were taken too, whether the data was redacted; a risk-of-harm determination
(its conclusion, the written determination itself — the document kept on the incident — who
made it and when, whether law enforcement was consulted); a law-enforcement request to delay
notice (the agency, when it asked, whether in writing, the end it stated, when it ended).

The obligations engine reads these as the incident's facts (`build_facts` in
notifications/obligations/service.py): safe harbours and delays follow from them, each cited by
its law. `problems` is the pure check the service applies before storing (dates in order,
nothing in the future but a stated end, encryption details only for encrypted data);
`removes_duties` says whether a change records a determination that no notice is needed, which
only an approver may record; `form_of` gives the page's form its values.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints

from incident.kernel.schemas import Input, Instant, MultiLine, SingleLine

DETERMINATION_LIMIT = 20_000
"""The longest written risk-of-harm determination, in characters."""


def boolean(value: Any) -> Any:
    """Only a JSON boolean is a yes or no: not "true", not 1.

    A validator rather than StrictBool: Litestar validates bodies with `strict=False`, which
    overrides a field's own strictness.
    """
    if type(value) is not bool:
        raise ValueError("must be true or false (a JSON boolean, not text or a number)")
    return value


YesNo = Annotated[bool, BeforeValidator(boolean)]


class Encryption(StrEnum):
    NONE = "none"
    ALL = "all"  # all the affected data was encrypted


class Conclusion(StrEnum):
    NOT_LIKELY = "misuse_not_reasonably_likely"
    LIKELY = "misuse_reasonably_likely"


Determination = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                 max_length=DETERMINATION_LIMIT), MultiLine]
OneLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
                    SingleLine]


class RiskOfHarm(Input):
    """A risk-of-harm determination, kept as the document on the incident.

    `inadvertent_disclosure`: the exposure was an inadvertent disclosure by people authorised
    to access the data (N.Y. Gen. Bus. Law 899-aa(2)(a) asks for it);
    `law_enforcement_consulted`: law enforcement was consulted first (Fla. Stat. 501.171(4)(c)).
    """

    conclusion: Conclusion
    text: Determination = Field(description="the written determination, in full")
    determined_at: Instant
    determined_by: OneLine
    law_enforcement_consulted: YesNo = False
    inadvertent_disclosure: YesNo = False


class LawEnforcementDelay(Input):
    """A law-enforcement agency's request to delay notice; `until` is the end it stated,
    `ended_at` when it told us notice may go (or the delay was revoked)."""

    agency: OneLine
    requested_at: Instant
    written: YesNo = False
    until: Instant | None = None
    ended_at: Instant | None = None


class Circumstances(Input):
    """Everything recorded at once: a PUT replaces what was recorded before."""

    encryption: Encryption = Encryption.NONE
    state_of_the_art: YesNo = Field(default=False, description="the encryption met the standard "
                                    "the laws ask (state of the art)")
    key_compromised: YesNo = Field(default=False, description="the key or credentials were "
                                   "also acquired")
    redacted: YesNo = False
    risk_of_harm: RiskOfHarm | None = None
    law_enforcement_delay: LawEnforcementDelay | None = None


def problems(data: Circumstances, *, now: datetime, skew: timedelta) -> list[tuple[str, str]]:
    """What is wrong with `data` as facts about the past, each as (field, message)."""
    found: list[tuple[str, str]] = []
    if data.encryption is Encryption.NONE:
        found += [(name, "describes encryption: set encryption to all first")
                  for name in ("state_of_the_art", "key_compromised") if getattr(data, name)]
    latest = now + skew
    harm = data.risk_of_harm
    if harm is not None and harm.determined_at > latest:
        found.append(("risk_of_harm.determined_at", "lies in the future"))
    delay = data.law_enforcement_delay
    if delay is not None:
        if delay.requested_at > latest:
            found.append(("law_enforcement_delay.requested_at", "lies in the future"))
        if delay.ended_at is not None and delay.ended_at > latest:
            found.append(("law_enforcement_delay.ended_at", "lies in the future"))
        for name in ("until", "ended_at"):
            end = getattr(delay, name)
            if end is not None and end < delay.requested_at:
                found.append((f"law_enforcement_delay.{name}", "lies before requested_at"))
    return found


def removes_duties(before: dict[str, Any] | None, after: Circumstances) -> bool:
    """Whether `after` records a new or changed determination that misuse is not reasonably
    likely: the kind that lifts duties to notify, which an approver must record."""
    harm = after.risk_of_harm
    if harm is None or harm.conclusion is not Conclusion.NOT_LIKELY:
        return False
    return (before or {}).get("risk_of_harm") != harm.model_dump(mode="json")


def form_of(stored: dict[str, Any] | None) -> dict[str, Any]:
    """Recorded circumstances as the page's form values (instants as datetimes, to be shown in
    the page's time zone; yes/no as "yes" or "")."""
    data = Circumstances.model_validate(stored or {})
    values: dict[str, Any] = {"encryption": data.encryption.value,
                              **{name: "yes" if getattr(data, name) else "" for name in (
                                  "state_of_the_art", "key_compromised", "redacted")}}
    if (harm := data.risk_of_harm) is not None:
        values |= {"harm_conclusion": harm.conclusion.value, "harm_text": harm.text,
                   "harm_determined_at": harm.determined_at,
                   "harm_determined_by": harm.determined_by,
                   "harm_law_enforcement_consulted": "yes" if harm.law_enforcement_consulted else "",
                   "harm_inadvertent_disclosure": "yes" if harm.inadvertent_disclosure else ""}
    if (delay := data.law_enforcement_delay) is not None:
        values |= {"delay_agency": delay.agency, "delay_requested_at": delay.requested_at,
                   "delay_written": "yes" if delay.written else "", "delay_until": delay.until,
                   "delay_ended_at": delay.ended_at}
    return values
