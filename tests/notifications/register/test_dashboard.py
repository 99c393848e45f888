"""The deadline dashboard and the incident list's "next due": every duty still owed by an open
incident, soonest first, with its urgency in words; the list filtered to overdue incidents.

GDPR Art. 33(1): the controller notifies the supervisory authority "not later than 72 hours
after having become aware of" the breach; notified later, the notification is accompanied by
the reasons for the delay. So an incident the team became aware of 80 hours ago owes its
report since 8 hours; one known for 68 hours has 4 hours left.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import httpx

from notifications.register.rules import URGENCY_LABELS, Urgency, time_left, urgency
from tests.factories import PROFILE, START, Person, new_incident
from tests.sessions import Browser

AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_urgency_follows_the_time_left() -> None:
    due = AT + timedelta(hours=72)
    assert urgency(due, due + timedelta(seconds=1)) is Urgency.OVERDUE
    assert urgency(due, due) is Urgency.SOON  # due exactly now is not late yet (Art. 33(1))
    assert urgency(due, due - timedelta(hours=5, minutes=59)) is Urgency.SOON
    assert urgency(due, due - timedelta(hours=6)) is Urgency.TODAY
    assert urgency(due, due - timedelta(hours=23, minutes=59)) is Urgency.TODAY
    assert urgency(due, due - timedelta(hours=24)) is Urgency.LATER
    assert urgency(None, AT) is Urgency.UNTIMED
    assert URGENCY_LABELS[Urgency.OVERDUE] == "Overdue"


def test_time_left_is_said_to_the_minute() -> None:
    due = AT + timedelta(hours=72)
    assert time_left(due, due - timedelta(hours=3, minutes=5)) == "3 h 05 min left"
    assert time_left(due, due + timedelta(days=2, hours=4)) == "overdue by 2 d 4 h"
    assert time_left(due, due - timedelta(minutes=7, seconds=30)) == "7 min left"
    assert time_left(None, AT) == ""


async def _aware_hours_ago(client: httpx.AsyncClient, person: Person, hours: int,
                           title: str) -> str:
    aware = START - timedelta(hours=hours)
    reference = await new_incident(
        client, person, title=title, occurred_from=(aware - timedelta(hours=2)).isoformat(),
        detected_at=(aware - timedelta(hours=1)).isoformat(), aware_at=aware.isoformat())
    await client.get(f"/api/v1/incidents/{reference}/obligations", headers=person.headers)
    return reference


def _authority_rows(page: str) -> list[tuple[str, str]]:
    """(incident, urgency) of each gdpr/authority row, in the order shown."""
    return re.findall(r'<tr class="due-row urgency-(\w+)" data-ref="gdpr/authority" '
                      r'data-incident="([^"]+)"', page)


async def test_the_dashboard_lists_open_duties_soonest_first_and_the_list_filters_overdue(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser) -> None:
    admin, writer = people["admin"], people["responder"]
    assert (await client.put("/api/v1/organisation", json=PROFILE,
                             headers=admin.headers)).status_code == 200
    later = await _aware_hours_ago(client, writer, 1, "Known for an hour")
    today = await _aware_hours_ago(client, writer, 60, "Known for 60 hours")
    overdue = await _aware_hours_ago(client, writer, 80, "Known for 80 hours")
    soon = await _aware_hours_ago(client, writer, 68, "Known for 68 hours")
    met = await _aware_hours_ago(client, writer, 79, "Reported already")
    assert (await client.post(f"/api/v1/incidents/{met}/obligations/gdpr/authority", json={
        "status": "met", "at": (START - timedelta(hours=20)).isoformat(),
        "how": "Authority portal"}, headers=writer.headers)).status_code == 200

    board = await responder.client.get("/dashboard")
    assert board.status_code == 200
    page = html.unescape(board.text)
    assert [(ref, level) for level, ref in _authority_rows(page)] == [
        (overdue, "overdue"), (soon, "soon"), (today, "today"), (later, "later")]
    assert "Overdue" in page and "Due in under 6 h" in page and "Due in under 24 h" in page
    assert "overdue by 8 h 00 min" in page and "4 h 00 min left" in page
    assert f'href="/incidents/{overdue}#obligation-gdpr-authority"' in page
    assert page.count("Times in <strong>Europe/Berlin</strong>") == 1
    assert met not in [ref for _, ref in _authority_rows(page)]

    listed = html.unescape((await responder.client.get("/incidents")).text)
    assert "Next due" in listed
    row = re.search(rf'{overdue}</a></td>.*?</tr>', listed, re.S)
    assert row is not None and 'urgency-overdue">Overdue<' in row.group(0)
    only = html.unescape((await responder.client.get("/incidents?overdue=1")).text)
    assert f">{overdue}<" in only and f">{soon}<" not in only and f">{later}<" not in only
    assert 'name="overdue" value="1" checked' in only
    none_open = html.unescape((await responder.client.get(
        "/incidents?overdue=1&status=closed")).text)
    assert "No incidents match these filters." in none_open
