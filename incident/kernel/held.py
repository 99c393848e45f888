"""What a refused web form held, kept for the page the browser is sent back to.

Every form answers with a redirect (POST, redirect, GET), refused or not, so reloading the
page it lands on never posts the form again. A refused form's messages and what was typed
in it are kept here, in the database (any process may serve the GET that follows), for the
one page the redirect names:

- bound to the browser that posted it (`owner`: its session, or its API token, or on the
  sign-in page the sign-in form's own cookie), so no other session ever reads it;
- read once: the first GET of that page takes it and deletes it;
- short-lived: it expires after HOLD_FOR; every new one clears the expired, and so does the
  scheduler's `expired` job;
- never a password or another secret: fields named like one (SECRET_NAME) and those the
  form names are dropped before anything is written, so such a field comes back empty.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Column, Index, delete
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.db import transaction

HOLD_FOR = timedelta(minutes=5)
"""How long a refused form's messages wait for the page to be shown."""
PAGE_MAX = 500
"""The longest page path kept for (a longer one names no page: nothing is kept for it)."""
KEPT_PER_OWNER = 20
"""At most this many pages' held forms per browser (the newest stay)."""
SECRET_NAME = re.compile(r"password|passphrase|secret|token|otp|private|api_?key|(^|[._])code$",
                         re.IGNORECASE)
"""Field names that carry a secret: never kept, whatever the form."""


class HeldForm(SQLModel, table=True):
    """One refused form's messages and typed values, waiting for its page's next GET."""

    __tablename__ = "held_forms"
    __table_args__ = (Index("ix_held_forms_owner_page", "owner", "page"),)

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=80)
    """Whose browser: `s:` and its session's handle, `t:` and its API token's id, or `l:` and
    a digest of the sign-in form's cookie."""
    page: str = Field(max_length=PAGE_MAX)
    """The path of the page the form was sent back to (no query, no anchor)."""
    held: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    expires_at: datetime = Field(index=True)


# --- what is kept, and how (pure) -------------------------------------------------------------


def without_secrets(held: Mapping[str, Any], secret: Collection[str] = ()) -> dict[str, Any]:
    """`held` without the fields that carry a secret, at any depth: those SECRET_NAME
    matches and those named in `secret`."""

    def keep(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: keep(v) for k, v in value.items()
                    if not (isinstance(k, str) and (k in secret or SECRET_NAME.search(k)))}
        if isinstance(value, list | tuple):
            return [keep(v) for v in value]
        return value

    kept: dict[str, Any] = keep(held)
    return kept


def encode(value: Any) -> Any:
    """`value` as JSON: instants and dates tagged so they come back as they went in (an
    instant in a named zone, in that zone); dataclasses as their fields; enumerations as their
    values; tuples and sets as lists."""
    if isinstance(value, datetime):
        if isinstance(value.tzinfo, ZoneInfo):
            return {"$datetime": value.replace(tzinfo=None).isoformat(),
                    "$zone": value.tzinfo.key, "$fold": value.fold}
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Enum):
        return encode(value.value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(encode(v) for v in value)
    raise TypeError(f"a held form cannot keep a {type(value).__name__}")


def decode(value: Any) -> Any:
    """What `encode` made, back: instants and dates as such (dataclasses stay dicts)."""
    if isinstance(value, dict):
        if set(value) == {"$datetime", "$zone", "$fold"}:
            return datetime.fromisoformat(value["$datetime"]).replace(
                tzinfo=ZoneInfo(value["$zone"]), fold=int(value["$fold"]))
        if len(value) == 1 and "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if len(value) == 1 and "$date" in value:
            return date.fromisoformat(value["$date"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def page_of(target: str) -> str:
    """The page a redirect target names: its path, without query or anchor, and without a
    trailing slash (`/users/` and `/users` are one page)."""
    path = target.split("#", 1)[0].split("?", 1)[0]
    return path.rstrip("/") or "/"


# --- keeping and taking --------------------------------------------------------------------------


async def hold(db: AsyncSession, *, now: datetime, owner: str, page: str,
               held: Mapping[str, Any], secret: Collection[str] = ()) -> None:
    """Keep what a refused form held for `owner`'s next GET of `page` (replacing what was
    kept there before), without its secret fields. Clears every expired held form."""
    kept = encode(without_secrets(held, secret))
    if db.in_transaction():
        await db.rollback()  # the refused use case wrote nothing; end its reads
    page = page_of(page)
    if len(page) > PAGE_MAX or len(owner) > 80:
        return
    async with transaction(db):
        conn = await db.connection()
        await conn.execute(delete(HeldForm).where(col(HeldForm.expires_at) <= now))
        await conn.execute(delete(HeldForm).where(col(HeldForm.owner) == owner,
                                                  col(HeldForm.page) == page))
        db.add(HeldForm(owner=owner, page=page, held=kept, expires_at=now + HOLD_FOR))
        await db.flush()
        newest = select(HeldForm.id).where(HeldForm.owner == owner).order_by(
            col(HeldForm.id).desc()).limit(KEPT_PER_OWNER)
        await conn.execute(delete(HeldForm).where(col(HeldForm.owner) == owner,
                                                  col(HeldForm.id).not_in(newest)))


async def clear_expired(db: AsyncSession, *, now: datetime) -> int:
    """Delete every held form past its time (the scheduler's housekeeping); how many."""
    async with transaction(db):
        conn = await db.connection()
        gone = await conn.execute(delete(HeldForm).where(col(HeldForm.expires_at) <= now))
    return max(int(gone.rowcount or 0), 0)


async def take(db: AsyncSession, *, now: datetime, owner: str, page: str) -> dict[str, Any]:
    """What a refused form left for `owner` on `page`, once: it is deleted as it is read,
    and only the request whose delete removed it shows it. Empty when nothing (or only an
    expired one) is kept. Call it before the page reads anything else."""
    if db.in_transaction():
        raise RuntimeError("take() must run before the page reads anything")
    page = page_of(page)
    found = (await db.exec(select(HeldForm.id, HeldForm.held).where(
        HeldForm.owner == owner, HeldForm.page == page,
        col(HeldForm.expires_at) > now).order_by(col(HeldForm.id).desc()))).first()
    await db.rollback()  # most pages have nothing held: no write lock for them
    if found is None:
        return {}
    ident, kept = found
    async with transaction(db):
        conn = await db.connection()
        gone = await conn.execute(delete(HeldForm).where(col(HeldForm.id) == ident))
    if gone.rowcount != 1:  # another request of the same browser took it first
        return {}
    held: dict[str, Any] = decode(kept)
    return held
