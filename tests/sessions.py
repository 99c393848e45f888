"""A signed-in web session into an in-process app: the cookie a browser would keep, and the
CSRF token its forms carry. For page tests that need no real browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
from litestar import Litestar

from tests.factories import Person, client_for

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A signed-in web session: its cookie lives in the client, its CSRF token here."""

    def __init__(self, client: httpx.AsyncClient, csrf: str) -> None:
        self.client, self.csrf = client, csrf

    async def page(self, reference: str) -> httpx.Response:
        """The incident page of `reference`, which must answer 200."""
        response = await self.client.get(f"/incidents/{reference}")
        assert response.status_code == 200, response.text
        return response

    async def post(self, path: str, data: dict[str, str] | None = None,
                   files: dict[str, Any] | None = None) -> httpx.Response:
        """Submit a form as the page would: with the CSRF token, without following redirects."""
        return await self.client.post(path, data={"csrf_token": self.csrf, **(data or {})},
                                      files=files, follow_redirects=False)

    async def sent_back(self, path: str, data: dict[str, Any] | None = None,
                        files: dict[str, Any] | None = None, *,
                        to: str | None = None) -> httpx.Response:
        """Submit a form the server refuses: it must send the browser back (303, to `to` when
        given, anchor included) to a page that answers 200, which is returned: the page that
        shows why, once."""
        response = await self.post(path, data, files)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        if to is not None:
            assert location == to
        page = await self.client.get(location)
        assert page.status_code == 200, page.text
        return page


async def signed_in(app: Litestar, person: Person) -> AsyncIterator[Browser]:
    """Sign `person` in through the login form; yields their session until the caller is done."""
    async with client_for(app) as client:
        form = await client.get("/login")
        token = CSRF.search(form.text)
        assert token is not None
        signed = await client.post("/login", data={
            "email": person.email, "password": person.password, "csrf_token": token.group(1),
            "next": "/incidents"}, follow_redirects=False)
        assert signed.status_code in (302, 303), signed.text
        listed = await client.get("/incidents")
        csrf = CSRF.search(listed.text)
        assert csrf is not None
        yield Browser(client, csrf.group(1))
