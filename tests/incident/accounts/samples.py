"""Signing in through the login form, as the access and accounts tests both need it."""

from __future__ import annotations

import html
import re

import httpx


async def sign_in(client: httpx.AsyncClient, email: str, password: str,
                  next_path: str = "/incidents") -> httpx.Response:
    """Post the login form with its own CSRF token; the answer is not followed."""
    form = await client.get(f"/login?next={next_path}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    return await client.post("/login", data={"email": email, "password": password,
                                             "csrf_token": token.group(1), "next": next_path},
                             follow_redirects=False)


async def sign_in_refused(client: httpx.AsyncClient, email: str, password: str,
                          next_path: str = "/incidents") -> str:
    """Post the login form expecting a refusal: it must send the browser back (303) to the
    sign-in page, which says why; returns that sentence."""
    response = await sign_in(client, email, password, next_path)
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/login?")
    assert "breach_session" not in response.cookies
    page = await client.get(response.headers["location"])
    found = re.search(r'id="sign-in-error">([^<]*)<', page.text)
    assert found is not None, page.text
    return html.unescape(found.group(1))


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)
