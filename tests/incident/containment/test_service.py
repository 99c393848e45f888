"""Runbooks on incidents: pinned versions, step states, due and overdue, evidence."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.app import create_app
from incident.containment.runbook_loader import load_catalogue
from incident.containment.runbooks import Catalogue
from incident.kernel.clock import FixedClock
from incident.kernel.settings import REPOSITORY, Settings
from tests.factories import Person, client_for, new_incident

AWARE = "2026-03-10T09:30:00Z"


async def attach(client: httpx.AsyncClient, person: Person, reference: str,
                 runbook: str = "lost-device") -> dict[str, Any]:
    response = await client.post(f"/api/v1/incidents/{reference}/runbooks",
                                 json={"runbook": runbook}, headers=person.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def step_named(checklist: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in checklist["steps"] if s["step_id"] == step_id)


async def timeline(client: httpx.AsyncClient, person: Person, reference: str) -> list[dict[str, Any]]:
    return list((await client.get(f"/api/v1/incidents/{reference}/timeline",
                                  headers=person.headers)).json())


async def test_attach_pins_the_runbook_and_schedules_steps_from_aware_at(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference = await new_incident(client, responder)
    before = (await client.get(f"/api/v1/incidents/{reference}/steps",
                               headers=responder.headers)).json()
    assert before["steps"] == [] and "lost-device" in before["suggested"]
    checklist = await attach(client, responder, reference)
    assert [r["runbook_id"] for r in checklist["runbooks"]] == ["lost-device"]
    assert len(checklist["runbooks"][0]["digest"]) == 64
    assert "lost-device" not in checklist["suggested"]
    decide = step_named(checklist, "decide-notifiable")
    assert decide["state"] == "todo"
    aware = datetime.fromisoformat(AWARE)
    due = datetime.fromisoformat(decide["due_at"])
    assert due - aware <= timedelta(hours=72)
    assert all(datetime.fromisoformat(s["due_at"]) > aware for s in checklist["steps"])
    event = (await timeline(client, responder, reference))[-1]
    assert event["kind"] == "runbook_attached"
    assert event["payload"]["digest"] == checklist["runbooks"][0]["digest"]
    assert event["payload"]["steps"] == len(checklist["steps"])
    again = await client.post(f"/api/v1/incidents/{reference}/runbooks",
                              json={"runbook": "lost-device"}, headers=responder.headers)
    assert again.status_code == 409
    unknown = await client.post(f"/api/v1/incidents/{reference}/runbooks",
                                json={"runbook": "haunted-house"}, headers=responder.headers)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "runbook"
    second = await attach(client, responder, reference, "ransomware")
    assert {r["runbook_id"] for r in second["runbooks"]} == {"lost-device", "ransomware"}


async def test_editing_a_runbook_file_does_not_rewrite_history(
        tmp_path: Path, settings: Settings, clock: FixedClock, engine: AsyncEngine,
        people: dict[str, Person]) -> None:
    folder = tmp_path / "runbooks"
    shutil.copytree(REPOSITORY / "runbooks", folder)

    def client() -> httpx.AsyncClient:
        return client_for(create_app(settings, clock=clock, engine=engine,
                                     catalogue=load_catalogue(folder)))

    responder = people["responder"]
    async with client() as http:
        first = await new_incident(http, responder)
        pinned = await attach(http, responder, first)
    path = folder / "lost-device.yaml"
    text = path.read_text().replace("version: 1", "version: 2", 1)
    text = text.replace("title: Lock or wipe the device remotely",
                        "title: Wipe the device at once", 1)
    path.write_text(text)
    async with client() as http:
        later = await new_incident(http, responder)
        fresh = await attach(http, responder, later)
        still = (await http.get(f"/api/v1/incidents/{first}/steps",
                                headers=responder.headers)).json()
    assert fresh["runbooks"][0]["version"] == 2
    assert fresh["runbooks"][0]["digest"] != pinned["runbooks"][0]["digest"]
    assert still["runbooks"] == pinned["runbooks"]
    assert [s["title"] for s in still["steps"]] == [s["title"] for s in pinned["steps"]]
    assert "Wipe the device at once" in [s["title"] for s in fresh["steps"]]


async def change(client: httpx.AsyncClient, person: Person, reference: str, step: int,
                 **body: Any) -> httpx.Response:
    return await client.patch(f"/api/v1/incidents/{reference}/steps/{step}", json=body,
                              headers=person.headers)


async def test_step_states_reasons_and_evidence(client: httpx.AsyncClient, clock: FixedClock,
                                                people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference = await new_incident(client, responder)
    checklist = await attach(client, responder, reference)
    # A step is finished by the role it is marked for: the plain one is the admin's.
    plain = next(s for s in checklist["steps"] if not s["evidence_required"])
    proof = next(s for s in checklist["steps"]
                 if s["evidence_required"] and s["role"] == "responder")
    assert plain["role"] == "admin"

    clock.advance(timedelta(minutes=5))
    started = await change(client, responder, reference, plain["id"], state="in_progress")
    assert started.status_code == 200
    assert started.json()["changed_by"] == responder.email and started.json()["version"] == 2
    not_theirs = await change(client, responder, reference, plain["id"], state="done")
    assert not_theirs.status_code == 403
    assert not_theirs.json()["detail"] == ("this step is for the admin: only an admin may mark "
                                           "it done")
    done = await change(client, people["admin"], reference, plain["id"], state="done")
    assert done.json()["state"] == "done"
    assert (await change(client, responder, reference, plain["id"], state="skipped",
                         reason="x")).status_code == 409

    refused = await change(client, responder, reference, proof["id"], state="done")
    assert refused.status_code == 409 and "requires evidence" in refused.json()["detail"]
    no_reason = await change(client, responder, reference, proof["id"], state="skipped")
    assert no_reason.status_code == 422
    upload = await client.post(f"/api/v1/incidents/{reference}/evidence",
                               data={"step": str(proof["id"]), "description": "MDM log"},
                               files={"file": ("wipe.log", b"wipe ok 10:02", "text/plain")},
                               headers=responder.headers)
    assert upload.status_code == 201, upload.text
    assert upload.json()["step"] == f"lost-device/{proof['step_id']}"
    assert (await change(client, responder, reference, proof["id"], state="done")
            ).status_code == 200

    auditor = await change(client, people["auditor"], reference, plain["id"], state="in_progress")
    assert auditor.status_code == 403
    changes = [e["payload"] for e in await timeline(client, responder, reference)
               if e["kind"] == "step_changed"]
    assert [(c["step"], c["from"], c["to"]) for c in changes] == [
        (plain["step_id"], "todo", "in_progress"), (plain["step_id"], "in_progress", "done"),
        (proof["step_id"], "todo", "done")]


async def test_concurrent_step_updates_lose_nothing(client: httpx.AsyncClient,
                                                    people: dict[str, Person]) -> None:
    responder, admin = people["responder"], people["admin"]
    reference = await new_incident(client, responder)
    step = (await attach(client, responder, reference))["steps"][0]
    # Both read version 1 and try to act on it: exactly one wins, the other is told.
    racing = await asyncio.gather(
        change(client, responder, reference, step["id"], state="in_progress", version=1),
        change(client, admin, reference, step["id"], state="skipped", reason="n/a",
               version=1))
    assert sorted(r.status_code for r in racing) == [200, 409]
    # Without versions, concurrent changes apply in turn; each is on the timeline.
    other = (await client.get(f"/api/v1/incidents/{reference}/steps",
                              headers=responder.headers)).json()["steps"][1]
    results = await asyncio.gather(*[
        change(client, responder, reference, other["id"], state=state)
        for state in ("in_progress", "todo", "in_progress", "todo")])
    assert all(r.status_code in (200, 409) for r in results)
    final = step_named((await client.get(f"/api/v1/incidents/{reference}/steps",
                                         headers=responder.headers)).json(), other["step_id"])
    applied = [r for r in results if r.status_code == 200]
    assert final["version"] == 1 + len(applied)
    events = [e for e in await timeline(client, responder, reference)
              if e["kind"] == "step_changed" and e["payload"]["step"] == other["step_id"]]
    assert len(events) == len(applied)


async def test_due_and_overdue_follow_the_clock(client: httpx.AsyncClient, clock: FixedClock,
                                                people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference = await new_incident(client, responder)
    clock.set(datetime.fromisoformat(AWARE))
    checklist = await attach(client, responder, reference)
    assert checklist["overdue"] == 0
    first_due = min(datetime.fromisoformat(s["due_at"]) for s in checklist["steps"])
    clock.set(first_due + timedelta(seconds=1))
    now = (await client.get(f"/api/v1/incidents/{reference}/steps", headers=responder.headers)).json()
    late = [s for s in now["steps"] if s["overdue"]]
    assert late and all(datetime.fromisoformat(s["due_at"]) < clock.now() for s in late)
    assert now["overdue"] == len(late)
    across = (await client.get("/api/v1/steps/overdue", headers=people["auditor"].headers)).json()
    assert {o["step"]["id"] for o in across} == {s["id"] for s in late}
    assert {o["reference"] for o in across} == {reference}
    for step in late:  # an admin may finish a step of any role
        await change(client, people["admin"], reference, step["id"], state="skipped",
                     reason="done by IT")
    assert (await client.get("/api/v1/steps/overdue", headers=responder.headers)).json() == []


async def test_correcting_aware_at_moves_every_due_time(client: httpx.AsyncClient,
                                                        people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference = await new_incident(client, responder)
    before = {s["id"]: s["due_at"] for s in (await attach(client, responder, reference))["steps"]}
    await client.patch(f"/api/v1/incidents/{reference}", json={"aware_at": "2026-03-10T10:30:00Z"},
                       headers=responder.headers)
    after = (await client.get(f"/api/v1/incidents/{reference}/steps",
                              headers=responder.headers)).json()["steps"]
    for step in after:
        moved = datetime.fromisoformat(step["due_at"]) - datetime.fromisoformat(before[step["id"]])
        assert moved == timedelta(hours=1)


async def test_containment_complete_when_every_contain_step_is_finished(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference = await new_incident(client, responder)
    checklist = await attach(client, responder, reference)
    assert checklist["containment_complete"] is False
    assert checklist["progress"]["contain"]["todo"] == checklist["progress"]["contain"]["total"]
    for step in checklist["steps"]:
        if step["phase"] == "contain":  # each by the role it is marked for
            person = people[step["role"]]
            assert (await change(client, person, reference, step["id"], state="skipped",
                                 reason="not applicable here")).status_code == 200
    now = (await client.get(f"/api/v1/incidents/{reference}/steps", headers=responder.headers)).json()
    assert now["containment_complete"] is True
    assert now["progress"]["contain"]["skipped"] == now["progress"]["contain"]["total"]


async def test_evidence_hash_on_the_timeline_matches_the_file(client: httpx.AsyncClient,
                                                              people: dict[str, Person]) -> None:
    responder, auditor = people["responder"], people["auditor"]
    reference = await new_incident(client, responder)
    content = bytes(range(256)) * 40
    upload = await client.post(f"/api/v1/incidents/{reference}/evidence", headers=responder.headers,
                               files={"file": ("../../etc/pass\r\nwd.html", content, "text/html")})
    assert upload.status_code == 201, upload.text
    evidence = upload.json()
    assert evidence["filename"] == "pass_wd.html"
    assert evidence["sha256"] == hashlib.sha256(content).hexdigest()
    added = (await timeline(client, responder, reference))[-1]
    assert added["kind"] == "evidence_added" and added["payload"]["sha256"] == evidence["sha256"]
    download = await client.get(f"/api/v1/incidents/{reference}/evidence/{evidence['id']}",
                                headers=auditor.headers)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == added["payload"]["sha256"]
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
    taken = (await timeline(client, responder, reference))[-1]
    assert taken["kind"] == "evidence_downloaded" and taken["actor"] == auditor.email
    same = await client.post(f"/api/v1/incidents/{reference}/evidence", headers=responder.headers,
                             files={"file": ("copy.bin", content, "application/octet-stream")})
    assert same.json()["sha256"] == evidence["sha256"]  # stored once, listed twice
    listed = (await client.get(f"/api/v1/incidents/{reference}/evidence",
                               headers=auditor.headers)).json()
    assert [e["filename"] for e in listed] == ["pass_wd.html", "copy.bin"]
    empty = await client.post(f"/api/v1/incidents/{reference}/evidence", headers=responder.headers,
                              files={"file": ("empty.txt", b"", "text/plain")})
    assert empty.status_code == 422
    bad_step = await client.post(f"/api/v1/incidents/{reference}/evidence", data={"step": "999999"},
                                 headers=responder.headers,
                                 files={"file": ("a.txt", b"a", "text/plain")})
    assert bad_step.status_code == 422
    verify = (await client.get(f"/api/v1/incidents/{reference}/timeline/verify",
                               headers=auditor.headers)).json()
    assert verify["ok"] is True


async def test_evidence_over_the_limit_is_refused(client: httpx.AsyncClient, engine: AsyncEngine,
                                                  clock: FixedClock, people: dict[str, Person],
                                                  settings: Settings, catalogue: Catalogue) -> None:
    small = settings.model_copy(update={"evidence_max_bytes": 1000})
    async with client_for(create_app(small, clock=clock, engine=engine,
                                     catalogue=catalogue)) as limited:
        reference = await new_incident(limited, people["responder"])
        over = await limited.post(f"/api/v1/incidents/{reference}/evidence",
                                  headers=people["responder"].headers,
                                  files={"file": ("big.bin", b"x" * 1500, "application/octet-stream")})
        assert over.status_code == 422
        far_over = await limited.post(f"/api/v1/incidents/{reference}/evidence",
                                      headers=people["responder"].headers,
                                      files={"file": ("huge.bin", b"x" * 200_000, "text/plain")})
        assert far_over.status_code == 413
        listed = await limited.get(f"/api/v1/incidents/{reference}/evidence",
                                   headers=people["responder"].headers)
        assert listed.json() == []


@pytest.mark.parametrize("status", ["closed", "dismissed"])
async def test_finished_incidents_keep_their_checklist(client: httpx.AsyncClient,
                                                       people: dict[str, Person], status: str) -> None:
    approver = people["approver"]
    reference = await new_incident(client, approver)
    step = (await attach(client, approver, reference))["steps"][0]
    path = (["dismissed"] if status == "dismissed"
            else ["assessing", "contained", "resolved", "closed"])
    for target in path:
        await client.post(f"/api/v1/incidents/{reference}/status",
                          json={"status": target, "reason": "test"}, headers=approver.headers)
    assert (await change(client, approver, reference, step["id"], state="done")).status_code == 409


async def assign(client: httpx.AsyncClient, person: Person, reference: str, step: int,
                 assignee: str | None) -> httpx.Response:
    return await client.put(f"/api/v1/incidents/{reference}/steps/{step}/assignee",
                            json={"assignee": assignee}, headers=person.headers)


async def test_a_step_is_given_to_a_person_and_shows_its_guidance(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder, approver = people["responder"], people["approver"]
    reference = await new_incident(client, responder)
    decide = step_named(await attach(client, responder, reference), "decide-notifiable")
    assert decide["role"] == "approver" and decide["assignee"] is None
    assert decide["guidance"].startswith("Score the risk with the ENISA method")

    given = await assign(client, responder, reference, decide["id"], approver.email.upper())
    assert given.status_code == 200, given.text
    assert (given.json()["assignee"], given.json()["version"]) == (approver.email, 2)
    listed = step_named((await client.get(f"/api/v1/incidents/{reference}/steps",
                                          headers=responder.headers)).json(), "decide-notifiable")
    assert listed["assignee"] == approver.email
    # Given to the responder, it stays the approver's to finish.
    assert (await assign(client, responder, reference, decide["id"], responder.email)
            ).status_code == 200
    refused = await change(client, responder, reference, decide["id"], state="skipped",
                           reason="not ours")
    assert refused.status_code == 403
    assert refused.json()["detail"] == ("this step is for the approver: only an approver (or an "
                                        "admin) may skip it")

    for wrong, message in [("nobody@example.com", "no active user has the e-mail"),
                           (people["auditor"].email, "that role cannot work on steps")]:
        bad = await assign(client, responder, reference, decide["id"], wrong)
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "assignee"
        assert message in bad.json()["errors"][0]["message"]
    assert (await assign(client, people["auditor"], reference, decide["id"], None)
            ).status_code == 403
    assert (await assign(client, responder, reference, decide["id"], None)).status_code == 200

    assigned = [e["payload"] for e in await timeline(client, responder, reference)
                if e["kind"] == "step_assigned"]
    assert [(p["step"], p["from"], p["to"]) for p in assigned] == [
        ("decide-notifiable", None, approver.email),
        ("decide-notifiable", approver.email, responder.email),
        ("decide-notifiable", responder.email, None)]
