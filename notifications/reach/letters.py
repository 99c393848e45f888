"""Postal letters for the people a notice by e-mail did not reach: the same letter, on paper.

`postal_letters` gathers, for chosen deliveries of a notice to people, each person's name,
their postal address (the inventory's `Subject.postal_address`, matched by external id) and
the letter rendered exactly as their e-mail is (`Letter.rendered_for`: the notice's approved
version, in the language their letter is written in, with their own name, laws and data),
dated in that language. People with no postal address on record are listed apart: they are
to be reached another way.

The batch is then written out as a CSV for a mail merge (`letters_csv`), or as print-ready
A4 letters (`letters_pdf`): one letter after the other, each starting on a new page, with
the recipient's address where a window envelope shows it, through the project's one PDF
renderer (`notifications.drafting.documents.pdf_of`) and the template
`templates/letters/postal.html`.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.inventory.models import Subject
from incident.inventory.rules import MAX_ADDRESS_LINES
from incident.kernel.errors import Invalid
from incident.kernel.text import spreadsheet_safe
from incident.lifecycle.models import Incident
from notifications.drafting.documents import pdf_of
from notifications.drafting.environment import RenderError, environment
from notifications.drafting.letters import letter_for
from notifications.drafting.models import Delivery, Notification
from notifications.drafting.render import Renderer
from notifications.drafting.rules import CannotRender, NotificationKind
from notifications.obligations.models import OrganisationProfile

TEMPLATE = "letters/postal.html"
CSV_COLUMNS = ("delivery_id", "name",
               *(f"address_line_{n}" for n in range(1, MAX_ADDRESS_LINES + 1)),
               "locale", "subject", "body")
READ_CHUNK = 500
"""Delivery ids asked for in one query (databases bound the parameters of one statement)."""


@dataclass(frozen=True)
class PostalLetter:
    """One person's letter: whom it goes to, where, and what it says."""

    delivery_id: int
    name: str
    address: tuple[str, ...]
    """The postal address lines, the name excluded (at most MAX_ADDRESS_LINES)."""
    locale: str
    """The language the letter is written in (its template locale, `de`, `pt_BR`)."""
    subject: str
    """The e-mail's subject: the letter's subject line."""
    body: str
    """The e-mail's text, as sent."""
    html: str
    """The e-mail's HTML body (what is inside its <body>), for print."""
    date: str
    """The day the letters were made, written in the letter's language (`5. Dezember 2026`)."""


@dataclass(frozen=True)
class Unaddressed:
    """A person the batch has no postal address for: to be reached another way."""

    delivery_id: int
    name: str


@dataclass(frozen=True)
class PostalBatch:
    """Letters for some deliveries of one notice to people, by delivery id."""

    notification_id: int
    reference: str
    """The incident's reference, which the letters quote."""
    letters: tuple[PostalLetter, ...]
    without_address: tuple[Unaddressed, ...]
    next_after: int | None = None
    """More people are still not reached after this batch: the delivery id to go on after
    (`after`); None when the batch holds the last of them, or the deliveries were named."""


async def postal_letters(db: AsyncSession, notification: Notification,
                         delivery_ids: Sequence[int], *, renderer: Renderer,
                         now: datetime) -> PostalBatch:
    """The postal letters for `delivery_ids`, deliveries of `notification` (a notice to
    people), each rendered as the person's e-mail is and dated `now` in its language.

    Invalid for another kind of notification or an id that is not one of its deliveries;
    CannotRender when the letter cannot be rendered from what the notice holds.
    """
    if notification.kind != NotificationKind.SUBJECT_NOTICE:
        raise Invalid.fields([("notification", f"{notification.id} is not a notice to people; "
                                               "only those are sent as postal letters")])
    wanted = sorted(set(delivery_ids))
    found: list[tuple[Delivery, str | None, str | None]] = []
    for start in range(0, len(wanted), READ_CHUNK):
        found.extend((await db.exec(
            select(Delivery, Subject.postal_address, Subject.name)
            .join(Subject, col(Subject.external_id) == col(Delivery.recipient_key), isouter=True)
            .where(col(Delivery.notification_id) == notification.id,
                   col(Delivery.id).in_(wanted[start:start + READ_CHUNK])))).all())
    if unknown := sorted(set(wanted) - {delivery.id for delivery, _, _ in found}):
        shown = ", ".join(map(str, unknown[:10])) + (", …" if len(unknown) > 10 else "")
        raise Invalid.fields([("delivery_ids", f"not deliveries of notification "
                                               f"{notification.id}: {shown}")])
    incident = await db.get(Incident, notification.incident_id)
    letter = await letter_for(db, notification)
    letters: list[PostalLetter] = []
    without: list[Unaddressed] = []
    for delivery, postal_address, subject_name in sorted(found, key=lambda row: row[0].id or 0):
        name = delivery.name or subject_name or ""
        lines = tuple(line for line in (postal_address or "").split("\n") if line.strip())
        if not lines:
            without.append(Unaddressed(delivery.id or 0, name))
            continue
        try:
            rendered = letter.rendered_for(renderer, delivery)
            formats = renderer.formatting(notification.kind, delivery.locale, zone=letter.zone,
                                          fallback=letter.language)
        except RenderError as exc:
            raise CannotRender(f"notification {notification.id} cannot be written as a letter "
                               f"to delivery {delivery.id}: {exc}") from exc
        letters.append(PostalLetter(
            delivery_id=delivery.id or 0, name=name, address=lines[:MAX_ADDRESS_LINES],
            locale=rendered.locale, subject=rendered.subject, body=rendered.text,
            html=_body_of(rendered.html),
            date=format_date(now.astimezone(letter.zone).date(), "long",
                             locale=formats.locale)))
    return PostalBatch(notification_id=notification.id or 0,
                       reference=incident.reference if incident is not None else "",
                       letters=tuple(letters), without_address=tuple(without))


def _body_of(html: str) -> str:
    """What is inside an HTML document's <body> (the message's own markup, already escaped
    by the message templates' environment)."""
    return html.split("<body", 1)[-1].split(">", 1)[-1].rsplit("</body>", 1)[0].strip()


# --- the CSV for a mail merge ----------------------------------------------------------------


def _csv_rows(batch: PostalBatch) -> Iterator[list[str]]:
    for letter in batch.letters:
        address = [*letter.address, *([""] * (MAX_ADDRESS_LINES - len(letter.address)))]
        yield [str(letter.delivery_id), *(spreadsheet_safe(v) for v in (letter.name, *address)),
               letter.locale, spreadsheet_safe(letter.subject), spreadsheet_safe(letter.body)]


def letters_csv(batch: PostalBatch) -> bytes:
    """The letters as UTF-8 CSV for a mail merge, one line per letter: delivery_id, name,
    address_line_1 to address_line_6 (empty when the address has fewer), locale, subject
    and body (the e-mail's text, its line breaks inside the quoted field)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(batch))
    return buffer.getvalue().encode()


# --- the PDF for print -----------------------------------------------------------------------


@lru_cache(maxsize=4)
def _environment(templates: Path) -> SandboxedEnvironment:
    return environment(templates)


def _direction(text: str) -> str:
    """`rtl` when the first strongly directional character of `text` is right-to-left (as
    HTML's dir=auto decides), else `ltr`: an Arabic or Hebrew address line reads from the
    right."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def _tag(locale: str) -> str:
    """A template locale as an HTML language tag (`zh_Hans` -> `zh-Hans`)."""
    return locale.replace("_", "-")


def letters_pdf(batch: PostalBatch, sender: OrganisationProfile, *, templates: Path) -> bytes:
    """The letters as one print-ready A4 PDF, each letter starting on a new page: the sender
    (the organisation, and its data protection officer's contact details), the recipient's
    name and address in the window of a DIN 5008 form B letter (C5/6 or DL window envelope),
    the date and subject line, then the e-mail's text. `templates` is the templates folder
    (`incident.kernel.settings.templates_dir`).

    CPU-bound (about a third of a second per page-filled letter): call it in a worker thread
    (`asyncio.to_thread`), and split large batches. A batch without letters gives one blank
    page."""
    dpo = sender.dpo or {}
    organisation = (sender.sender or {}).get("name") or sender.name
    address = [line.strip() for line in str(dpo.get("address") or "").splitlines()
               if line.strip()]
    values: dict[str, Any] = {
        "organisation": organisation,
        "sender_address": address,
        "return_line": " · ".join([organisation, *address]),
        "contact": [value for value in (dpo.get("email"), dpo.get("phone")) if value],
        "reference": batch.reference,
        "language": _tag(sender.language or "en"),
        "letters": [{"name": letter.name, "date": letter.date,
                     "subject": letter.subject, "language": _tag(letter.locale),
                     "name_dir": _direction(letter.name),
                     "address": [(line, _direction(line)) for line in letter.address],
                     "delivery_id": letter.delivery_id,
                     # rendered by the message templates' own (escaping) environment
                     "text": Markup(letter.html)}  # noqa: S704
                    for letter in batch.letters],
    }
    html = _environment(templates).get_template(TEMPLATE).render(values)
    return pdf_of(html)
