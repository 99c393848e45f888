"""The pages tests' incident, its title and description carrying markup and template code, and
the check that such text is shown escaped and never run: shared by every page under test."""

from __future__ import annotations

import httpx

from tests.factories import Person
from tests.factories import affected_incident as outbox_incident

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CODE = "{{ 7*7 }}"
TITLE = f"Laptop {SCRIPT} stolen {CODE}"
DESCRIPTION = f"A laptop was stolen from a car. {SCRIPT} {CODE}"


def escaped(body: str) -> None:
    """The incident's text is on the page, escaped, and its template code was not run."""
    assert SCRIPT not in body
    assert ESCAPED in body
    assert CODE in body


async def affected_incident(client: httpx.AsyncClient, people: dict[str, Person]) -> str:
    """The factories' affected incident, its title and description carrying markup and template code."""
    return await outbox_incident(client, people, title=TITLE, description=DESCRIPTION)
