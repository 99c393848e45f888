"""An incident's evidence pack over HTTP: the API's download and the incident page's link."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.params import FromPath

from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.openapi import answers_in
from notifications.pack.service import build_pack


class EvidencePackController(Controller):
    path = "/api/v1/incidents"
    tags = ["audit"]

    @get("/{key:str}/evidence-pack", guards=[requires(Permission.AUDIT_REPORTS)],
         opt=answers_in("application/zip"))
    async def evidence_pack(self, db: Db, clock: Now, actor: Who, settings: Config,
                            key: FromPath[str]) -> Response[bytes]:
        """The incident's evidence pack (zip), signed, with `verify.py` to check it offline.
        Messages to people are included as sent only for someone who may read personal
        data; otherwise by their SHA-256."""
        made = await build_pack(db, actor=actor, settings=settings, key=key, now=clock.now())
        return Response(made.data, media_type="application/zip",
                        headers={"content-disposition": f'attachment; filename="{made.name}"'})
