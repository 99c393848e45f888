"""The evidence pack: everything about an incident in one signed zip, checked offline by its
own verify.py in a fresh virtual environment holding only `cryptography`: as made, it holds;
edited, pruned, padded or re-signed, it names what does not."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from tests.cli_support import Breach
from tests.factories import Person, dispatcher, incident_body, sending
from tests.notifications.register.samples import assert_not_blank

ADDRESSES = ["p1@example.com", "p2@example.com", "p3@example.com"]
def verify(python: Path, folder: Path) -> tuple[int, str]:
    done = subprocess.run([str(python), "verify.py"], cwd=folder, capture_output=True, text=True,
                          env={"PATH": os.environ.get("PATH", "")}, timeout=60)
    return done.returncode, done.stdout + done.stderr


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


async def sent_incident(client: httpx.AsyncClient, people: dict[str, Person],
                        engine: AsyncEngine, clock: FixedClock) -> str:
    """An incident with evidence, a notice sent to three people and delivered."""
    reference = await sending(client, people, ADDRESSES)
    uploaded = await client.post(f"/api/v1/incidents/{reference}/evidence",
                                 headers=people["responder"].headers,
                                 files={"file": ("wipe.log", b"wipe ok 10:02", "text/plain")})
    assert uploaded.status_code == 201, uploaded.text
    outbox = dispatcher(engine, clock)
    while await outbox.run_once():
        pass
    return reference


async def unpacked(client: httpx.AsyncClient, person: Person, reference: str,
                   into: Path) -> Path:
    got = await client.get(f"/api/v1/incidents/{reference}/evidence-pack", headers=person.headers)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(got.content)).extractall(into)
    return into / f"{reference}-evidence-pack"


async def test_a_pack_holds_everything_and_verifies_offline(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, tmp_path: Path, bare_python: Path) -> None:
    reference = await sent_incident(client, people, engine, clock)
    folder = await unpacked(client, people["auditor"], reference, tmp_path)
    code, said = verify(bare_python, folder)
    assert code == 0, said
    assert "OK: everything holds" in said and "fingerprint " in said
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["incident"] == reference and manifest["personal_data"] is False
    events = (folder / "timeline.jsonl").read_text().splitlines()
    assert "checkpoint 1 of" in said and f"signed the first {len(events)}" in said
    assert json.loads((folder / "evidence.json").read_text())[0]["filename"] == "wipe.log"
    assert (folder / "evidence" / hashlib.sha256(b"wipe ok 10:02").hexdigest()).read_bytes() == \
        b"wipe ok 10:02"
    # The auditor may not read personal data: letters to people by their SHA-256 only.
    log = (folder / "notifications" / "1" / "deliveries.csv").read_text()
    assert "p1@example.com" not in log and "p-0000" in log and ".eml" not in log
    assert len([line for line in log.splitlines()[1:] if line.split(",")[8]]) == 3
    assert not list(folder.rglob("*.eml"))
    obligations = json.loads((folder / "obligations.json").read_text())
    assert {o["ref"] for o in obligations} >= {"gdpr/authority", "gdpr/data-subjects"}
    text = pdf_text(folder / "summary.pdf")
    assert f"Evidence pack: {reference}" in text and "gdpr/data-subjects" in text
    page = tmp_path / "summary-page.pdf"
    page.write_bytes((folder / "summary.pdf").read_bytes())
    assert_not_blank(page)
    # An approver may read personal data: the letters themselves, byte for byte.
    admin_folder = await unpacked(client, people["approver"], reference, tmp_path / "approver")
    letters = sorted(admin_folder.rglob("*.eml"))
    assert len(letters) == 3 and b"To: Person 0 <p1@example.com>" in letters[0].read_bytes()
    assert verify(bare_python, admin_folder)[0] == 0


async def test_a_responder_may_not_take_a_pack(client: httpx.AsyncClient,
                                               people: dict[str, Person]) -> None:
    created = await client.post("/api/v1/incidents", json=incident_body(),
                                headers=people["responder"].headers)
    reference = created.json()["reference"]
    got = await client.get(f"/api/v1/incidents/{reference}/evidence-pack",
                           headers=people["responder"].headers)
    assert got.status_code == 403


@pytest.mark.parametrize(("tamper", "expected"), [
    ("edit_event", "timeline.jsonl line 2 (event 2) was edited"),
    ("drop_file", "is missing"),
    ("change_evidence", "changed since the pack was made (its SHA-256 differs)"),
    ("add_file", "notes.txt was added after the pack was made"),
    ("resign_manifest", "manifest.json is not signed by the pack's key"),
    ("cut_timeline", "checkpoint 1 signed"),
    ("forge_checkpoint", "checkpoint 1: its signature does not verify"),
])
async def test_a_tampered_pack_names_what_does_not_hold(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, tmp_path: Path, bare_python: Path, tamper: str, expected: str) -> None:
    reference = await sent_incident(client, people, engine, clock)
    folder = await unpacked(client, people["auditor"], reference, tmp_path)
    timeline = folder / "timeline.jsonl"
    lines = timeline.read_text().splitlines()
    if tamper == "edit_event":
        event = json.loads(lines[1])
        event["actor"] = "someone else"
        timeline.write_text("\n".join([lines[0], json.dumps(event), *lines[2:]]) + "\n")
    elif tamper == "drop_file":
        (folder / "obligations.json").unlink()
    elif tamper == "change_evidence":
        next((folder / "evidence").iterdir()).write_bytes(b"wipe FAILED")
    elif tamper == "add_file":
        (folder / "notes.txt").write_text("nothing to see")
    elif tamper == "resign_manifest":
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["made_by"] = "the auditor"
        (folder / "manifest.json").write_text(json.dumps(manifest))
    elif tamper == "cut_timeline":  # the last events gone, the manifest's hashes made to match
        timeline.write_text("\n".join(lines[:-2]) + "\n")
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["files"]["timeline.jsonl"] = hashlib.sha256(timeline.read_bytes()).hexdigest()
        (folder / "manifest.json").write_text(json.dumps(manifest))
    elif tamper == "forge_checkpoint":
        entry = json.loads((folder / "checkpoints.jsonl").read_text())
        entry["signature"] = entry["signature"][::-1]
        (folder / "checkpoints.jsonl").write_text(json.dumps(entry) + "\n")
    code, said = verify(bare_python, folder)
    assert code == 1, said
    assert expected in said, said


def test_the_command_line_writes_a_pack_that_verifies(breach: Breach, tmp_path: Path,
                                                      bare_python: Path) -> None:
    reference = breach("incidents", "create", "--title", "Lost phone", "--kind", "lost_device",
                       "--category", "contact").stdout.strip()
    breach("incidents", "note", reference, "wiped remotely")
    written = breach("audit", "pack", reference, "--out", str(tmp_path / "pack.zip")).stdout
    assert written.startswith(f"{tmp_path / 'pack.zip'}: ") and "python3 verify.py" in written
    zipfile.ZipFile(tmp_path / "pack.zip").extractall(tmp_path)
    code, said = verify(bare_python, tmp_path / f"{reference}-evidence-pack")
    assert code == 0 and "timeline: 2 events; checkpoint 1" in said, said
    nowhere = tmp_path / "no" / "such" / "pack.zip"
    assert breach.error("audit", "pack", reference, "--out", str(nowhere)).startswith(
        f"breach: error: cannot write {nowhere}: ")
    auditor = breach.person("auditor")
    assert breach("audit", "pack", reference, "--out", str(tmp_path / "a.zip"),
                  user=auditor).exit_code == 0
    responder = breach.person("responder")
    assert breach.error("audit", "pack", reference, "--out", str(tmp_path / "r.zip"),
                        user=responder).startswith("breach: error: ")
