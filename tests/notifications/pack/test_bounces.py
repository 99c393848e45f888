"""The bounce reports in the evidence pack: each report about a delivery listed with its
SHA-256 in the notification's bounces.csv, and its message kept byte for byte under the
same rule as the messages sent (always for a report to an authority; for a notice to people,
only in a pack taken by someone who may read personal data). The manifest lists every kept
report with the same SHA-256, so verify.py notices one that was changed.

RFC 3464 §2: a delivery status notification is the evidence that a message was not
delivered; RFC 3463 §3.1: status 5.x.x is a permanent failure (hard), 4.x.x a persistent
transient one (soft).
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from notifications.bounces.reports import ADDRESS_MASK
from tests.factories import Person
from tests.notifications.bounces.test_api import bounced_notice
from tests.notifications.pack.test_pack import pdf_text, unpacked, verify

COLUMNS = ["report", "delivery", "recipient_id", "received_at", "source", "kind", "status",
           "diagnostic", "parsed", "size", "report_sha256", "report_file"]


def rows_of(folder: Path, notification: int) -> list[dict[str, str]]:
    text = (folder / "notifications" / str(notification) / "bounces.csv").read_text()
    assert text.splitlines()[0] == ",".join(COLUMNS)
    return list(csv.DictReader(text.splitlines()))


async def test_a_pack_for_a_reader_of_personal_data_keeps_every_bounce_report_by_its_hash(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, tmp_path: Path, bare_python: Path) -> None:
    reference, notification, (ana, ben), messages = await bounced_notice(
        client, people, engine, clock)

    folder = await unpacked(client, people["approver"], reference, tmp_path)

    code, said = verify(bare_python, folder)
    assert code == 0, said
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["personal_data"] is True
    rows = rows_of(folder, notification)
    assert [(r["delivery"], r["recipient_id"], r["kind"], r["status"], r["parsed"])
            for r in rows] == [(str(ana.id), "p-0000", "hard", "5.1.1", "yes"),
                               (str(ben.id), "p-0001", "soft", "4.2.2", "yes"),
                               (str(ben.id), "p-0001", "", "", "no")]
    assert "ana@example.org" in rows[0]["diagnostic"]
    for row, message in zip(rows, messages, strict=True):
        digest = hashlib.sha256(message).hexdigest()
        name = f"notifications/{notification}/bounces/{row['report']}.eml"
        assert (row["report_sha256"], row["report_file"], row["size"]) == (
            digest, name, str(len(message)))
        assert (folder / name).read_bytes() == message
        assert manifest["files"][name] == digest
    assert manifest["files"][f"notifications/{notification}/bounces.csv"] == hashlib.sha256(
        (folder / "notifications" / str(notification) / "bounces.csv").read_bytes()).hexdigest()
    assert "3 bounce report(s)" in pdf_text(folder / "summary.pdf")


async def test_an_auditors_pack_lists_the_bounce_reports_by_hash_without_any_address(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, tmp_path: Path, bare_python: Path) -> None:
    reference, notification, _, messages = await bounced_notice(client, people, engine, clock)

    folder = await unpacked(client, people["auditor"], reference, tmp_path)

    assert verify(bare_python, folder)[0] == 0
    rows = rows_of(folder, notification)
    assert [r["report_sha256"] for r in rows] == [
        hashlib.sha256(m).hexdigest() for m in messages]
    assert all(r["report_file"] == "" for r in rows)
    assert not list(folder.rglob("bounces/*.eml"))
    text = (folder / "notifications" / str(notification) / "bounces.csv").read_text()
    assert "@" not in text and ADDRESS_MASK in rows[0]["diagnostic"]


async def test_a_changed_bounce_report_is_named_by_the_verifier(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, tmp_path: Path, bare_python: Path) -> None:
    reference, notification, _, _ = await bounced_notice(client, people, engine, clock)
    folder = await unpacked(client, people["approver"], reference, tmp_path)
    first = rows_of(folder, notification)[0]["report_file"]

    (folder / first).write_bytes(b"Status: 2.0.0\r\n\r\ndelivered after all\r\n")

    code, said = verify(bare_python, folder)
    assert code == 1, said
    assert first in said and "changed since the pack was made" in said, said
