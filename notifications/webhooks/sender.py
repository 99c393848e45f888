"""Sending webhook deliveries: claimed from the table, signed, posted, every outcome kept.

The webhooks have a table of their own (`webhook_deliveries`), worked the way the e-mail
outbox works its deliveries (notifications/delivery/outbox.py): a row written with its
cause, claimed under a lease, retried on a backoff, forgotten only once its outcome is
committed, given back on an orderly stop.

The scheduler's `webhooks` job calls `WebhookSender.run_once`. A run claims the deliveries
due now that head their endpoint's queue for their incident (none earlier of the same
endpoint and incident is still pending), under a lease, so an incident's events arrive in
order and two processes never send one delivery at once (FOR UPDATE SKIP LOCKED on
PostgreSQL; SQLite's single writer makes the claim exclusive). A 2xx answer is sent; any
other answer, a timeout or a refused connection is tried again on the backoff of
`rules.BACKOFF`, then given up, which lets the next event of that incident go.

Stopping (`WebhookSender.stop`): nothing more is claimed; requests on the wire get a few
seconds to be answered and recorded; then the rest is released: a delivery never posted
goes back as it was (no attempt counted), one posted without a recorded answer is in doubt
and due at once, sent again with the same `webhook-id` so a receiver drops the repeat. A
process that dies mid-send cannot release: its lease (`LEASE`) runs out, and the next run
sends those deliveries again, in doubt, with the same `webhook-id`.

The signature's timestamp is the wall clock at the send (receivers check it against their
own clock); due times follow the injected clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
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

__all__ = ["LEASE", "Claimed", "WebhookSender", "claimed_from", "sign_headers"]

LEASE = timedelta(seconds=60)
TIMEOUT = 15.0
"""Seconds a receiver has to answer (the lease is longer, so no one resends meanwhile)."""
USER_AGENT = "Breachdesk-Webhooks/1"
IN_DOUBT = ("in doubt: the sender stopped before the receiver's answer was recorded; "
            "sent again with the same webhook-id")


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
    """Counting the attempt this claim is for: the row's own count while it is still ours."""
    url: str
    secrets: list[str]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None
    error: str | None
    retry_after: float | None = None


def claimed_from(row: WebhookDelivery, endpoint: WebhookEndpoint, *, key: str,
                 now: datetime) -> Claimed:
    """What sending a claimed row needs: its body, its endpoint's URL and the secrets that
    sign it now (those that can be opened under `key`)."""
    assert row.id is not None
    sealed = rules.signing_secrets(endpoint.secret, endpoint.previous_secret,
                                   endpoint.previous_until, now)
    opened = [rules.unseal(s, key) for s in sealed]
    return Claimed(row.id, row.message_id, row.payload, row.attempts, endpoint.url,
                   [s for s in opened if s])


class WebhookSender:
    def __init__(self, engine: AsyncEngine, clock: Clock, *, key: str, batch: int = 100,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.sessions = session_factory(engine)
        self.clock, self.batch, self.wall, self.key = clock, batch, wall, key
        self.transport = transport
        self.stopping = False
        self._running = False
        self._held: dict[int, int] = {}
        """Deliveries this sender claimed and has not recorded, with their attempt count."""
        self._posted: set[int] = set()
        """Of those, the ones whose request went out (their answer may be lost: in doubt)."""
        self._posts: set[asyncio.Task[Answer]] = set()
        self._run: asyncio.Task[object] | None = None

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False,
                                 transport=self.transport)

    async def run_once(self) -> int:
        """Send what is due, round after round while a round ended something (an ended event
        lets the next one of its incident go); returns how many were delivered (2xx). A run
        already going, or a stop, makes this one return at once."""
        if self.stopping or self._running:
            return 0
        self._running = True
        self._run = asyncio.current_task()
        try:
            return await self._rounds()
        finally:
            self._running, self._run = False, None
            if self._held and not self.stopping:  # a fault mid-round: give back what is held
                await self.release()

    async def _rounds(self) -> int:
        sent = 0
        claimed = await self._claim()
        if not claimed:
            return 0  # the usual tick: no HTTP client (and its TLS context) made for nothing
        async with self._client() as client:
            while not self.stopping:
                if not claimed:
                    break
                tasks = [asyncio.ensure_future(self._post(client, c)) for c in claimed]
                self._posts.update(tasks)
                try:
                    await asyncio.wait(tasks)
                finally:
                    self._posts.difference_update(tasks)
                answered = [(c, t.result()) for c, t in zip(claimed, tasks, strict=True)
                            if t.done() and not t.cancelled() and t.exception() is None]
                delivered, ended = await self._record(answered)
                sent += delivered
                if not ended or len(answered) < len(claimed):
                    break  # nothing let a later event go, or a stop cut the round short
                claimed = await self._claim()
        return sent

    async def send_claimed(self, claimed: Claimed) -> Answer:
        """Post one delivery claimed elsewhere (a test ping, in the request that made it) and
        record its answer; returns the answer."""
        self._held[claimed.id] = claimed.attempts
        async with self._client() as client:
            answer = await self._post(client, claimed)
        await self._record([(claimed, answer)])
        return answer

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
            claimed: list[Claimed] = []
            expired = 0
            for row in rows:
                if row.lease_until is not None:  # its sender died mid-send
                    expired += 1
                row.attempts += 1
                row.lease_until = now + LEASE
                db.add(row)
                claimed.append(claimed_from(row, endpoints[row.endpoint_id], key=self.key,
                                            now=now))
        for one in claimed:
            self._held[one.id] = one.attempts
        if expired:
            log.warning("%s webhook deliveries whose sender stopped mid-send (its lease ran "
                        "out) are in doubt and sent again with their webhook-ids", expired)
        return claimed

    async def _post(self, client: httpx.AsyncClient, claimed: Claimed) -> Answer:
        if not claimed.secrets:  # never sent unsigned
            return Answer(None, "cannot sign: the secret was sealed under another "
                                "BREACH_SECRET_KEY; rotate the endpoint's secret")
        headers = sign_headers(claimed.message_id, claimed.payload, claimed.secrets, self.wall())
        self._posted.add(claimed.id)
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
        said = response.text.strip()[:200]
        return Answer(response.status_code, f"HTTP {response.status_code}"
                      + (f": {said}" if said else ""), retry_after)

    async def _record(self, outcomes: Sequence[tuple[Claimed, Answer]]) -> tuple[int, int]:
        """Commit each answer; returns how many were delivered and how many ended (delivered
        or given up: either lets the next event of their incident go)."""
        if not outcomes:
            return 0, 0
        now = self.clock.now()
        sent = ended = 0
        async with self.sessions() as db, transaction(db):
            for claimed, answer in outcomes:
                row = await db.get(WebhookDelivery, claimed.id)
                if row is None or row.state != "pending" or row.attempts != claimed.attempts:
                    continue  # removed, resent or claimed again meanwhile: not ours any more
                row.lease_until, row.last_status = None, answer.status
                if answer.error is None:
                    row.state, row.sent_at, row.last_error = "sent", now, None
                    sent += 1
                    ended += 1
                else:
                    row.last_error = answer.error
                    retried = rules.retried(row.event_type)
                    retry = (rules.next_attempt(row.attempts, now, answer.retry_after)
                             if retried else None)
                    if retry is None:
                        row.state = "failed"
                        if retried:  # a test is tried once: its answer is what was asked for
                            log.warning("webhook delivery %s given up after %s attempts: %s",
                                        row.id, row.attempts, answer.error)
                        ended += 1
                    else:
                        row.next_attempt_at = retry
                db.add(row)
        self._forget([claimed.id for claimed, _ in outcomes])
        return sent, ended

    def _forget(self, ids: Sequence[int]) -> None:
        for ident in ids:
            self._held.pop(ident, None)
            self._posted.discard(ident)

    async def stop(self, grace: float = 3.0) -> int:
        """Claim nothing more; give requests on the wire `grace` seconds to be answered and
        recorded; then release what this sender still holds (see `release`)."""
        self.stopping = True
        posts = set(self._posts)
        if posts:
            _, pending = await asyncio.wait(posts, timeout=grace)
            for task in pending:
                task.cancel()  # its request may have reached the receiver: in doubt
            if pending:
                await asyncio.wait(pending, timeout=1)
        run = self._run
        if run is not None and not run.done():  # the answers being recorded
            await asyncio.wait({run}, timeout=max(grace, 1.0))
        return await self.release()

    async def release(self) -> int:
        """Give back every delivery this sender holds: one never posted as it was before the
        claim, one posted without a recorded answer in doubt, due at once (sent again with
        the same webhook-id). Returns how many were given back."""
        held, posted = dict(self._held), set(self._posted)
        if not held:
            return 0
        now, given, doubtful = self.clock.now(), 0, 0
        try:
            async with self.sessions() as db, transaction(db):
                query = select(WebhookDelivery).where(
                    col(WebhookDelivery.id).in_(sorted(held)),
                    WebhookDelivery.state == "pending",
                    col(WebhookDelivery.lease_until).is_not(None))
                if is_postgresql(db):
                    query = query.with_for_update()
                for row in (await db.exec(query)).all():
                    ident = row.id or 0
                    if row.attempts != held[ident]:
                        continue  # its lease ran out and another sender holds it now
                    if ident in posted:
                        row.next_attempt_at, row.last_error = now, IN_DOUBT
                        doubtful += 1
                    else:
                        row.attempts -= 1
                    row.lease_until = None
                    db.add(row)
                    given += 1
        finally:
            self._forget(list(held))
        if given:
            log.info("released %s webhook deliveries (%s in doubt, sent again with their "
                     "webhook-ids)", given, doubtful)
        return given
