"""`breach webhooks …` as an admin uses it: add, list, pause, resume, rotate, send, the
delivery log; refusals are one line and a non-zero exit."""

from __future__ import annotations

import asyncio

import httpx
from click.testing import Result
from standardwebhooks import Webhook

from notifications.webhooks.cli import EVENT_TYPES
from notifications.webhooks.rules import EVENT_TYPES as RULE_EVENT_TYPES
from tests.cli_support import Breach, breach  # noqa: F401  (fixture)
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
