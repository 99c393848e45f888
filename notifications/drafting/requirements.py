"""What a notice needs before it can be drafted and before it can be approved. Pure rules.

A message is never found broken at preview or at delivery: what the organisation profile
lacks is refused when the draft is made (and again at approval, since the profile may have
changed), and what the draft's own text lacks is refused at approval. Each gap names the
field to fill and why the message needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifications.drafting.rules import NotificationKind
from notifications.drafting.translations import texts_of
from notifications.obligations.regimes import Authority


@dataclass(frozen=True)
class Gap:
    """One thing a message lacks: the field to fill and why the message needs it."""

    field: str
    why: str

    def sentence(self) -> str:
        return f"{self.field}: {self.why}"


def complaint_authority(ref: str, authorities: Mapping[str, Mapping[str, Any]]
                        ) -> Mapping[str, Any] | None:
    """The authority people may complain to under the regime of `ref`, as the profile names it:
    the regime's own entry (`gdpr`), else the entry of its report (`gdpr/authority`)."""
    regime = ref.split("/")[0]
    if regime in authorities:
        return authorities[regime]
    reports = sorted(key for key in authorities if key.startswith(f"{regime}/"))
    return authorities[reports[0]] if reports else None


def authority_contact(ref: str, authorities: Mapping[str, Mapping[str, Any]]
                      ) -> Mapping[str, Any] | None:
    """The address a report of `ref` goes to: the obligation's own entry, else its regime's."""
    return authorities.get(ref) or authorities.get(ref.split("/")[0])


def filing_advice(authority: Authority | None) -> str:
    """How an authority takes reports according to the regime catalogue, and what to do when
    the organisation profile has no e-mail address for it ("" where the catalogue names no
    authority). Some authorities take reports only through a portal or a form: then the report
    is filed there by hand and the obligation recorded as met, saying how."""
    if authority is None:
        return ""
    extra = "".join(f", {label} {value}" for label, value in (("e-mail", authority.email),
                                                               ("phone", authority.phone))
                    if value)
    return (f"how {authority.name} takes reports, according to the regime catalogue (checked "
            f"on {authority.reviewed.isoformat()}): {authority.filing} (website "
            f"{authority.website}{extra}). Where that is a portal or a form, file the report "
            "there by hand and record the obligation as met, saying how it was filed; where it "
            "takes reports by e-mail, add that address to the organisation profile")


NO_PROFILE = Gap("organisation profile", "is not set: an admin completes it on the set-up page "
                 "(/setup), with PUT /api/v1/organisation or `breach organisation set`")
"""What every notice lacks before the organisation's set-up is done."""


def profile_gaps(kind: str, ref: str, profile: Any | None, *,
                 complaint: str | None = None, authority: Authority | None = None) -> list[Gap]:
    """What a message of `kind` for obligation `ref` needs from the organisation profile and
    it lacks. `profile` is the stored profile (its JSON members are plain dicts); `complaint`
    is the article giving people the right to complain to a supervisory authority, when the
    obligation's law gives it (its regime file says so): the notice then names the authority.
    `authority` is the catalogue's entry for a report's authority: a report with no e-mail
    address to go to says how that authority takes reports instead."""
    if kind not in (NotificationKind.SUBJECT_NOTICE, NotificationKind.AUTHORITY_REPORT):
        return []
    if profile is None:
        return [NO_PROFILE]
    gaps: list[Gap] = []
    sender: Mapping[str, Any] = profile.sender or {}
    dpo: Mapping[str, Any] = profile.dpo or {}
    if not sender.get("email"):
        gaps.append(Gap("sender.email", "notices go out under the organisation's own address"))
    if not dpo.get("email"):
        gaps.append(Gap("dpo.email", "every notice names the data protection officer or another "
                                     "contact point (GDPR Art. 33(3)(b), 34(2))"))
    authorities: Mapping[str, Mapping[str, Any]] = profile.authorities or {}
    regime = ref.split("/")[0]
    if kind == NotificationKind.AUTHORITY_REPORT:
        contact = authority_contact(ref, authorities) or {}
        advice = filing_advice(authority)
        for member, why in (("name", "the report is addressed to the authority by name"),
                            ("email", "the report is sent to it by e-mail"
                                      + (f"; {advice}" if advice else ""))):
            if not contact.get(member):
                gaps.append(Gap(f"authorities.{ref}.{member}", why))
    elif complaint:
        contact = complaint_authority(ref, authorities) or {}
        if not contact.get("name"):
            gaps.append(Gap(f"authorities.{regime}.name",
                            "the notice names the supervisory authority people may complain to "
                            f"({complaint})"))
    return gaps


REQUIRED_TEXT: Mapping[str, tuple[tuple[str, str], ...]] = {
    NotificationKind.SUBJECT_NOTICE: (
        ("description", "what happened, in plain language (GDPR Art. 34(2))"),
    ),
    NotificationKind.AUTHORITY_REPORT: (
        ("description", "the nature of the breach (GDPR Art. 33(3)(a))"),
        ("consequences", "the likely consequences of the breach (GDPR Art. 33(3)(c))"),
    ),
}
"""Fields a message of each kind cannot go without, with the article that asks for them."""


def text_gaps(kind: str, fields: Mapping[str, Any], *, sequence: int, due_at: datetime | None,
              now: datetime) -> list[Gap]:
    """What the draft's own text lacks for approval: a required field left empty, the
    measures of a report, the reasons for a late report, what a supplement adds."""
    def empty(name: str) -> bool:
        return not texts_of(fields.get(name), "any")

    gaps = [Gap(name, f"is empty: {why}") for name, why in REQUIRED_TEXT.get(kind, ())
            if empty(name)]
    if kind == NotificationKind.AUTHORITY_REPORT:
        if empty("measures_taken") and empty("measures_proposed"):
            gaps.append(Gap("measures_taken", "is empty, and so are the measures proposed: the "
                            "report states the measures taken or proposed (GDPR Art. 33(3)(d))"))
        if due_at is not None and now > due_at and empty("delay_reason"):
            gaps.append(Gap("delay_reason", "is empty: the report is late, and a late report "
                            "gives the reasons for the delay (GDPR Art. 33(1))"))
        if sequence > 1 and empty("changes"):
            gaps.append(Gap("changes", "is empty: a supplement says what is new since the last "
                            "report (GDPR Art. 33(4))"))
    return gaps
