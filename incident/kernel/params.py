"""Path and query parameters shared by the API and the pages, with their bounds.

Every row id lives in a 32-bit INTEGER column (see the migrations): a larger number can name
no row, and would make the database driver fail, so the edge refuses it as a malformed request.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from incident.kernel.bounds import ROW_ID_MAX

RowId = Annotated[int, PathParameter(ge=1, le=ROW_ID_MAX)]
"""A row id in a path (`/{x_id:int}`): 1 … 2**31-1, otherwise 400."""

RowIdQuery = Annotated[int | None, QueryParameter(ge=1, le=ROW_ID_MAX)]
"""An optional row id in a query string (a cursor such as `?before=`)."""

Limit = Annotated[int, QueryParameter(ge=1, le=500)]


Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000_000)]


InstantQuery = Annotated[str | None, QueryParameter(
    max_length=40, description="a date and time with an offset (RFC 3339), 1970 … 9998")]
"""An instant in a list filter, parsed by `schemas.parse_instant` (which names the parameter)."""
