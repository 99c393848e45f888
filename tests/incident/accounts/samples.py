"""Signing in through the login form, as the access and accounts tests both need it."""

from __future__ import annotations

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


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)
