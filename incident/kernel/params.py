"""Query parameters shared by the JSON API's list routes, with their bounds."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

Limit = Annotated[int, QueryParameter(ge=1, le=500)]


Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000_000)]
