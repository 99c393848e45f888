"""`breach notifications not-reached`, `reached` and `letters`, as an operator uses them:
in-process on both lanes, against a notice one of whose three people has no e-mail address.

GDPR Art. 34(1): the controller "shall communicate the personal data breach to the data
subject"; Art. 34(3)(c): where that "would involve disproportionate effort, there shall
instead be a public communication or similar measure whereby the data subjects are informed
in an equally effective manner". The commands record how each person was informed, with the
same checks as the API."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import get_args

import httpx
from click.testing import Result
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from notifications.reach.cli import CHANNELS, OUTCOMES
from notifications.reach.rules import Channel, Outcome
from tests.cli_support import Breach, breach, one_line_error  # noqa: F401  (fixture)
from tests.factories import SUBJECTS_HEADER, Person
from tests.notifications.reach.support import SUBJECTS, duty, events, sent_to_three


def test_the_choices_are_the_rules() -> None:
    assert get_args(Channel) == CHANNELS
    assert get_args(Outcome) == OUTCOMES


async def test_the_people_not_reached_are_listed_their_letters_written_and_a_letter_recorded(
        breach: Breach, client: httpx.AsyncClient, people: dict[str, Person],  # noqa: F811
        engine: AsyncEngine, clock: FixedClock, tmp_path: Path) -> None:
    reference, url = await sent_to_three(client, people, engine, clock)
    notification = url.rsplit("/", 1)[-1]
    responder, auditor = people["responder"].email, people["auditor"].email

    async def run(*args: str, user: str = responder, ok: bool = True) -> Result:
        """`breach …` in a thread of its own, since it runs its own event loop."""
        return await asyncio.to_thread(breach, *args, user=user, ok=ok)

    # The table: the duty's counts, then Carla, who has no e-mail address.
    listed = (await run("notifications", "not-reached", reference, notification)).stdout
    assert "notification " + notification + ": 1 person not reached" in listed
    assert f"{SUBJECTS}\tpending\treached: 2 by e-mail\tnot reached: 1 (no address 1)" in listed
    # GDPR Art. 34(3)(c): a public communication where contact "would involve
    # disproportionate effort"; numbered as `reached --condition` takes it.
    assert (f"--condition {SUBJECTS}=0: communicating to the data subject would involve "
            "disproportionate effort") in listed
    [carla] = [line for line in listed.splitlines() if "Carla Ruiz" in line]
    delivery = carla.split("\t")[0]
    assert carla.split("\t")[1:] == ["c-3", "Carla Ruiz", "es", "no address", "-"]
    # --json prints what the API answers.
    shown = json.loads((await run("notifications", "not-reached", reference, notification,
                                  "--json")).stdout)
    api = await client.get(f"{url}/not-reached", headers=people["responder"].headers)
    assert shown == api.json()
    # A role that may not read personal data sees the counts, never the person.
    hidden = (await run("notifications", "not-reached", reference, notification,
                        user=auditor)).stdout
    assert "not reached: 1" in hidden and "Carla" not in hidden and "c-3" not in hidden

    # Letters: Carla has no postal address yet, so the CSV is empty and says so.
    empty = await run("notifications", "letters", reference, notification, "--format", "csv",
                      "-o", "empty.csv")
    assert "no postal address: delivery " + delivery + " Carla Ruiz" in empty.stderr
    assert list(csv.DictReader(io.StringIO((tmp_path / "empty.csv").read_text()))) == []
    moved = (SUBJECTS_HEADER.rstrip("\n") + ",postal_address\n"
             'c-3,,Carla Ruiz,es,ES,,crm,contact,,,"Calle Mayor 1\n28013 Madrid"\n')
    imported = await client.post("/api/v1/subjects/import", content=moved.encode(),
                                 headers={**people["admin"].headers, "content-type": "text/csv"})
    assert imported.status_code == 200, imported.text
    done = await run("notifications", "letters", reference, notification, "--format", "csv",
                     "--output", "letters.csv")
    assert done.stderr.strip() == "1 letter written to letters.csv"
    [row] = list(csv.DictReader(io.StringIO((tmp_path / "letters.csv").read_text())))
    assert (row["delivery_id"], row["name"], row["address_line_1"], row["locale"]) == (
        delivery, "Carla Ruiz", "Calle Mayor 1", "es")
    await run("notifications", "letters", reference, notification, "-o", "letters.pdf")
    assert (tmp_path / "letters.pdf").read_bytes().startswith(b"%PDF")
    assert [e["format"] for e in await events(engine, "letters_exported")] == [
        "csv", "csv", "pdf"]
    refused = await run("notifications", "letters", reference, notification, user=auditor,
                        ok=False)
    assert "the role auditor may not read personal data" in one_line_error(refused)

    # The letter posted two hours ago, recorded: the duty is met at that time.
    clock.advance(timedelta(days=1))
    posted = (clock.now() - timedelta(hours=2)).isoformat()
    recorded = await run("notifications", "reached", reference, notification, "--channel",
                         "postal", "--at", posted, "--delivery", delivery, "--note",
                         "Posted first class")
    assert recorded.stdout.startswith(
        f"notification {notification}: 1 person recorded as reached by letter (postal-")
    assert f"{SUBJECTS}\tmet\treached: 2 by e-mail, 1 by letter\tnot reached: 0" in (
        recorded.stdout)
    row_after = await duty(client, people["responder"], reference)
    assert row_after["status"] == "met" and row_after["met_at"].startswith(posted[:19])
    events_out = [json.loads(line) for line in
                  (await run("audit", "export", reference, user=people["admin"].email)
                   ).stdout.splitlines()]
    [event] = [e for e in events_out if e["kind"] == "people_reached_otherwise"]
    assert event["actor"] == responder  # the timeline names who recorded it
    everyone = (await run("notifications", "not-reached", reference, notification)).stdout
    assert "everyone was reached" in everyone
    again = (await run("notifications", "not-reached", reference, notification, "--all")).stdout
    assert "Carla Ruiz" in again and "postal reached" in again


async def test_bad_input_is_one_line_and_records_nothing(
        breach: Breach, client: httpx.AsyncClient, people: dict[str, Person],  # noqa: F811
        engine: AsyncEngine, clock: FixedClock) -> None:
    reference, url = await sent_to_three(client, people, engine, clock)
    notification = url.rsplit("/", 1)[-1]
    now = clock.now().isoformat()
    record = ("notifications", "reached", reference, notification)
    responder, approver = people["responder"].email, people["approver"].email
    cases: list[tuple[tuple[str, ...], str, str]] = [
        (("--channel", "call", "--at", now), responder, "exactly one of the two"),
        (("--channel", "call", "--at", now, "--all", "--delivery", "1"), responder,
         "exactly one of the two"),
        (("--channel", "call", "--at", now, "--delivery", "999999"), responder,
         "not deliveries of"),
        (("--channel", "call", "--at", "yesterday", "--all"), responder,
         "is not an ISO 8601 date and time"),
        (("--channel", "call", "--at", (clock.now() + timedelta(days=1)).isoformat(), "--all"),
         responder, "lies in the future"),
        (("--channel", "call", "--at", "2020-01-01T00:00:00+00:00", "--all"), responder,
         "before the incident's awareness time"),
        (("--channel", "pigeon", "--at", now, "--all"), responder, "'pigeon' is not one of"),
        (("--channel", "call", "--at", now, "--all", "--note", "x" * 2_001), responder,
         "note"),
        (("--channel", "call", "--at", now, "--all", "--condition", f"{SUBJECTS}=0"),
         responder, "only a public communication"),
        # A public communication: an approver's, naming the condition of the law that held.
        (("--channel", "public", "--at", now, "--all"), responder,
         "the role responder may not approve"),
        (("--channel", "public", "--at", now, "--all"), approver, "GDPR Art. 34(3)(c)"),
        (("--channel", "public", "--at", now, "--all", "--condition", "first"), approver,
         "write DUTY=INDEX"),
        (("--channel", "public", "--at", now, "--all", "--condition", f"{SUBJECTS}=7"),
         approver, "say which condition of GDPR Art. 34(3)(c) held"),
        (("--channel", "public", "--outcome", "failed", "--at", now, "--all", "--condition",
          f"{SUBJECTS}=0"), approver, "once it was made"),
    ]
    for options, user, words in cases:
        refused = await asyncio.to_thread(breach, *record, *options, user=user, ok=False)
        line = one_line_error(refused)
        assert line.startswith("breach: error: ") and words in line, (options, line)
    nobody = await asyncio.to_thread(breach, *record, "--channel", "call", "--at", now, "--all",
                                     user=None, ok=False)
    assert "name the Breachdesk user you act as" in one_line_error(nobody)
    unknown = await asyncio.to_thread(breach, "notifications", "not-reached", reference,
                                      "99999", user=responder, ok=False)
    assert f"{reference} has no notification 99999" in one_line_error(unknown)
    assert await events(engine, "people_reached_otherwise") == []

    # With the condition named, the approver's public communication meets the duty.
    done = await asyncio.to_thread(breach, *record, "--channel", "public", "--at", now, "--all",
                                   "--condition", f"{SUBJECTS}=0", "--note",
                                   "Banner on the home page", user=approver)
    assert f"legal basis: {SUBJECTS}: GDPR Art. 34(3)(c), " in done.stdout
    assert (await duty(client, people["responder"], reference))["status"] == "met"
