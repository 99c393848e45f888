"""`breach webhooks …` as an admin uses it: add, list, pause, resume, rotate, send, the
delivery log, a test event and a resend; refusals are one line and a non-zero exit."""

from __future__ import annotations

import asyncio
import json

import httpx
from click.testing import Result
from standardwebhooks import Webhook

from notifications.webhooks.cli import EVENT_TYPES
from notifications.webhooks.rules import EVENT_TYPES as RULE_EVENT_TYPES
from tests.cli_support import Breach, breach, one_line_error  # noqa: F401  (fixture)
from tests.factories import Person, new_incident
from tests.notifications.webhooks.receiver import Receiver


def test_the_choices_are_the_rules() -> None:
    assert EVENT_TYPES == RULE_EVENT_TYPES


async def test_an_admin_manages_an_endpoint_from_the_command_line(
        breach: Breach, client: httpx.AsyncClient, people: dict[str, Person]) -> None:  # noqa: F811
    receiver = Receiver()
    receiver.up()
    try:
        async def run(*args: str, ok: bool = True, user: str | bool = True) -> Result:
            return await asyncio.to_thread(breach, *args, ok=ok, user=user)

        added = (await run("webhooks", "add", receiver.url, "--event", "incident.created",
                           "--description", "#security")).stdout
        assert "endpoint 1 added" in added
        secret = added.split("signing secret (shown once): ")[1].strip()
        listed = (await run("webhooks", "list")).stdout
        assert receiver.url in listed and "active" in listed and secret not in listed

        assert "paused" in (await run("webhooks", "pause", "1")).stdout
        await new_incident(client, people["responder"])
        assert (await run("webhooks", "send")).stdout.strip() == "0 sent"
        assert "active" in (await run("webhooks", "resume", "1")).stdout
        assert (await run("webhooks", "send")).stdout.strip() == "1 sent"
        [got] = receiver.received
        assert Webhook(secret).verify(got.body, got.headers)["type"] == "incident.created"

        log = (await run("webhooks", "deliveries", "1")).stdout
        assert "1 deliveries" in log and "incident.created" in log and "sent" in log
        rotated = (await run("webhooks", "rotate", "1")).stdout
        assert "new secret" in rotated and secret not in rotated

        refused = await run("webhooks", "add", "http://chat.example.com/hook", "--event",
                            "incident.created", ok=False)
        assert refused.exit_code != 0
        assert len(refused.stderr.strip().splitlines()) == 1
        assert "https" in refused.stderr
        responder = people["responder"].email
        denied = await run("webhooks", "list", ok=False, user=responder)
        assert denied.exit_code != 0 and len(denied.stderr.strip().splitlines()) == 1
        assert "removed" in (await run("webhooks", "remove", "1")).stdout
    finally:
        receiver.down()


async def test_a_test_event_and_a_resend_from_the_command_line_say_how_they_went(
        breach: Breach, client: httpx.AsyncClient, people: dict[str, Person]) -> None:  # noqa: F811
    receiver = Receiver()

    async def run(*args: str, ok: bool = True, user: str | bool = True) -> Result:
        return await asyncio.to_thread(breach, *args, ok=ok, user=user)

    try:
        added = (await run("webhooks", "add", receiver.url, "--event", "incident.created")).stdout
        secret = added.split("signing secret (shown once): ")[1].strip()

        # Nobody listens yet: the test is not delivered, said in one line, exit status 1.
        down = await run("webhooks", "ping", "1", ok=False)
        assert down.exit_code == 1
        assert one_line_error(down).startswith(
            "breach: error: the test event to endpoint 1 was not delivered (delivery 1): "
            "ConnectError")
        receiver.up()
        up = await run("webhooks", "ping", "1")
        assert up.stdout.strip() == "test event delivered to endpoint 1 (delivery 2): HTTP 204"
        [got] = receiver.received
        assert Webhook(secret).verify(got.body, got.headers)["type"] == "webhook.ping"
        assert "no webhook endpoint 9" in one_line_error(await run("webhooks", "ping", "9",
                                                                   ok=False))
        assert (await run("webhooks", "ping", "0", ok=False)).exit_code == 2

        # An event the receiver refuses, then resent once it accepts.
        receiver.status = 503
        await new_incident(client, people["responder"])
        assert (await run("webhooks", "send")).stdout.strip() == "0 sent"
        log = json.loads((await run("webhooks", "deliveries", "1", "--json")).stdout)
        [failing] = [d for d in log["items"] if d["event_type"] == "incident.created"]
        assert (failing["state"], failing["attempts"]) == ("pending", 1)
        receiver.status = 204
        resent = await run("webhooks", "resend", "1", str(failing["id"]))
        assert resent.stdout.startswith(f"delivery {failing['id']} (incident.created) queued "
                                        "again")
        assert (await run("webhooks", "send")).stdout.strip() == "1 sent"
        assert [json.loads(r.body)["type"] for r in receiver.received] == [
            "webhook.ping", "incident.created"]

        for args, said in [(("1", str(failing["id"])), "delivered already"),
                           (("1", "999"), "no delivery 999 to webhook endpoint 1"),
                           (("7", str(failing["id"])), "no webhook endpoint 7")]:
            refused = await run("webhooks", "resend", *args, ok=False)
            assert refused.exit_code == 1 and said in one_line_error(refused)
        assert (await run("webhooks", "resend", "1", "x", ok=False)).exit_code == 2
        denied = await run("webhooks", "resend", "1", str(failing["id"]), ok=False,
                           user=people["responder"].email)
        assert denied.exit_code == 1 and len(denied.stderr.strip().splitlines()) == 1
    finally:
        receiver.down()
