"""A report's authority as the notification pages show it: the contact the organisation profile
names for it (the address a report is sent to) beside the regime catalogue's entry (who takes
the report, its address, and how reports are filed), so that whoever drafts, approves or files
a report knows where it goes and, where the profile has no e-mail address for it, what to do
instead (templates/web/authority_note.html)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.auth import Actor
from incident.lifecycle.models import Incident
from notifications.drafting.models import Notification
from notifications.drafting.requirements import authority_contact
from notifications.drafting.rules import UNSENT, NotificationKind, NotificationStatus
from notifications.drafting.service import authority_of
from notifications.obligations.models import OrganisationProfile
from notifications.obligations.regimes import Authority
from notifications.obligations.service import get_profile


@dataclass(frozen=True)
class AuthorityNote:
    """Where the reports of one obligation go."""

    ref: str
    catalogue: Authority | None
    """The regime catalogue's entry for the authority (None: its file names none)."""
    contact: Mapping[str, Any]
    """The organisation profile's contact for it: the obligation's own entry, else its
    regime's ({} where there is none)."""

    @property
    def used(self) -> str:
        """The profile's contact as one line: name, e-mail address, postal address."""
        return ", ".join(str(self.contact[member]) for member in ("name", "email", "address")
                         if self.contact.get(member))

    @property
    def sendable(self) -> bool:
        """Whether a report can go from here: the profile has an e-mail address for it."""
        return bool(self.contact.get("email"))


def authority_note(ref: str, profile: OrganisationProfile | None) -> AuthorityNote:
    """Where the reports of obligation `ref` go, by the profile and the catalogue in use."""
    contacts: Mapping[str, Mapping[str, Any]] = (profile.authorities or {}) if profile else {}
    return AuthorityNote(ref, authority_of(ref), authority_contact(ref, contacts) or {})


async def authority_notes(db: AsyncSession, refs: Iterable[str]) -> dict[str, AuthorityNote]:
    """Where the reports of each obligation of `refs` go."""
    profile = await get_profile(db)
    return {ref: authority_note(ref, profile) for ref in refs}


async def notification_section(request: Request[Any, Any, Any], db: AsyncSession, *,
                               actor: Actor, incident: Incident,
                               notification: Notification) -> dict[str, Any]:
    """A report's page: where it goes (the `notification.page_sections` hook)."""
    if notification.kind != NotificationKind.AUTHORITY_REPORT:
        return {"report_authority": None}
    return {"report_authority": authority_note(notification.ref, await get_profile(db)),
            "report_unsent": NotificationStatus(notification.status) in UNSENT}
