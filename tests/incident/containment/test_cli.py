"""`breach incidents runbook`, `breach steps …` and `breach evidence …`: in-process on both
lanes at a moved clock, the checklist and evidence of one incident from attaching to
downloading."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from incident.containment.runbook_loader import load_runbook
from incident.containment.runbooks import runbook_digest
from incident.containment.schemas import ChecklistPublic, EvidencePublic, OverdueStepPublic, StepPublic
from incident.kernel.settings import REPOSITORY, Settings
from tests.cli_support import ADMIN, Breach, breach  # noqa: F401  (fixture)

UNKNOWN = "BR-1999-0001"


def by_step(checklist: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["step_id"]: s for s in checklist["steps"]}


def local(at: str, settings: Settings) -> str:
    return f"{datetime.fromisoformat(at).astimezone(settings.zone):%Y-%m-%d %H:%M %Z}"


def test_attach_list_change_and_overdue_steps(breach: Breach, settings: Settings) -> None:  # noqa: F811
    aware = (breach.clock.now() - timedelta(days=3)).isoformat()
    ref = breach("incidents", "create", "--title", "Stolen laptop", "--kind", "lost_device",
                 "--aware-at", aware).stdout.strip()
    attached = breach("incidents", "runbook", ref, "lost-device").stdout
    digest = runbook_digest(load_runbook(REPOSITORY / "runbooks" / "lost-device.yaml"))
    assert f"attached lost-device version 1 to {ref}: 11 steps" in attached
    assert f"pinned sha256 {digest}" in attached

    checklist = breach.json("steps", "list", ref)
    assert ChecklistPublic.model_validate(checklist).model_dump(mode="json") == checklist
    assert checklist["runbooks"][0]["digest"] == digest and checklist["suggested"] == []
    steps = by_step(checklist)
    assert len(steps) == 11 and {s["state"] for s in steps.values()} == {"todo"}
    late = {name for name, s in steps.items() if s["overdue"]}
    assert {"remote-lock-wipe", "decide-notifiable"} <= late and "lessons-learned" not in late
    assert checklist["overdue"] == len(late)

    text = breach("steps", "list", ref).stdout
    wipe = steps["remote-lock-wipe"]
    assert "contain: 0 of 3 finished (0 done, 0 skipped, 0 in progress, 3 to do)" in text
    assert (f"  {wipe['id']}\tlost-device/remote-lock-wipe\tLock or wipe the device remotely\t"
            f"admin\tdue {local(wipe['due_at'], settings)}\ttodo OVERDUE\tv1\t—") in text
    assert f"{len(late)} overdue; containment not complete" in text

    only_late = breach.json("steps", "list", ref, "--overdue")
    assert {s["step_id"] for s in only_late["steps"]} == late
    across = [o for o in breach.json("steps", "overdue") if o["reference"] == ref]
    assert {o["step"]["step_id"] for o in across} == late
    assert all(OverdueStepPublic.model_validate(o).step.overdue for o in across)
    late_lines = [line for line in breach("steps", "overdue").stdout.splitlines()
                  if line.startswith(f"{ref}\t{wipe['id']}\t")]
    assert len(late_lines) == 1 and "\tdue " in late_lines[0]
    assert late_lines[0].split("\t")[-2].startswith("2d") and late_lines[0].endswith("late\ttodo")

    # Through its states, by step id and by number; a stale version changes nothing.
    close = steps["close-asset"]
    assert (breach("steps", "set", ref, "close-asset", "in_progress").stdout.strip()
            == f"{ref} step {close['id']} lost-device/close-asset is now in_progress (version 2)")
    done = breach.json("steps", "set", ref, str(close["id"]), "done", "--version", "2")
    assert StepPublic.model_validate(done).state == "done" and done["version"] == 3
    assert "changed since you read it (now version 3, state done)" in breach.error(
        "steps", "set", ref, "close-asset", "in_progress", "--version", "2")
    assert "cannot move from done to todo; allowed: in_progress" in breach.error(
        "steps", "set", ref, "close-asset", "todo")
    skip = breach("steps", "set", ref, "notify-individuals", "skipped", ok=False)
    assert skip.exit_code == 2
    assert "skipping a step needs a reason" in breach.error("steps", "set", ref,
                                                            "notify-individuals", "skipped")
    breach("steps", "set", ref, "notify-individuals", "skipped", "--reason", "Disk encrypted")
    assert "requires evidence" in breach.error("steps", "set", ref, "remote-lock-wipe", "done")

    # A step of the approver: given to a responder, finished only by an approver (or an admin).
    responder, approver = breach.person("responder"), breach.person("approver")
    decide = steps["decide-notifiable"]
    assert (breach("steps", "assign", ref, "decide-notifiable", responder).stdout.strip()
            == f"{ref} step {decide['id']} lost-device/decide-notifiable is now given to "
               f"{responder}")
    error = breach.error("steps", "set", ref, "decide-notifiable", "skipped", "--reason", "n/a",
                         user=responder)
    assert error == ("breach: error: this step is for the approver: only an approver (or an "
                     "admin) may skip it")
    breach("steps", "set", ref, "decide-notifiable", "skipped", "--reason", "Not notifiable: "
           "the disk was encrypted and the key safe.", user=approver)
    assert "no active user has the e-mail" in breach.error("steps", "assign", ref,
                                                           "decide-notifiable", "x@example.com")
    breach("steps", "assign", ref, "decide-notifiable", "--nobody")

    after = by_step(breach.json("steps", "list", ref))
    assert (after["decide-notifiable"]["state"], after["decide-notifiable"]["assignee"]) == (
        "skipped", None)
    assert (after["close-asset"]["state"], after["close-asset"]["version"]) == ("done", 3)
    skipped = after["notify-individuals"]
    assert (skipped["state"], skipped["reason"]) == ("skipped", "Disk encrypted")
    assert skipped["changed_by"] == ADMIN and not skipped["overdue"]
    assert after["remote-lock-wipe"]["version"] == 1

    for args, message in [
        (("steps", "list", UNKNOWN), f"no incident {UNKNOWN}"),
        (("steps", "set", ref, "no-such-step", "done"), f"no step 'no-such-step' on {ref}"),
        (("incidents", "runbook", UNKNOWN, "lost-device"), f"no incident {UNKNOWN}"),
        (("incidents", "runbook", ref, "haunted-house"), "no runbook 'haunted-house'"),
        (("incidents", "runbook", ref, "lost-device"), "already attached"),
    ]:
        error = breach.error(*args)
        assert error.startswith("breach: error:") and message in error, (args, error)


def test_evidence_round_trip_on_the_timeline(breach: Breach, tmp_path: Path,  # noqa: F811
                                             settings: Settings) -> None:
    ref = breach("incidents", "create", "--title", "Stolen phone",
                 "--kind", "lost_device").stdout.strip()
    breach("incidents", "runbook", ref, "lost-device")
    files = tmp_path / "files"
    files.mkdir()
    content = os.urandom(70_000) + b"wipe confirmed"
    (files / "wipe-log.bin").write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()

    added = breach("evidence", "add", ref, "files/wipe-log.bin", "--step", "remote-lock-wipe",
                   "--note", "MDM confirmation").stdout.strip()
    assert added.endswith(f"wipe-log.bin, {len(content)} bytes, sha256 {digest}")
    assert "for step lost-device/remote-lock-wipe" in added
    listed = breach.json("evidence", "list", ref)
    assert [EvidencePublic.model_validate(e).model_dump(mode="json") for e in listed] == listed
    (item,) = listed
    assert (item["sha256"], item["size"], item["step"], item["description"]) == (
        digest, len(content), "lost-device/remote-lock-wipe", "MDM confirmation")
    assert f"sha256 {digest}\twipe-log.bin" in breach("evidence", "list", ref).stdout

    got = breach("evidence", "get", ref, str(item["id"])).stdout
    assert got.strip() == f"wrote wipe-log.bin: {len(content)} bytes, sha256 {digest} (matches)"
    written = tmp_path / "wipe-log.bin"
    assert written.read_bytes() == content and written.stat().st_mode & 0o077 == 0
    assert "already exists" in breach.error("evidence", "get", ref, str(item["id"]))
    breach("evidence", "get", ref, str(item["id"]), "-o", "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == content
    breach("steps", "set", ref, "remote-lock-wipe", "done")  # its evidence is attached now

    (files / "big.bin").write_bytes(b"x" * 1001)
    small = settings.model_copy(update={"evidence_max_bytes": 1000})
    assert "larger than the evidence limit of 1000 bytes" in breach.error(
        "evidence", "add", ref, "files/big.bin", settings=small)
    for args, message in [
        (("evidence", "add", ref, "files/missing.bin"), "does not exist"),
        (("evidence", "add", UNKNOWN, "files/big.bin"), f"no incident {UNKNOWN}"),
        (("evidence", "add", ref, "files/big.bin", "--step", "nope"), f"no step 'nope' on {ref}"),
        (("evidence", "get", ref, "99"), f"no evidence 99 on {ref}"),
    ]:
        error = breach.error(*args)
        assert error.startswith("breach: error:") and message in error, (args, error)

    events = [json.loads(line) for line in breach("audit", "export", ref).stdout.splitlines()]
    payloads = [(e["kind"], json.loads(e["payload"])) for e in events]
    assert [p["sha256"] for kind, p in payloads if kind == "evidence_added"] == [digest]
    downloads = [p for kind, p in payloads if kind == "evidence_downloaded"]
    assert downloads == [{"evidence_id": item["id"], "sha256": digest}] * 2  # refusals: none
    assert [e["id"] for e in breach.json("evidence", "list", ref)] == [item["id"]]
