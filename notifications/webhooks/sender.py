"""Sending webhook deliveries: claimed from the table, signed, posted, every outcome kept.

The scheduler's `webhooks` job calls `WebhookSender.run_once`. A run claims the deliveries
due now that head their endpoint's queue for their incident (none earlier of the same
endpoint and incident is still pending), under a lease, so an incident's events arrive in
order and two processes never send one delivery at once (FOR UPDATE SKIP LOCKED on
PostgreSQL; SQLite's single writer makes the claim exclusive). A 2xx answer is sent; any
other answer, a timeout or a refused connection is tried again on the backoff of
`rules.BACKOFF`, then given up, which lets the next event of that incident go. A process
that dies mid-send leaves its lease to run out; the delivery is sent again with the same
`webhook-id`, so a receiver drops the repeat.

The signature's timestamp is the wall clock at the send (receivers check it against their
own clock); due times follow the injected clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from standardwebhooks import Webhook

from incident.kernel.clock import Clock
from incident.kernel.db import is_postgresql, session_factory, transaction
from notifications.webhooks import rules
from notifications.webhooks.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger("breachdesk.webhooks")

__all__ = ["WebhookSender", "sign_headers"]

LEASE = timedelta(seconds=60)
TIMEOUT = 15.0
"""Seconds a receiver has to answer (the lease is longer, so no one resends meanwhile)."""
USER_AGENT = "Breachdesk-Webhooks/1"


def sign_headers(message_id: str, body: str, secrets: list[str], at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: id, timestamp, and one signature per secret."""
    signatures = " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signatures, "content-type": "application/json",
            "user-agent": USER_AGENT}


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    message_id: str
    payload: str
    attempts: int
    url: str
    secrets: list[str]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None
    error: str | None
    retry_after: float | None = None


class WebhookSender:
    def __init__(self, engine: AsyncEngine, clock: Clock, *, key: str, batch: int = 100,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.sessions = session_factory(engine)
        self.clock, self.batch, self.wall, self.key = clock, batch, wall, key
        self.transport = transport

    async def run_once(self) -> int:
        """Send what is due, round after round while a round sent something (a sent event
        lets the next one of its incident go); returns how many were sent."""
        sent = 0
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False,
                                     transport=self.transport) as client:
            while True:
                claimed = await self._claim()
                if not claimed:
                    return sent
                answers = await asyncio.gather(*(self._post(client, c) for c in claimed))
                done = await self._record(list(zip(claimed, answers, strict=True)))
                sent += done
                if not done:
                    return sent

    async def _claim(self) -> list[Claimed]:
        now = self.clock.now()
        earlier = aliased(WebhookDelivery)
        blocked = (select(earlier.id).where(
            earlier.endpoint_id == WebhookDelivery.endpoint_id,
            earlier.chain == WebhookDelivery.chain, earlier.state == "pending",
            col(earlier.id) < col(WebhookDelivery.id)).exists())
        active = select(WebhookEndpoint.id).where(col(WebhookEndpoint.paused).is_(False))
        async with self.sessions() as db:  # nothing due (the usual case): no write lock taken
            due = (await db.exec(select(WebhookDelivery.id).where(
                WebhookDelivery.state == "pending",
                col(WebhookDelivery.next_attempt_at) <= now).limit(1))).first()
        if due is None:
            return []
        async with self.sessions() as db, transaction(db):
            query = (select(WebhookDelivery).where(
                WebhookDelivery.state == "pending",
                col(WebhookDelivery.next_attempt_at) <= now,
                (col(WebhookDelivery.lease_until).is_(None))
                | (col(WebhookDelivery.lease_until) < now),
                col(WebhookDelivery.endpoint_id).in_(active), ~blocked)
                .order_by(col(WebhookDelivery.id)).limit(self.batch))
            if is_postgresql(db):
                query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
            rows = list((await db.exec(query)).all())
            endpoints = {e.id: e for e in (await db.exec(select(WebhookEndpoint).where(
                col(WebhookEndpoint.id).in_({r.endpoint_id for r in rows})))).all()}
            claimed = []
            for row in rows:
                endpoint = endpoints[row.endpoint_id]
                row.attempts += 1
                row.lease_until = now + LEASE
                db.add(row)
                assert row.id is not None
                sealed = rules.signing_secrets(endpoint.secret, endpoint.previous_secret,
                                               endpoint.previous_until, now)
                opened = [rules.unseal(s, self.key) for s in sealed]
                claimed.append(Claimed(row.id, row.message_id, row.payload, row.attempts,
                                       endpoint.url, [s for s in opened if s]))
        return claimed

    async def _post(self, client: httpx.AsyncClient, claimed: Claimed) -> Answer:
        if not claimed.secrets:  # never sent unsigned
            return Answer(None, "cannot sign: the secret was sealed under another "
                                "BREACH_SECRET_KEY; rotate the endpoint's secret")
        headers = sign_headers(claimed.message_id, claimed.payload, claimed.secrets, self.wall())
        try:
            response = await client.post(claimed.url, content=claimed.payload.encode(),
                                         headers=headers)
        except httpx.HTTPError as error:
            return Answer(None, f"{type(error).__name__}: {error}"[:500] or "no answer")
        if rules.succeeded(response.status_code):
            return Answer(response.status_code, None)
        retry_after: float | None = None
        try:
            retry_after = float(response.headers.get("retry-after", ""))
        except ValueError:
            retry_after = None
        return Answer(response.status_code, f"HTTP {response.status_code}: "
                      f"{response.text[:200]}", retry_after)

    async def _record(self, outcomes: list[tuple[Claimed, Answer]]) -> int:
        now = self.clock.now()
        sent = 0
        async with self.sessions() as db, transaction(db):
            for claimed, answer in outcomes:
                row = await db.get(WebhookDelivery, claimed.id)
                if row is None or row.state != "pending":  # removed meanwhile
                    continue
                row.lease_until, row.last_status = None, answer.status
                if answer.error is None:
                    row.state, row.sent_at, row.last_error = "sent", now, None
                    sent += 1
                else:
                    row.last_error = answer.error
                    retry = rules.next_attempt(row.attempts, now, answer.retry_after)
                    if retry is None:
                        row.state = "failed"
                        log.warning("webhook delivery %s given up after %s attempts: %s",
                                    row.id, row.attempts, answer.error)
                        sent += 1  # ended: the next event of its incident may go
                    else:
                        row.next_attempt_at = retry
                db.add(row)
        return sent
