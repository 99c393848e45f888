"""Hostile names, titles and free text go through drafts and the outbox as data, nothing more."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from incident.kernel.settings import REPOSITORY
from notifications.delivery.mailer import pool_from_url
from notifications.delivery.outbox import Dispatcher
from notifications.drafting.render import renderer
from tests.factories import PROFILE, Person, incident_body
from tests.smtp_server import SmtpServer

CORPUS = [
    "Eve\r\nBcc: victim@evil.example",
    "{{ 7*7 }} {% raw %}x{% endraw %}",
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "\u202eevil.exe\u202c",
    "L" * 5000,
]


async def test_injection_corpus_yields_the_intended_recipients_headers_and_text(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, smtp_server: SmtpServer) -> None:
    admin, responder, approver = people["admin"], people["responder"], people["approver"]
    await client.put("/api/v1/organisation", json=PROFILE, headers=admin.headers)
    await client.put("/api/v1/systems/crm", json={"name": "CRM"}, headers=admin.headers)
    rows = "".join(f"h-{n},h{n}@example.com,Person,en,DE,,crm,contact,,\n"
                   for n in range(len(CORPUS)))
    await client.post("/api/v1/subjects/import", headers={**admin.headers, "content-type": "text/csv"},
                      content=("external_id,email,name,locale,country,region,system,categories,"
                               "first_seen,last_seen\n" + rows).encode())
    # Names as an older import or another tool may have stored them, control characters included.
    async with engine.begin() as conn:
        for n, name in enumerate(CORPUS):
            await conn.execute(text("UPDATE subjects SET name = :name WHERE external_id = :id"),
                               {"name": name[:200], "id": f"h-{n}"})
    hostile = incident_body(title="<script>alert('t')</script> {{ 7*7 }}",
                            description="Line one\r\nBcc: all@evil.example\n<b>bold</b> {{ 7*7 }}")
    created = await client.post("/api/v1/incidents", headers=responder.headers, json=hostile)
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    # A direction override is refused at the edge today; one stored earlier must still be data.
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE incidents SET description = description || :rlo "
                                "WHERE reference = :ref"), {"rlo": " \u202eabc", "ref": reference})
    await client.put(f"/api/v1/incidents/{reference}/scope", json={}, headers=responder.headers)
    await client.post(f"/api/v1/incidents/{reference}/affected", headers=responder.headers)
    await client.get(f"/api/v1/incidents/{reference}/obligations", headers=responder.headers)
    base = f"/api/v1/incidents/{reference}/notifications"
    draft = (await client.post(base, json={"obligation": "gdpr/data-subjects"},
                               headers=responder.headers)).json()
    edited = (await client.patch(f"{base}/{draft['id']}", headers=responder.headers, json={
        "version": 1, "fields": {"consequences": "<script>x()</script> {{ 7*7 }}\r\nTo: x@evil.example",
                                 "measures": "M" * 10_000}})).json()
    await client.post(f"{base}/{draft['id']}/approve", json={"content_hash": edited["content_hash"]},
                      headers=approver.headers)
    assert (await client.post(f"{base}/{draft['id']}/send", json={"fallback": "en"},
                              headers=responder.headers)).status_code == 202

    pool = pool_from_url(smtp_server.url, size=2, timeout=5)
    try:
        await Dispatcher(engine, pool, renderer(REPOSITORY / "templates"), clock=clock,
                         sender="Example <privacy@example.com>", worker="w").run_once()
    finally:
        await pool.close()

    received = smtp_server.messages
    assert sorted(r for m in received for r in m.rcpt_tos) == sorted(
        f"h{n}@example.com" for n in range(len(CORPUS)))
    for message in received:
        parsed = message.parsed()
        assert len(parsed.get_all("To") or []) == 1 and parsed["Bcc"] is None
        assert "\n" not in str(parsed["Subject"]) and "\r" not in str(parsed["Subject"])
        header_block = message.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
        names = [line.split(":", 1)[0].lower() for line in header_block.split("\r\n")
                 if line and not line[0].isspace()]
        assert sorted(names) == sorted(["date", "from", "to", "subject", "message-id",
                                        "reply-to", "mime-version", "content-type"])
        # The organisation speaks: its own name and address; replies go to its DPO.
        assert str(parsed["From"]) == "Example GmbH Privacy Team <privacy@example.com>"
        assert str(parsed["Reply-To"]) == "dpo@example.com"
        addresses = parsed["To"].addresses
        assert [a.addr_spec for a in addresses] == [message.rcpt_tos[0]]
        plain = parsed.get_body(("plain",))
        html = parsed.get_body(("html",))
        assert plain is not None and html is not None
        body_text, body_html = plain.get_content(), html.get_content()
        # Typed braces are text: they reach the reader as typed, never evaluated.
        assert body_text.count("{{ 7*7 }}") >= 1 and "49 30 1234" in body_text
        assert "<script" not in body_html and "&lt;script&gt;" in body_html
        assert "<img src=x" not in body_html
        assert "Bcc: all@evil.example" in body_text  # typed text stays text, in the body only
