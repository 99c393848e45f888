"""The JSON API of the data inventory and of incidents' affected people."""

from __future__ import annotations

import tempfile
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from incident import affected, subjects
from incident.access import requires
from incident.auth import Permission
from incident.errors import Invalid
from incident.injected import Config, Db, Engine, Now, Who
from incident.inventory import Format
from incident.schemas import (
    AffectedComputed,
    AffectedPage,
    AffectedSummary,
    IncidentPublic,
    InventoryKey,
    Scope,
    SystemPublic,
    SystemSave,
)
from incident.services import public

SnapshotNumber = Annotated[int | None, QueryParameter(ge=1, le=1_000_000)]
PageSize = Annotated[int, QueryParameter(ge=1, le=1_000)]
SPOOL_IN_MEMORY = 8 * 1024 * 1024


class InventoryController(Controller):
    path = "/api/v1"
    tags = ["inventory"]

    @get("/systems", guards=[requires(Permission.READ_INCIDENTS)])
    async def list_systems(self, db: Db, actor: Who) -> list[SystemPublic]:
        return [_system_public(system, count)
                for system, count in await subjects.list_systems(db, actor=actor)]

    @put("/systems/{key:str}", guards=[requires(Permission.MANAGE_INVENTORY)])
    async def save_system(self, db: Db, clock: Now, actor: Who, key: FromPath[InventoryKey],
                          data: JSONBody[SystemSave]) -> SystemPublic:
        system = await subjects.save_system(db, clock=clock, actor=actor, key=key, name=data.name,
                                            data_categories=[c.value for c in data.data_categories])
        return _system_public(system, None)

    @get("/inventory", guards=[requires(Permission.READ_INCIDENTS)])
    async def totals(self, db: Db) -> dict[str, int]:
        subject_count, holding_count = await subjects.inventory_totals(db)
        return {"subjects": subject_count, "holdings": holding_count}

    @put("/incidents/{key:str}/scope", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def set_scope(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                        data: JSONBody[Scope]) -> IncidentPublic:
        incident = await affected.set_scope(db, clock=clock, actor=actor, key=key, scope=data)
        return (await public(db, [incident]))[0]

    @post("/incidents/{key:str}/affected", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=HTTP_201_CREATED)
    async def compute(self, db: Db, clock: Now, actor: Who, settings: Config,
                      key: FromPath[str]) -> AffectedComputed:
        snapshot, unmatched = await affected.compute_affected(
            db, clock=clock, actor=actor, key=key, default_locale=settings.default_locale)
        return affected.computed_of(snapshot, unmatched)

    @get("/incidents/{key:str}/affected/summary", guards=[requires(Permission.READ_INCIDENTS)])
    async def summary(self, db: Db, actor: Who, key: FromPath[str],
                      snapshot: SnapshotNumber = None) -> AffectedSummary:
        _, found = await affected.get_snapshot(db, actor=actor, key=key, number=snapshot)
        return affected.summary_of(found)

    @get("/incidents/{key:str}/affected/snapshots", guards=[requires(Permission.READ_INCIDENTS)])
    async def snapshots(self, db: Db, actor: Who, key: FromPath[str]) -> list[AffectedSummary]:
        return [affected.summary_of(s) for s in await affected.list_snapshots(db, actor=actor,
                                                                             key=key)]

    @get("/incidents/{key:str}/affected", guards=[requires(Permission.READ_PERSONAL_DATA)])
    async def people(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                     snapshot: SnapshotNumber = None,
                     after: Annotated[str | None, QueryParameter(max_length=200)] = None,
                     limit: PageSize = 100) -> AffectedPage:
        return await affected.read_affected(db, clock=clock, actor=actor, key=key, number=snapshot,
                                            after=after, limit=limit)

    @get("/incidents/{key:str}/affected.csv", guards=[requires(Permission.READ_PERSONAL_DATA)])
    async def export(self, db: Db, clock: Now, actor: Who, engine: Engine, key: FromPath[str],
                     snapshot: SnapshotNumber = None) -> Stream:
        incident, found = await affected.start_export(db, clock=clock, actor=actor, key=key,
                                                      number=snapshot)
        name = f"{incident.reference}-affected-{found.number}.csv"
        assert found.id is not None
        return Stream(affected.export_csv(engine, found.id), media_type="text/csv; charset=utf-8",
                      headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                               "x-snapshot-sha256": found.digest})


class SubjectImportController(Controller):
    """The streamed import of subjects; mounted on a router of its own that allows large bodies."""

    path = "/api/v1"
    tags = ["inventory"]

    @post("/subjects/import", guards=[requires(Permission.MANAGE_INVENTORY)], status_code=200)
    async def import_subjects(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                              actor: Who, settings: Config,
                              system: FromQuery[InventoryKey | None] = None,
                              strict: FromQuery[bool] = False) -> dict[str, Any]:
        """Body: the file itself, `text/csv` or `application/x-ndjson` (see the README)."""
        fmt = Format.of_media_type(request.headers.get("content-type", ""))
        if fmt is None:
            raise Invalid.fields([("content-type", "must be text/csv or application/x-ndjson")])
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY,
                                           dir=str(settings.var_dir)) as spool:
            async for chunk in request.stream():
                spool.write(chunk)
            spool.seek(0)
            report = await subjects.import_subjects(db, clock=clock, actor=actor, stream=spool,
                                                    fmt=fmt, default_system=system, strict=strict)
        return report.to_json()


def _system_public(system: Any, count: int | None) -> SystemPublic:
    return SystemPublic(key=system.key, name=system.name, data_categories=system.data_categories,
                        subjects=count or 0, created_at=system.created_at,
                        updated_at=system.updated_at)
