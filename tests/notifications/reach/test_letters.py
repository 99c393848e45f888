"""Postal letters for the people a notice by e-mail did not reach (notifications/reach/letters.py):
the same letter as their e-mail, in their language, with their postal address from the
inventory, as a CSV for a mail merge and as print-ready A4 letters.

GDPR Art. 34(1): "the controller shall communicate the personal data breach to the data
subject without undue delay"; Art. 34(2): the communication "shall describe in clear and
plain language the nature of the personal data breach and contain at least the information
and measures referred to in points (b), (c) and (d) of Article 33(3)" (confidence: high).
The Regulation names no channel; a person an e-mail did not reach has not been
communicated with, so the letter must carry everything the e-mail did: these tests check
it is the e-mail's own text. The layout of the address follows DIN 5008 form B, a standard
rather than a law (confidence: medium, from its published dimensions).
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.errors import Invalid
from incident.kernel.settings import REPOSITORY
from notifications.delivery.models import CapturedMessage
from notifications.drafting.models import Delivery, Notification
from notifications.drafting.render import renderer
from notifications.drafting.rules import DeliveryState
from notifications.obligations.models import OrganisationProfile
from notifications.reach.letters import (
    CSV_COLUMNS,
    PostalBatch,
    PostalLetter,
    Unaddressed,
    letters_csv,
    letters_pdf,
    postal_letters,
)
from tests.factories import (
    PROFILE,
    START,
    SUBJECTS_HEADER,
    Person,
    approved_notice,
    dispatcher,
    incident_body,
)

TEMPLATES = REPOSITORY / "templates"
HEADER = SUBJECTS_HEADER.rstrip("\n") + ",postal_address\n"
PEOPLE = HEADER + (
    'p-1,bernd@example.com,Bernd Müller,de,DE,,crm,contact,,,"Unter den Linden 1\n10117 Berlin"\n'
    'p-2,,Dora Schmidt,de,DE,,crm,contact,,,"Hauptstraße 5\nHinterhaus\n10115 Berlin"\n'
    'p-3,,Carla Ruiz,es,ES,,crm,contact,,,"Calle Mayor 1\n28013 Madrid\nEspaña"\n'
    'p-4,,"=HYPERLINK(""http://evil.example"")",de,DE,,crm,contact,,,"+49 Lane 1\n-Town"\n'
    "p-5,,Emil Wagner,de,DE,,crm,contact,,,\n"
    'p-6,,山田 太郎,ja,DE,,crm,contact,,,"〒100-0001\n東京都千代田区千代田1-1"\n'
    'p-7,,ليلى حسن,ar,DE,,crm,contact,,,"شارع التحرير 1\nBerlin 10119"\n')
"""Seven people in Germany: one reachable by e-mail, six not (no address on record), of whom
five have a postal address; in German, Spanish, Japanese and Arabic (no template: the
organisation's language)."""
NAMES = ["Dora Schmidt", "Carla Ruiz", '=HYPERLINK("http://evil.example")', "山田 太郎",
         "ليلى حسن"]
POPPLER = shutil.which("pdftotext") and shutil.which("pdfinfo")


def pages_of(pdf: Path) -> list[str]:
    """The text of each page of `pdf`, as pdftotext lays it out (pdfinfo counts the pages)."""
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    pages = int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return text.split("\f")[:pages]


async def sent_notice(client: httpx.AsyncClient, people: dict[str, Person]) -> int:
    """A notice to PEOPLE, approved in every language and sent: its id."""
    admin, responder = people["admin"], people["responder"]
    profile = {**PROFILE, "dpo": {**PROFILE["dpo"], "address": "Beispielweg 1\n10115 Berlin"}}
    assert (await client.put("/api/v1/organisation", json=profile,
                             headers=admin.headers)).status_code == 200
    await client.put("/api/v1/systems/crm", json={"name": "CRM"}, headers=admin.headers)
    imported = await client.post("/api/v1/subjects/import", content=PEOPLE.encode(),
                                 headers={**admin.headers, "content-type": "text/csv"})
    assert imported.json()["imported"] == 7, imported.text
    created = await client.post("/api/v1/incidents", json=incident_body(),
                                headers=responder.headers)
    reference = created.json()["reference"]
    await client.put(f"/api/v1/incidents/{reference}/scope", json={}, headers=responder.headers)
    await client.post(f"/api/v1/incidents/{reference}/affected", headers=responder.headers)
    await client.get(f"/api/v1/incidents/{reference}/obligations", headers=responder.headers)
    url = await approved_notice(client, people, reference)
    counted = (await client.get(f"{url}/send-preview", headers=responder.headers)).json()
    sent = await client.post(f"{url}/send", headers=responder.headers,
                             json={"confirm": counted["recipients"]})
    assert sent.status_code == 202, sent.text
    return int(url.rsplit("/", 1)[1])


async def batch_for_the_unreached(engine: AsyncEngine, clock: FixedClock,
                                  notification_id: int) -> PostalBatch:
    async with session_factory(engine)() as db:
        notification = await db.get(Notification, notification_id)
        assert notification is not None
        failed = (await db.exec(select(Delivery.id).where(
            Delivery.notification_id == notification_id,
            Delivery.state == DeliveryState.FAILED.value))).all()
        assert len(failed) == 6  # everyone without an e-mail address, at once
        return await postal_letters(db, notification, [i for i in failed if i is not None],
                                    renderer=renderer(TEMPLATES), now=clock.now())


async def e_mail_text(engine: AsyncEngine, clock: FixedClock) -> str:
    """The text of the one e-mail sent (to Bernd Müller, in German)."""
    assert await dispatcher(engine, clock).run_once() == 1
    async with session_factory(engine)() as db:
        [captured] = (await db.exec(select(CapturedMessage))).all()
    body = message_from_bytes(captured.raw, policy=policy.default).get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


async def test_the_unreached_get_their_e_mail_as_a_letter_in_their_language(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    notification_id = await sent_notice(client, people)
    sent_text = await e_mail_text(engine, clock)
    batch = await batch_for_the_unreached(engine, clock, notification_id)

    assert [letter.name for letter in batch.letters] == NAMES
    assert [(u.name, type(u)) for u in batch.without_address] == [("Emil Wagner", Unaddressed)]
    rows = list(csv.DictReader(io.StringIO(letters_csv(batch).decode("utf-8"))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    dora, carla, _, yamada, laila = rows
    assert [dora[f"address_line_{n}"] for n in range(1, 7)] == [
        "Hauptstraße 5", "Hinterhaus", "10115 Berlin", "", "", ""]
    assert (dora["locale"], carla["locale"], yamada["locale"], laila["locale"]) == (
        "de", "es", "ja", "en")
    # The same letter as the e-mail to a reader of the same language, laws and data.
    assert dora["body"].strip() == sent_text.strip().replace("Bernd Müller", "Dora Schmidt")
    assert "Guten Tag Dora Schmidt," in dora["body"] and "(de) A laptop was stolen." in dora["body"]
    assert "Wichtige Information" in dora["subject"]
    assert "Estimado/a Carla Ruiz:" in carla["body"] and "(es) A laptop was stolen." in carla["body"]
    assert "山田 太郎 様" in yamada["body"]
    assert "Dear ليلى حسن," in laila["body"]
    assert yamada["address_line_1"] == "〒100-0001"
    assert int(dora["delivery_id"]) == batch.letters[0].delivery_id


async def test_the_csv_cannot_run_formulas_in_a_spreadsheet(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    """OWASP CSV injection: a cell starting with = + - @ tab or CR is quoted with '."""
    notification_id = await sent_notice(client, people)
    batch = await batch_for_the_unreached(engine, clock, notification_id)
    [formula] = [row for row in csv.DictReader(io.StringIO(letters_csv(batch).decode()))
                 if "HYPERLINK" in row["name"]]
    assert formula["name"] == "'=HYPERLINK(\"http://evil.example\")"
    assert (formula["address_line_1"], formula["address_line_2"]) == ("'+49 Lane 1", "'-Town")
    assert formula["body"].startswith("Guten Tag =HYPERLINK")  # inside a cell: harmless


@pytest.mark.skipif(not POPPLER, reason="needs poppler-utils (pdftotext, pdfinfo)")
async def test_the_pdf_has_each_letter_on_its_own_pages_with_the_address_in_the_window(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, tmp_path: Path) -> None:
    notification_id = await sent_notice(client, people)
    batch = await batch_for_the_unreached(engine, clock, notification_id)
    async with session_factory(engine)() as db:
        profile = await db.get(OrganisationProfile, 1)
    assert profile is not None
    pdf = letters_pdf(batch, profile, templates=TEMPLATES)
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "letters.pdf"
    path.write_bytes(pdf)
    printed = pages_of(path)
    # Every page is footed with its letter's delivery id: each letter starts on a new page
    # and its pages follow each other, in the batch's order.
    owners = [next(letter.delivery_id for letter in batch.letters
                   if f"{batch.reference} · {letter.delivery_id}" in page) for page in printed]
    assert owners == sorted(owners) and set(owners) == {x.delivery_id for x in batch.letters}
    first_pages = {owner: printed[owners.index(owner)] for owner in owners}
    for letter in batch.letters:
        first = first_pages[letter.delivery_id]
        assert letter.address[-1] in first, (letter.name, first[:600])
        assert "Beispielweg 1" in first and "Example GmbH" in first
    dora, carla = (first_pages[letter.delivery_id] for letter in batch.letters[:2])
    assert "Dora Schmidt" in dora and "Hauptstraße 5" in dora and "Hinterhaus" in dora
    # Dated by the service's clock, in the letter's language.
    assert "10. März 2026" in dora and "10 de marzo de 2026" in carla
    assert "Guten Tag Dora Schmidt," in dora and "Estimado/a Carla Ruiz:" in carla
    assert "100-0001" in first_pages[batch.letters[3].delivery_id]


def test_an_address_sits_in_the_window_of_a_din_5008_letter(tmp_path: Path) -> None:
    """DIN 5008 form B: the address field 45 to 90 mm from the top, 20 mm from the left."""
    if not shutil.which("pdftotext"):
        pytest.skip("needs poppler-utils (pdftotext)")
    letter = PostalLetter(delivery_id=1, name="Dora Schmidt", address=("Hauptstraße 5",
                          "10115 Berlin"), locale="de", subject="Betreff", body="Text",
                          html="<div><p>Text</p></div>", date="10. März 2026")
    profile = OrganisationProfile(name="Example GmbH", country="DE", timezone="Europe/Berlin",
                                  dpo={"address": "Beispielweg 1\n10115 Berlin"},
                                  updated_at=START, updated_by="tests")
    pdf = letters_pdf(PostalBatch(1, "BR-2026-0001", (letter,), ()), profile, templates=TEMPLATES)
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    boxes = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True,
                           capture_output=True, text=True).stdout
    millimetre = 72 / 25.4
    found: dict[str, tuple[float, float]] = {}
    for line in boxes.splitlines():
        if "<word" in line and (">Dora<" in line or ">Hauptstraße<" in line):
            attrs = dict(part.split("=", 1) for part in line.strip().split()[1:5])
            word = line.split(">", 1)[1].split("<", 1)[0]
            found.setdefault(word, (float(attrs["xMin"].strip('"')) / millimetre,
                                    float(attrs["yMin"].strip('"')) / millimetre))
    # Below the return address (5 mm) and the remarks zone (12.7 mm), at the window's left.
    x, top = found["Dora"]
    assert 19.5 <= x <= 21 and 45 + 17.7 - 0.5 <= top <= 90, found
    x, top = found["Hauptstraße"]
    assert 19.5 <= x <= 21 and found["Dora"][1] < top < 90, found


async def test_only_deliveries_of_the_notice_are_written(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    notification_id = await sent_notice(client, people)
    async with session_factory(engine)() as db:
        notification = await db.get(Notification, notification_id)
        assert notification is not None
        with pytest.raises(Invalid, match="not deliveries of notification"):
            await postal_letters(db, notification, [10_000], renderer=renderer(TEMPLATES),
                                 now=clock.now())
