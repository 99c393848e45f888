"""`/health` (the process is up) and `/ready` (the database answers and its schema is current)."""

from __future__ import annotations

from litestar import Controller, Response, get

from incident.kernel.db import SchemaOutOfDate, check_schema
from incident.kernel.injected import Engine


class HealthController(Controller):
    path = "/"
    tags = ["health"]

    @get("/health")
    async def health(self) -> dict[str, str]:
        """The process is up (no dependencies checked)."""
        return {"status": "ok"}

    @get("/ready")
    async def ready(self, engine: Engine) -> Response[dict[str, str]]:
        """The database answers and its schema is the one this version expects."""
        try:
            await check_schema(engine)
        except SchemaOutOfDate as exc:
            return Response({"status": "unavailable", "detail": str(exc)}, status_code=503)
        except Exception:  # any database failure means "not ready", never a 500
            return Response({"status": "unavailable", "detail": "the database does not answer"},
                            status_code=503)
        return Response({"status": "ready"})
