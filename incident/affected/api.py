"""The JSON API of incidents' affected people: scope, snapshots, counts and the people themselves."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from incident.affected import service as affected
from incident.affected.schemas import AffectedComputed, AffectedPage, AffectedScope, AffectedSummary
from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.injected import Config, Db, Engine, Now, Who
from incident.kernel.openapi import answers_in
from incident.lifecycle.schemas import IncidentPublic, public

SnapshotNumber = Annotated[int | None, QueryParameter(ge=1, le=1_000_000)]


PageSize = Annotated[int, QueryParameter(ge=1, le=1_000)]


class AffectedController(Controller):
    path = "/api/v1"
    tags = ["inventory"]  # the same group in the API documentation as before the split

    @put("/incidents/{key:str}/scope", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def set_scope(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                        data: JSONBody[AffectedScope]) -> IncidentPublic:
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

    @get("/incidents/{key:str}/affected.csv", guards=[requires(Permission.READ_PERSONAL_DATA)],
         opt=answers_in("text/csv; charset=utf-8"))
    async def export(self, db: Db, clock: Now, actor: Who, engine: Engine, key: FromPath[str],
                     snapshot: SnapshotNumber = None) -> Stream:
        incident, found = await affected.start_export(db, clock=clock, actor=actor, key=key,
                                                      number=snapshot)
        name = f"{incident.reference}-affected-{found.number}.csv"
        assert found.id is not None
        return Stream(affected.export_csv(engine, found.id), media_type="text/csv",
                      headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                               "x-snapshot-sha256": found.digest})
