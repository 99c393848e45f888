"""What a refused form held, kept for the page it is sent back to: read once, by the browser
that posted it only, gone after a few minutes, never a password (both lanes); and over HTTP,
a refused form answers with a redirect whose page shows the messages once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.held import (
    HOLD_FOR,
    KEPT_PER_OWNER,
    PAGE_MAX,
    HeldForm,
    decode,
    encode,
    hold,
    page_of,
    take,
    without_secrets,
)
from tests.factories import Person
from tests.sessions import signed_in

ALICE, BOB = "s:alice-session", "s:bob-session"


# --- pure -------------------------------------------------------------------------------------


class Colour(StrEnum):
    RED = "red"


@dataclass
class Note:
    at: str
    message: str


def test_what_is_kept_comes_back_as_it_went_in() -> None:
    berlin = datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"), fold=1)
    year_one = datetime(1, 1, 1, tzinfo=ZoneInfo("Europe/Berlin"))  # no UTC instant before it
    back = decode(encode({"berlin": berlin, "year_one": year_one}))
    assert back == {"berlin": berlin, "year_one": year_one}
    assert back["berlin"].tzinfo == berlin.tzinfo and back["berlin"].fold == 1
    assert back["year_one"].astimezone(ZoneInfo("Europe/Berlin")) == year_one
    held = {"when": datetime(2026, 3, 10, 9, 30, tzinfo=UTC), "day": date(2026, 3, 10),
            "notice": Note("move", "Not now."), "pair": (3, "why"), "colour": Colour.RED,
            "tags": {"b", "a"}, "nested": {"list": [1, None, True, 2.5]}}
    assert decode(encode(held)) == {
        "when": datetime(2026, 3, 10, 9, 30, tzinfo=UTC), "day": date(2026, 3, 10),
        "notice": {"at": "move", "message": "Not now."}, "pair": [3, "why"], "colour": "red",
        "tags": ["a", "b"], "nested": {"list": [1, None, True, 2.5]}}
    with pytest.raises(TypeError, match="cannot keep a bytes"):
        encode({"file": b"\x00"})


def test_secret_fields_are_dropped_at_any_depth() -> None:
    held = {"typed": {"email": "kim@example.com", "password": "hunter2-hunter2",
                      "new_password_again": "x", "code": "123456", "totp.code": "1",
                      "api_key": "k", "webhook_secret": "s", "token": "t", "name": "Kim"},
            "rows": [{"passphrase": "p", "key": "gdpr/authority"}],
            "error": "The two new passwords differ.", "note": "a code of conduct"}
    assert without_secrets(held, secret={"note"}) == {
        "typed": {"email": "kim@example.com", "name": "Kim"},
        "rows": [{"key": "gdpr/authority"}], "error": "The two new passwords differ."}


def test_the_page_a_redirect_names() -> None:
    assert page_of("/incidents/BR-2026-0001/notifications/3?lang=de#fields") == (
        "/incidents/BR-2026-0001/notifications/3")
    assert page_of("/users/#new-user") == "/users" == page_of("/users")
    assert page_of("/") == "/"


# --- in the database ------------------------------------------------------------------------------


async def rows(engine: AsyncEngine) -> list[HeldForm]:
    async with session_factory(engine)() as db:
        return list((await db.exec(select(HeldForm))).all())


async def test_a_held_form_is_read_once_by_its_own_browser_only(
        db: AsyncSession, clock: FixedClock) -> None:
    now = clock.now()
    await hold(db, now=now, owner=ALICE, page="/setup#setup-errors",
               held={"errors": [{"field": "name", "message": "is required"}]})
    assert await take(db, now=now, owner=BOB, page="/setup") == {}  # another session
    assert await take(db, now=now, owner=ALICE, page="/users") == {}  # another page
    assert await take(db, now=now, owner=ALICE, page="/setup") == {
        "errors": [{"field": "name", "message": "is required"}]}
    assert await take(db, now=now, owner=ALICE, page="/setup") == {}  # once
    assert not db.in_transaction()


async def test_a_new_refusal_replaces_the_one_kept_for_that_page(
        db: AsyncSession, engine: AsyncEngine, clock: FixedClock) -> None:
    now = clock.now()
    await hold(db, now=now, owner=ALICE, page="/users", held={"notice": "first"})
    await hold(db, now=now, owner=ALICE, page="/users#users-notice", held={"notice": "second"})
    assert len(await rows(engine)) == 1
    assert await take(db, now=now, owner=ALICE, page="/users") == {"notice": "second"}


async def test_a_held_form_expires_and_expired_ones_are_cleared(
        db: AsyncSession, engine: AsyncEngine, clock: FixedClock) -> None:
    await hold(db, now=clock.now(), owner=ALICE, page="/setup", held={"error": "late"})
    await hold(db, now=clock.now(), owner=BOB, page="/setup", held={"error": "late too"})
    clock.advance(HOLD_FOR - timedelta(seconds=1))
    assert await take(db, now=clock.now(), owner=BOB, page="/setup") == {"error": "late too"}
    clock.advance(timedelta(seconds=1))
    assert await take(db, now=clock.now(), owner=ALICE, page="/setup") == {}
    assert [r.owner for r in await rows(engine)] == [ALICE]  # expired, not yet cleared
    await hold(db, now=clock.now(), owner=BOB, page="/users", held={"notice": "new"})
    assert [(r.owner, r.page) for r in await rows(engine)] == [(BOB, "/users")]


async def test_a_password_typed_into_a_form_is_never_written(
        db: AsyncSession, engine: AsyncEngine, clock: FixedClock) -> None:
    await hold(db, now=clock.now(), owner="l:digest", page="/login",
               held={"error": "Wrong e-mail or password.", "email": "kim@example.com",
                     "password": "correct horse battery"}, secret={"email"})
    [row] = await rows(engine)
    assert row.held == {"error": "Wrong e-mail or password."}
    assert "correct horse" not in str(row.held)


async def test_each_browser_keeps_only_its_newest_pages(
        db: AsyncSession, engine: AsyncEngine, clock: FixedClock) -> None:
    for n in range(KEPT_PER_OWNER + 3):
        await hold(db, now=clock.now(), owner=ALICE, page=f"/incidents/BR-{n}", held={"n": n})
    await hold(db, now=clock.now(), owner=BOB, page="/setup", held={"n": -1})
    kept = sorted(r.page for r in await rows(engine) if r.owner == ALICE)
    assert len(kept) == KEPT_PER_OWNER and "/incidents/BR-0" not in kept
    assert await take(db, now=clock.now(), owner=BOB, page="/setup") == {"n": -1}


async def test_nothing_is_kept_for_a_path_no_page_has(
        db: AsyncSession, engine: AsyncEngine, clock: FixedClock) -> None:
    long = "/incidents/" + "x" * PAGE_MAX
    await hold(db, now=clock.now(), owner=ALICE, page=long, held={"notice": "lost"})
    assert await rows(engine) == []
    assert await take(db, now=clock.now(), owner=ALICE, page=long) == {}


async def test_taking_must_come_before_the_page_reads(db: AsyncSession,
                                                      clock: FixedClock) -> None:
    await db.exec(select(HeldForm))
    with pytest.raises(RuntimeError, match="before the page reads"):
        await take(db, now=clock.now(), owner=ALICE, page="/setup")


# --- over HTTP -------------------------------------------------------------------------------------


async def test_a_refused_form_redirects_and_its_page_shows_why_once_in_that_session_only(
        app: Litestar, people: dict[str, Person], engine: AsyncEngine) -> None:
    admin = people["admin"]
    typed: dict[str, Any] = {"email": "", "name": "Kim Tanaka", "role": "auditor"}
    async for mine in signed_in(app, admin):
        async for other in signed_in(app, admin):  # the same person, another browser
            refused = await mine.post("/users", typed)
            assert refused.status_code == 303
            assert refused.headers["location"] == "/users#new-user-heading"
            assert 'id="new-email-error"' not in (await other.client.get("/users")).text
            page = await mine.client.get("/users")
            assert page.status_code == 200
            assert 'id="new-email-error">is required' in page.text
            assert 'value="Kim Tanaka"' in page.text
            assert '<option value="auditor" selected>' in page.text
            again = await mine.client.get("/users")  # a reload shows the form afresh
            assert 'id="new-email-error"' not in again.text and "Kim Tanaka" not in again.text
    assert await rows(engine) == []
