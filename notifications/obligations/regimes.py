"""Regimes as data: the schema of `notifications/regimes/<id>.yaml`.

A regime is one law's breach-notification duties: whom it protects (territory of the
affected people, place of establishment, organisation flags), and its obligations,
each with a recipient, a trigger, a deadline rule (see `deadlines.py`), thresholds,
required content and the citation of the text it comes from. An obligation owed to
people also says which of the affected people its law protects (`protects`), so that
its notice goes to them and to nobody else. Everything a lawyer would check is in the
file; the engine only evaluates it.

The models are strict (unknown keys are errors, so a typo never silently drops a
threshold) and frozen. Reading the files and reporting their problems is
`regime_loader.py`'s job: the schema changes when the law's shape does, the loader
when the way we read and report files does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from incident.kernel.schemas import Documented
from notifications.obligations.deadlines import DeadlineRule, zone

Flag = Literal[
    "nis2_essential",
    "nis2_important",
    "dora_financial_entity",
    "hipaa_covered_entity",
    "sec_registrant",
    "nydfs_covered_entity",
    "us_banking_organization",
    "ftc_financial_institution",
    "lgpd_small_agent",
]
Risk = Literal["none", "risk", "high"]
RISK_ORDER: Mapping[str, int] = {"none": 0, "risk": 1, "high": 2}
DataCategory = Literal[
    "contact",
    "identity",
    "official_id",
    "financial",
    "credentials",
    "location",
    "behavioural",
    "health",
    "special",
    "children",
]
TriggerName = Literal[
    "aware_at",
    "discovered_at",
    "breach_determined_at",
    "classified_major_at",
    "materiality_determined_at",
    "assessment_completed_at",
    "harm_determined_at",
]
Recipient = Literal["authority", "regulator", "individuals", "media", "internal", "counterparty",
                    "consumer_reporting_agencies"]
PEOPLE: Recipient = "individuals"
"""The recipient that is the affected people themselves: its obligations say whom they protect."""
COUNTERPARTY: Recipient = "counterparty"
"""The recipient that is another party to the processing: the controller, covered entity or
owner a processor, business associate or service provider answers to, or a party to a contract."""
CONSUMER_REPORTING_AGENCIES: Recipient = "consumer_reporting_agencies"
"""The nationwide consumer reporting agencies (15 U.S.C. 1681a(p)): many US state laws ask a
notifier of more than a number of residents to tell them of the timing, distribution and content
of its notices (Ala. Code 8-38-7). Told as the law says, not sent from here; the agencies are
those of `regimes/contacts` (`credit_bureaus`)."""
Role = Literal[
    "controller",
    "processor",
    "covered_entity",
    "business_associate",
    "data_owner",
    "service_provider",
]
"""What the organisation is toward the data in an incident, in each family of laws' own words:
controller/processor (GDPR and laws like it), covered entity/business associate (HIPAA), data
owner (or licensee)/service provider that maintains data it does not own (US state laws)."""
OWNER_ROLES: frozenset[Role] = frozenset({"controller", "covered_entity", "data_owner"})
"""The roles that decide about the data: assumed when the organisation names no role."""
Confidence = Literal["high", "medium", "low"]
Phase = Literal["initial", "intermediate", "final", "follow_up"]
LetterElement = Literal[
    "nature",
    "dates",
    "data_involved",
    "consequences",
    "measures",
    "advice",
    "contact",
    "complaint",
    "delay_reason",
    "law_enforcement_delay",
    "notice_date",
    "california_format",
    "credit_bureaus",
    "federal_agencies",
    "state_agencies",
    "security_freeze",
    "police_report",
    "password_change",
    "mitigation_services",
]
"""What a notice to people may have to contain; each is a part of the letter (see
`notifications/drafting/contents.py` for where each appears)."""
Omission = Literal["nature", "count"]
"""What a law forbids its notice to state (M.G.L. c. 93H s. 3(b): the nature of the breach and
the number of residents affected)."""

# fmt: off
EU_MEMBERS = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
EEA_MEMBERS = EU_MEMBERS | {"IS", "LI", "NO"}
TERRITORY_GROUPS: Mapping[str, frozenset[str]] = {"EU": EU_MEMBERS, "EEA": EEA_MEMBERS}

CODE_PATTERN = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")
"""ISO 3166-1 alpha-2 (DE) or ISO 3166-2 (US-CA)."""
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_REF = re.compile(r"([a-z0-9-]+)/([a-z0-9-]+)")


def _territory(value: str) -> str:
    if value in TERRITORY_GROUPS or CODE_PATTERN.fullmatch(value):
        return value
    raise ValueError(
        f"{value!r} is not a territory: use ISO 3166-1 alpha-2 (DE), ISO 3166-2 (US-CA), EU or EEA"
    )


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError(f"{value!r} is not an id: lower-case letters, digits and hyphens")
    return value


def _ref(value: str) -> str:
    if not _REF.fullmatch(value):
        raise ValueError(f"{value!r} is not an obligation reference such as 'gdpr/authority'")
    return value


def _url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"{value!r} is not an http(s) link to the source text")
    return value


def _timezone(value: str) -> str:
    zone(value)
    return value


ENTITY_TYPE_PATTERN = re.compile(r"[a-z0-9_]{1,64}")
"""What an entity type looks like (the organisation profile's `entity_type`): a regime's entity
type that could never match one is a typo."""


def _entity_type(value: str) -> str:
    if not ENTITY_TYPE_PATTERN.fullmatch(value):
        raise ValueError(f"{value!r} is not an entity type: lower-case letters, digits and "
                         "underscores (information_broker)")
    return value


Territory = Annotated[str, AfterValidator(_territory)]
EntityType = Annotated[str, AfterValidator(_entity_type),
                       Documented({"pattern": f"^{ENTITY_TYPE_PATTERN.pattern}$"})]
Slug = Annotated[str, AfterValidator(_slug), Documented({"pattern": f"^{_SLUG.pattern}$"})]
OBLIGATION_REF_PATTERN = f"^{_REF.pattern}$"
ObligationRef = Annotated[str, AfterValidator(_ref), Documented({"pattern": OBLIGATION_REF_PATTERN})]
Url = Annotated[str, AfterValidator(_url)]
TimeZoneName = Annotated[str, AfterValidator(_timezone),
                         Documented({"enum": sorted(available_timezones())})]


SAME_PLACE: Mapping[str, str] = {
    "AS": "US-AS", "GU": "US-GU", "MP": "US-MP", "PR": "US-PR", "UM": "US-UM", "VI": "US-VI",
}
"""Places with two ISO codes: the US territories have their own ISO 3166-1 code (PR) and are
ISO 3166-2 subdivisions of the United States (US-PR). A person's residence or an organisation's
country may be recorded either way; each is read as its subdivision code."""


def same_place(code: str) -> str:
    """The one code a place with two ISO codes is read as ("PR" and "US-PR": "US-PR")."""
    return SAME_PLACE.get(code, code)


def territory_matches(code: str, territory: str) -> bool:
    """Does a place of residence or establishment `code` lie in `territory`?

    "US-CA" lies in "US-CA" and in "US"; "DE" and "DE-BY" lie in "EU" and "EEA";
    a bare "US" (state unknown) does not lie in "US-CA". A territory recorded by its own
    country code lies where its subdivision code does (`SAME_PLACE`): "PR" lies in "US-PR"
    and in "US", and "US-PR" in "PR".
    """
    code, territory = same_place(code), same_place(territory)
    country = code.split("-", 1)[0]
    if territory in TERRITORY_GROUPS:
        return country in TERRITORY_GROUPS[territory]
    return code == territory or (country == territory and "-" not in territory)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """When something applies. All fields given must hold; `any_of` needs one branch.

    Territorial tests: `affected_in` needs at least one affected person in one of the
    territories; `established_in` tests where the organisation is established: its principal
    place of business where known (US-WI: Wis. Stat. 134.98(2)(a)), else its country. The kind of
    entity: `entity_types` needs the organisation's entity type to be one of them,
    `not_entity_types` none of them (an entity type not given is none); `owner_entity_types`
    needs the data to be maintained on behalf of an owner of one of these types (O.C.G.A.
    10-1-912(b): "on behalf of an information broker or data collector"): while the incident
    does not record its owners' types, this is assumed, and said, so the duty is not missed.
    Thresholds:
    `min_affected` counts the people in `count_in` (everyone when absent); with
    `per_territory` the count is taken per jurisdiction code and the largest must reach
    it (HIPAA's "more than 500 residents of a State"). `min_risk` is the assessed risk
    (none < risk < high); `data_categories` needs any one of them; `malicious` tests
    whether the incident involved a wrongful purpose (attack, theft). `roles` needs the
    organisation to act in one of these roles in the incident (a controller's duty does not fall
    on a pure processor; a processor's duty to its controller does not fall on a controller).
    The circumstances of the data (the incident's own record, `facts.Incident`): `in_clear`
    is data that was not unintelligible to whoever took it (not encrypted, or encrypted with a
    key that was also acquired, and not redacted); `encrypted`, `state_of_the_art` (the
    encryption met the standard the law asks), `key_compromised` and `redacted` test each
    fact alone. `harm_documented_not_likely` is a written determination that misuse or harm
    is not reasonably likely; `law_enforcement_consulted` and `inadvertent_disclosure` (by
    people authorised to see the data) are what some laws ask of that determination.
    """

    affected_in: tuple[Territory, ...] | None = None
    established_in: tuple[Territory, ...] | None = None
    flags: tuple[Flag, ...] = ()
    entity_types: tuple[EntityType, ...] | None = None
    not_entity_types: Annotated[tuple[EntityType, ...], Field(min_length=1)] | None = None
    owner_entity_types: Annotated[tuple[EntityType, ...], Field(min_length=1)] | None = None
    min_affected: Annotated[int, Field(ge=1)] | None = None
    count_in: tuple[Territory, ...] | None = None
    per_territory: bool = False
    min_risk: Risk | None = None
    data_categories: tuple[DataCategory, ...] | None = None
    malicious: bool | None = None
    roles: Annotated[tuple[Role, ...], Field(min_length=1)] | None = None
    in_clear: bool | None = None
    encrypted: bool | None = None
    state_of_the_art: bool | None = None
    key_compromised: bool | None = None
    redacted: bool | None = None
    harm_documented_not_likely: bool | None = None
    law_enforcement_consulted: bool | None = None
    inadvertent_disclosure: bool | None = None
    any_of: tuple[Condition, ...] | None = None

    @model_validator(mode="after")
    def _count_needs_threshold(self) -> Condition:
        if (self.count_in is not None or self.per_territory) and self.min_affected is None:
            raise ValueError("count_in and per_territory only make sense with min_affected")
        return self


class MetTrigger(_Strict):
    """A follow-up: the clock starts when another obligation was fulfilled."""

    met: ObligationRef


def _trigger_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "name"
    if isinstance(value, dict | MetTrigger):
        return "met"
    return None


Trigger = Annotated[
    Annotated[TriggerName, Tag("name")] | Annotated[MetTrigger, Tag("met")],
    Discriminator(
        _trigger_kind,
        custom_error_type="trigger",
        custom_error_message="a trigger is an event name such as aware_at, or {met: regime/obligation}",
    ),
]


def trigger_label(trigger: Trigger) -> str:
    """The trigger as shown to people: "aware_at" or "met:nis2/notification"."""
    return trigger if isinstance(trigger, str) else f"met:{trigger.met}"


class OuterLimit(_Strict):
    """A second clock on another trigger; the earlier due time wins (DORA's 24 h cap)."""

    trigger: Trigger
    deadline: DeadlineRule


class NoLaterThan(_Strict):
    """A limit tied to another duty's notice: this one is given no later than that one ("at the
    same time the security breach is disclosed to an affected individual or within forty-five
    (45) days ..., whichever occurs first", Ark. Code 4-110-105(b)(2); "prior to giving the
    notification required under subsection (b)", Md. Code Com. Law 14-3504(h)).

    Once the duty `met` names is recorded as fulfilled, this one is due at that instant at the
    latest; until then, at the latest when that one is due (a notice that must precede or
    accompany another cannot be later than the other may be), and its target no later than
    the other's. Where that duty does not apply, there is no such limit. `citation` is the text
    that ties the two."""

    met: ObligationRef
    citation: str


class Variant(_Strict):
    """A different deadline under a condition (small agents, wrongful purpose, ...)."""

    when: Condition
    deadline: DeadlineRule
    note: str


class WeekendRelief(_Strict):
    """A due time on a non-working day may move to `until` on the next working day.

    `calendar: establishment` uses the holidays of the organisation's country.
    """

    until: str
    calendar: str = "establishment"
    not_for: Condition | None = None

    @field_validator("calendar")
    @classmethod
    def _calendar(cls, value: str) -> str:
        return value if value == "establishment" else _territory(value)

    @field_validator("until", mode="before")
    @classmethod
    def _quoted_time(cls, value: Any) -> Any:
        if not isinstance(value, str) or not re.fullmatch(r"\d\d:\d\d", value):
            raise ValueError('write the time of day as a quoted "HH:MM" string')
        return value


Territories = Annotated[tuple[Territory, ...], Field(min_length=1)]


class Protects(_Strict):
    """Which of the affected people an obligation owed to people protects, by its law's own
    territorial rule.

    `people_in`: only the people whose residence (the snapshot's jurisdiction) lies in one
    of these territories; absent, every affected person wherever they live. With
    `everyone_if_established_in`, an organisation established in one of those territories
    owes the notice to every affected person, and any other only to `people_in` (GDPR
    Art. 3(1) and (2)). `citation` is the text of the rule for the people,
    `established_citation` that of the rule for the establishment; `confidence` is how sure
    our reading of them is.
    """

    people_in: Territories | None = None
    citation: str
    everyone_if_established_in: Territories | None = None
    established_citation: str | None = None
    confidence: Confidence
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _establishment_rule(self) -> Protects:
        if (self.everyone_if_established_in is None) != (self.established_citation is None):
            raise ValueError("everyone_if_established_in and established_citation go together: "
                             "the establishment rule needs its own citation")
        if self.everyone_if_established_in is not None and self.people_in is None:
            raise ValueError("everyone_if_established_in needs people_in: without it every "
                             "affected person is protected anyway")
        return self


class Element(_Strict):
    """Why a notice contains one element: the provision asking for it; `if_exposed` limits it
    to the people whose exposed data includes one of these categories."""

    citation: str
    if_exposed: tuple[DataCategory, ...] = ()


class Agency(_Strict):
    """An agency a notice names, with how to reach it."""

    name: str
    phone: str
    website: Url
    address: str | None = None


class Authority(_Strict):
    """Who receives a report the law requires, and how it is filed: the body's name, postal
    address and website, the way its reports are made (`filing`: a portal, a form, an
    e-mail address), where that was read (`source`) and when."""

    name: str
    address: str
    website: Url
    filing: str
    email: str | None = None
    phone: str | None = None
    source: Url
    reviewed: date


class Contacts(_Strict):
    """Nationwide agencies a notice names where a law asks (`regimes/contacts/*.yaml`)."""

    reviewed: date
    confidence: Confidence
    sources: tuple[Url, ...] = Field(min_length=1)
    credit_bureaus: tuple[Agency, ...]
    federal_agencies: tuple[Agency, ...]


class Letter(_Strict):
    """What the law asks a notice to people to contain (`elements`, each with its citation),
    and whether its notice must stand alone: `own_letter` says why it cannot be one letter
    with another law's notice (its text forbids something the others require, `omits`).
    `agencies` are the state agencies the notice names (element `state_agencies`)."""

    elements: Mapping[LetterElement, Element]
    own_letter: str | None = None
    omits: tuple[Omission, ...] = ()
    agencies: tuple[Agency, ...] = ()

    @field_validator("elements", mode="before")
    @classmethod
    def _citations(cls, value: Any) -> Any:
        """`nature: "GDPR Art. 34(2)"` is short for `nature: {citation: "GDPR Art. 34(2)"}`."""
        if isinstance(value, Mapping):
            return {k: {"citation": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Letter:
        if not self.elements:
            raise ValueError("a letter lists at least one element with its citation")
        if self.omits and self.own_letter is None:
            raise ValueError("omits needs own_letter: a notice that must leave something out "
                             "cannot be one letter with notices that must state it")
        if ("state_agencies" in self.elements) != bool(self.agencies):
            raise ValueError("the element state_agencies and the list agencies go together")
        clash = set(self.omits) & set(self.elements)
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))} cannot be both required and omitted")
        return self


class Version(_Strict):
    """An earlier wording of an obligation: in force until `until` (a day of the law's own
    calendar, inclusive), since the day after the previous one ended (or the duty's
    `in_force_from`). It states only what differed from the obligation's body; `name` says
    which text it was ("HB 4 (2019)"), `citation` where it can be read."""

    name: str
    until: date
    recipient_name: str | None = None
    deadline: DeadlineRule | None = None
    variants: tuple[Variant, ...] | None = None
    also_when: Condition | None = None
    """A condition this wording had on top of the obligation's own (a narrower definition of
    the data it covered, say)."""
    content: tuple[str, ...] | None = None
    citation: str | None = None
    source: Url | None = None
    notes: tuple[str, ...] | None = None


class SafeHarbour(_Strict):
    """A circumstance in which the law says its duty does not arise (data encrypted with a safe
    key, a documented finding that misuse is not reasonably likely), from the law's own text.

    When `when` holds for an incident the obligation does not apply, and its `why` cites this."""

    when: Condition
    citation: str
    confidence: Confidence
    note: str


DelayEffect = Literal["until_end", "after_end", "replace"]
"""How a law's clock behaves while and after law enforcement asks for a delay:
`until_end`: the notice is suspended while the delay lasts and is due at its end (or at the
original due time, whichever is later: "promptly after the agency determines that notice will
not compromise the investigation"); `after_end`: a new clock (`after_end`) runs from the end of
the delay, and the later of it and the original due time holds (C.R.S. 6-1-716(2)(c): "not later
than thirty days after"); `replace`: the new clock (`after_end`) takes the place of the original
one, earlier or later (10 M.R.S. 1348(3): "no more than 7 business days after a law enforcement
agency determines that the notification will not compromise a criminal investigation", where the
30-day limit of 1348(1) applies only to a notice not so delayed)."""


class LawEnforcementDelay(_Strict):
    """What a law lets a law-enforcement request do to its clock (see `delays.py`).

    `written_only`: only a request in writing delays the notice (Fla. Stat. 501.171(4)(b)).
    `oral_limit_days`: a request not in writing delays it at most this many days after it was
    made (45 CFR 164.412(b): 30 days, unless a written statement follows)."""

    citation: str
    confidence: Confidence
    effect: DelayEffect
    after_end: DeadlineRule | None = None
    written_only: bool = False
    oral_limit_days: Annotated[int, Field(ge=1)] | None = None
    note: str

    @model_validator(mode="after")
    def _clock_after_end(self) -> LawEnforcementDelay:
        if (self.effect in ("after_end", "replace")) != (self.after_end is not None):
            raise ValueError("effects after_end and replace need the deadline rule after_end, "
                             "and only they take one")
        if self.written_only and self.oral_limit_days is not None:
            raise ValueError("written_only and oral_limit_days exclude each other")
        return self


class SubstituteNotice(_Strict):
    """When the law lets a public communication stand in for a person's own notice (GDPR Art.
    34(3)(c): "disproportionate effort"; a US state's "substitute notice"), and what it must be.

    `conditions` are the law's alternatives, in its words: any one of them suffices, and the
    person recording a public communication says which one held. `means` is what the
    communication must consist of (all of them, unless the law says otherwise in `note`).
    A person reached this way counts as reached for this duty only."""

    conditions: tuple[str, ...] = Field(min_length=1)
    means: tuple[str, ...] = Field(min_length=1)
    citation: str
    confidence: Confidence
    note: str | None = None


class AssumedClock(_Strict):
    """Until an obligation's own trigger is recorded, its clock counted from `trigger` as if
    that trigger had happened then, and marked assumed, so the earliest due time is visible
    from the start (a NIS2 duty counted from awareness until the incident is found
    significant). `decision` names what recording the real trigger decides ("NIS2
    significant"), for the reminder to make it; `citation` says why the law allows no later
    start in the meantime."""

    trigger: TriggerName
    decision: str
    citation: str


class Obligation(_Strict):
    """One duty to tell someone something by some time.

    An obligation owed to people (`recipient: individuals`) must say whom it protects
    (`protects`); no other may: the loader refuses a file that leaves it out.
    """

    id: Slug
    recipient: Recipient
    recipient_name: str
    phase: Phase | None = None
    trigger: Trigger
    deadline: DeadlineRule
    outer_limit: OuterLimit | None = None
    no_later_than: NoLaterThan | None = None
    """Another duty's notice this one may not come after (a limit, not a start: see
    `NoLaterThan`; a start is `trigger: {met: ...}`)."""
    arises_with: ObligationRef | None = None
    """Another duty this one arises only with ("if a covered entity discovers circumstances
    requiring notice under Section 8-38-5 of more than 1,000 individuals", Ala. Code 8-38-7):
    where that duty does not arise (its conditions, safe harbours or wording in force say so),
    neither does this one. Its own clock still runs from its own trigger."""
    variants: tuple[Variant, ...] = ()
    weekend_relief: WeekendRelief | None = None
    when: Condition | None = None
    in_force_from: date | None = None
    in_force_until: date | None = None
    version: str | None = None
    """The name of the wording the body states ("SB 446 (2025)"), in force from the day after
    the last of `earlier` ended."""
    earlier: tuple[Version, ...] = ()
    """Earlier wordings, oldest first; a breach whose clock started while one was in force is
    governed by it (`versions.py`)."""
    content: tuple[str, ...] = Field(min_length=1)
    citation: str
    source: Url
    notes: tuple[str, ...] = ()
    protects: Protects | None = None
    complaint: str | None = None
    """For an obligation owed to people: the article giving them the right to complain to a
    supervisory authority, when its law gives one; their notice then names that authority."""
    letter: Letter | None = None
    """For an obligation owed to people: what its notice must contain."""
    safe_harbours: tuple[SafeHarbour, ...] = ()
    """Circumstances in which the law says this duty does not arise, each cited."""
    law_enforcement_delay: LawEnforcementDelay | None = None
    """Whether, and how, a law-enforcement request to delay moves this duty's clock."""
    substitute_notice: SubstituteNotice | None = None
    """For an obligation owed to people: when a public communication may take the place of
    notice to a person the notice did not reach (absent: the law allows none)."""
    confidence: Confidence | None = None
    """How sure our reading of this duty is, where it differs from the regime's."""
    reviewed: date | None = None
    """When this duty's sources were last checked, where it differs from the regime's."""
    assume_from: AssumedClock | None = None
    """Until the trigger is recorded, count the clock from another event, marked assumed."""
    authority: Authority | None = None
    """For a report to an authority or regulator: the body, its address and how reports are
    filed (the organisation profile names the contact actually used)."""

    @model_validator(mode="after")
    def _assumed_clock(self) -> Obligation:
        if self.assume_from is not None and (
                not isinstance(self.trigger, str) or self.assume_from.trigger == self.trigger):
            raise ValueError("assume_from stands in for a named trigger (such as "
                             "classified_major_at) with another event (such as aware_at)")
        return self

    @model_validator(mode="after")
    def _versions_in_order(self) -> Obligation:
        days = [v.until for v in self.earlier]
        if days != sorted(set(days)):
            raise ValueError("earlier versions are listed oldest first, each ending on a later day")
        if self.earlier and self.version is None:
            raise ValueError("an obligation with earlier versions names its current one: add version")
        if self.in_force_from and days and days[0] < self.in_force_from:
            raise ValueError(f"earlier version ending {days[0]} ends before the duty's in_force_from")
        if self.in_force_until and ((days and self.in_force_until <= days[-1])
                                    or (self.in_force_from and self.in_force_until < self.in_force_from)):
            raise ValueError("in_force_until must come after in_force_from and every earlier version")
        return self

    @model_validator(mode="after")
    def _protects_only_people(self) -> Obligation:
        if self.recipient == PEOPLE and self.protects is None:
            raise ValueError("an obligation owed to individuals must say whom its law protects: "
                             "add protects (people_in, citation, confidence; people_in absent "
                             "means every affected person)")
        if self.recipient == PEOPLE and self.letter is None:
            raise ValueError("an obligation owed to individuals must say what its notice "
                             "contains: add letter.elements, each with its citation")
        if self.authority is not None and self.recipient not in ("authority", "regulator"):
            raise ValueError(f"authority is only for reports to an authority or regulator, "
                             f"not to recipient {self.recipient!r}")
        for name in ("protects", "complaint", "letter", "substitute_notice"):
            if self.recipient != PEOPLE and getattr(self, name) is not None:
                raise ValueError(f"{name} is only for obligations owed to individuals, not to "
                                 f"recipient {self.recipient!r}")
        return self


class Regime(_Strict):
    """One law's breach-notification duties, as written in one YAML file."""

    id: Slug
    name: str
    jurisdiction: Territory
    sources: tuple[Url, ...] = Field(min_length=1)
    timezone: TimeZoneName | None = None
    applies: Condition
    in_force_from: date | None = None
    confidence: Confidence
    reviewed: date
    notes: tuple[str, ...] = ()
    obligations: tuple[Obligation, ...] = Field(min_length=1)

    @field_validator("obligations")
    @classmethod
    def _unique_ids(cls, value: tuple[Obligation, ...]) -> tuple[Obligation, ...]:
        seen: set[str] = set()
        for obligation in value:
            if obligation.id in seen:
                raise ValueError(f"obligation id {obligation.id!r} appears twice")
            seen.add(obligation.id)
        return value

    def obligation(self, obligation_id: str) -> Obligation | None:
        """The obligation with this id, or None."""
        return next((o for o in self.obligations if o.id == obligation_id), None)

    def sourcing(self, obligation: Obligation) -> tuple[Confidence, date]:
        """How sure we are of one duty and when its sources were last checked: its own
        values where its file gives them, else the regime's."""
        return obligation.confidence or self.confidence, obligation.reviewed or self.reviewed


@dataclass(frozen=True)
class Catalogue:
    """The loaded regimes, by id, in file-name order."""

    regimes: tuple[Regime, ...]

    def __iter__(self) -> Iterator[Regime]:
        return iter(self.regimes)

    def __len__(self) -> int:
        return len(self.regimes)

    def get(self, regime_id: str) -> Regime | None:
        """The regime with this id, or None."""
        return next((r for r in self.regimes if r.id == regime_id), None)

    def obligation(self, ref: str) -> tuple[Regime, Obligation] | None:
        """Resolve "regime/obligation" to both, or None when either is unknown."""
        regime_id, _, obligation_id = ref.partition("/")
        regime = self.get(regime_id)
        obligation = regime.obligation(obligation_id) if regime else None
        return (regime, obligation) if regime and obligation else None
