"""The JSON API of the audit: every chain verified, and an incident's timeline read, verified, exported."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from litestar import Controller, get
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from incident.audit import service as audit_service
from incident.audit.export import export_csv, export_jsonl
from incident.audit.schemas import AuditPublic, PublicKeyPublic
from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.db import session_factory
from incident.kernel.injected import Config, Db, Engine, Now, Who
from incident.kernel.openapi import answers_in
from incident.kernel.params import Limit, Offset
from incident.lifecycle import service as incident_service
from incident.timeline import service as journal
from incident.timeline.schemas import TimelineEventPublic, VerificationPublic, event_public


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]

    @get("/verify", guards=[requires(Permission.VERIFY_TIMELINE)])
    async def verify_all(self, db: Db, actor: Who, settings: Config) -> AuditPublic:
        """Every timeline against the latest signed checkpoint kept outside the database."""
        report, names = await audit_service.audit(db, actor=actor, settings=settings)
        return AuditPublic.of(report, names)

    @get("/public-key", guards=[requires(Permission.VERIFY_TIMELINE)])
    async def public_keys(self, settings: Config, clock: Now) -> list[PublicKeyPublic]:
        """The keys that sign checkpoints, the one in use last, with their fingerprints."""
        keys = audit_service.keyring(settings)
        keys.current(clock.now())
        return [PublicKeyPublic.of(key) for key in keys.public_keys()]


class IncidentTimelineController(Controller):
    """An incident's timeline: read, verified, exported."""

    path = "/api/v1/incidents"
    tags = ["incidents"]

    @get("/{key:str}/timeline", guards=[requires(Permission.READ_INCIDENTS)])
    async def timeline(self, db: Db, actor: Who, key: FromPath[str], after_seq: Offset = 0,
                       limit: Limit = 500) -> list[TimelineEventPublic]:
        _, events = await incident_service.timeline(db, actor=actor, key=key, after_seq=after_seq,
                                                    limit=limit)
        return [event_public(e) for e in events]

    @get("/{key:str}/timeline/verify", guards=[requires(Permission.VERIFY_TIMELINE)])
    async def verify(self, db: Db, actor: Who, key: FromPath[str]) -> VerificationPublic:
        _, result = await audit_service.verify_incident(db, actor=actor, key=key)
        return VerificationPublic(**result.as_dict())

    @get("/{key:str}/timeline/export", guards=[requires(Permission.READ_INCIDENTS)],
         opt=answers_in("application/x-ndjson", "text/csv; charset=utf-8"))
    async def export(self, db: Db, engine: Engine, actor: Who, key: FromPath[str],
                     format: FromQuery[Literal["jsonl", "csv"]] = "jsonl") -> Stream:
        incident = await incident_service.get_incident(db, actor=actor, key=key)
        chain, writer = str(incident.id), export_jsonl if format == "jsonl" else export_csv

        async def body() -> AsyncIterator[str]:
            # The request's session closes when the handler returns; the stream outlives it.
            async with session_factory(engine)() as stream_db:
                async for chunk in writer(journal.stream_events(stream_db, chain)):
                    yield chunk

        media = "application/x-ndjson" if format == "jsonl" else "text/csv"
        name = f"{incident.reference}-timeline.{format}"
        return Stream(body(), media_type=media,
                      headers={"content-disposition": f'attachment; filename="{name}"'})
