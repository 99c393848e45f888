"""Request and response shapes for the people a notice did not reach."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from incident.kernel.bounds import ROW_ID_MAX
from incident.kernel.schemas import Documented, Input, Instant, MultiLine
from notifications.reach import rules, service
from notifications.reach.rules import Channel, Outcome


class OtherContactOrder(Input):
    """People reached another way (or an attempt that failed): a postal letter, a call, or a
    public communication where each law their notice answers to allows one."""

    channel: Channel
    outcome: Outcome = "reached"
    at: Instant
    """When: the letter posted, the call made, the communication published."""
    deliveries: Annotated[list[Annotated[int, Field(ge=1, le=ROW_ID_MAX)]],
                          Field(max_length=rules.AT_MOST)] = Field(default_factory=list)
    """The deliveries (people) it is about; or `all_not_reached`."""
    all_not_reached: bool = False
    """Everyone the notice's e-mail did not reach and nothing reached yet."""
    note: Annotated[str, MultiLine, Documented({"maxLength": rules.NOTE_LIMIT})] = ""
    """What was sent where, who answered, where the communication appeared."""
    conditions: Annotated[dict[str, Annotated[int, Field(ge=0, le=50)]],
                          Field(max_length=60)] | None = None
    """A public communication only: for each duty, the index of its law's condition that
    held (see `substitute_notice` in `not-reached`)."""


class WhyPublic(BaseModel):
    no_address: int
    refused: int
    gave_up: int
    bounced: int


class DutyReachPublic(BaseModel):
    """One duty the notice meets: reached (by channel), missing (by why), still sending."""

    ref: str
    status: str
    reached: dict[str, int]
    not_reached: int
    still_sending: int
    why: WhyPublic
    public_communication_allowed: bool
    """Whether the duty's law lets a public communication stand in for a person's notice."""


class ContactPublic(BaseModel):
    id: int
    channel: str
    outcome: str
    at: datetime
    recorded_at: datetime
    recorded_by: str
    note: str
    basis: str | None
    batch: str


class PersonPublic(BaseModel):
    delivery_id: int
    external_id: str
    name: str
    locale: str
    address: str | None
    state: str
    why: str
    last_reply: str | None
    meets: list[str]
    reached: bool
    contacts: list[ContactPublic]


class NotReachedPublic(BaseModel):
    notification: int
    duties: list[DutyReachPublic]
    people: list[PersonPublic] | None
    """For a role that may read personal data; null for others."""
    next_after: int | None
    """Pass as `after` for the next page; null on the last."""


class RecordedPublic(BaseModel):
    batch: str
    channel: str
    outcome: str
    people: int
    basis: str | None
    duties: list[DutyReachPublic]


def duty_public(duty: service.Duty) -> DutyReachPublic:
    reach = duty.reach
    return DutyReachPublic(ref=duty.ref, status=duty.status,
                           reached=reach.by_channel,
                           not_reached=reach.unreached, still_sending=reach.open,
                           why=WhyPublic(**duty.why.as_dict()),
                           public_communication_allowed=duty.substitute_notice is not None)


def not_reached_public(found: service.NotReached) -> NotReachedPublic:
    people = None if found.people is None else [
        PersonPublic(delivery_id=p.delivery_id, external_id=p.recipient_key, name=p.name,
                     locale=p.locale, address=p.address, state=p.state, why=p.why,
                     last_reply=p.last_reply, meets=p.meets, reached=p.reached,
                     contacts=[ContactPublic.model_validate(c, from_attributes=True)
                               for c in p.contacts])
        for p in found.people]
    return NotReachedPublic(notification=found.notification_id,
                            duties=[duty_public(d) for d in found.duties], people=people,
                            next_after=found.next_after)


def recorded_public(done: service.Recorded) -> RecordedPublic:
    return RecordedPublic(batch=done.batch, channel=done.channel, outcome=done.outcome,
                          people=done.people, basis=done.basis,
                          duties=[duty_public(d) for d in done.duties])


class SubstituteNoticePublic(BaseModel):
    """A law's rule for a public communication in place of a person's own notice."""

    citation: str
    confidence: str
    conditions: list[str]
    """The law's alternatives: one must hold (name its index when recording)."""
    means: list[str]
    note: str | None


class PublicTextPublic(BaseModel):
    locale: str
    subject: str
    text: str
    people: int


class PublicDraftPublic(BaseModel):
    """The notice as a public communication, per language of the people still not reached,
    and each duty's legal basis for one (null: its law allows none)."""

    basis: dict[str, SubstituteNoticePublic | None]
    texts: list[PublicTextPublic]


def public_draft_public(draft: service.PublicDraft) -> PublicDraftPublic:
    return PublicDraftPublic(
        basis={ref: None if rule is None else SubstituteNoticePublic(
            citation=rule.citation, confidence=rule.confidence,
            conditions=list(rule.conditions), means=list(rule.means), note=rule.note)
            for ref, rule in draft.rules.items()},
        texts=[PublicTextPublic(locale=t.locale, subject=t.subject, text=t.text,
                                people=t.people) for t in draft.texts])
