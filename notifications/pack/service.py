"""The evidence pack of one incident: everything an auditor needs to check it, in one signed
zip that `verify.py` (inside it) checks offline.

It holds the incident's timeline exactly as stored (JSON Lines and CSV), the latest signed
checkpoint that covers it (one is made first if the timeline changed since the last), the
public keys, the evidence files (by SHA-256), every notification's versions with their
approval, the exact bytes of each message sent to an authority (and, for someone who may
read personal data, to each person), the per-recipient delivery log with people by their id
only, the bounce reports about the deliveries (each report's message by the same rule as the
message it is about, and by its SHA-256 always), the obligations with their basis, and a PDF
summary. `manifest.json` lists every file with its SHA-256 and is signed with the checkpoint
key (`manifest.sig`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.audit.checkpoints import make_checkpoint
from incident.audit.export import EXPORT_COLUMNS, export_row
from incident.audit.rules import heads_of
from incident.audit.service import checkpoint_log, keyring
from incident.containment.models import Evidence, EvidenceBlob
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.settings import Settings, templates_dir
from incident.lifecycle.models import Incident
from incident.lifecycle.service import get_incident
from incident.timeline import service as journal
from incident.timeline.rules import canonical_json, format_instant
from notifications.bounces.models import BounceReport
from notifications.bounces.reports import masked, reports_of, sha256_of
from notifications.delivery.models import SentMessage
from notifications.drafting.documents import pdf_of
from notifications.drafting.models import Delivery, Notification, NotificationVersion
from notifications.drafting.rules import NotificationKind
from notifications.obligations.models import IncidentObligation

FORMAT = "breachdesk-evidence-pack/1"
VERIFIER = Path(__file__).with_name("verify.py")


@dataclass(frozen=True)
class Pack:
    name: str
    """The zip's file name: `<reference>-evidence-pack.zip`."""
    data: bytes
    files: int


def _instant(value: datetime | None) -> str | None:
    return format_instant(value) if value is not None else None


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n").encode()


async def build_pack(db: AsyncSession, *, actor: Actor, settings: Settings, key: str | uuid.UUID,
                     now: datetime) -> Pack:
    """The incident's evidence pack, as someone with `actor`'s rights may take it away."""
    auth.require(actor, Permission.AUDIT_REPORTS)
    incident = await get_incident(db, actor=actor, key=key)
    chain = str(incident.id)
    keys, log = keyring(settings), checkpoint_log(settings)
    # A checkpoint first, so the pack's timeline is signed to its last event (it ends the
    # session's transaction: the incident is read again after it).
    await make_checkpoint(db, keys=keys, log=log, now=now)
    incident = await get_incident(db, actor=actor, key=key)
    files: dict[str, bytes] = {}
    events = await journal.events(db, chain)
    # As `breach audit export` writes them; each JSON line also names its chain.
    files["timeline.jsonl"] = "".join(
        json.dumps({"chain": e.chain, **export_row(e)}, ensure_ascii=False) + "\n"
        for e in events).encode()
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(export_row(e) for e in events)
    files["timeline.csv"] = table.getvalue().encode()
    entries, _ = log.read()
    covering = [e for e in entries if chain in e.body.get("chains", {})]
    files["checkpoints.jsonl"] = "".join(
        json.dumps({"body": e.body, "hash": e.hash, "signature": e.signature, "key": e.key},
                   sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
        for e in covering[-1:]).encode()
    files["public-keys.json"] = _json([k.as_dict() for k in keys.public_keys()])
    files["incident.json"] = _json(_incident_facts(incident))
    obligations = (await db.exec(select(IncidentObligation).where(
        IncidentObligation.incident_id == incident.id).order_by(
        col(IncidentObligation.due_at)))).all()
    files["obligations.json"] = _json([_obligation(o) for o in obligations])
    evidence = (await db.exec(select(Evidence).where(Evidence.incident_id == incident.id)
                              .order_by(col(Evidence.id)))).all()
    listed = []
    for item in evidence:
        blob = await db.get(EvidenceBlob, item.sha256)
        path = f"evidence/{item.sha256}"
        if blob is not None:
            files[path] = blob.content
        listed.append({"id": item.id, "file": path, "filename": item.filename,
                       "sha256": item.sha256, "size": item.size, "content_type": item.content_type,
                       "description": item.description, "uploaded_by": item.uploaded_by,
                       "uploaded_at": _instant(item.uploaded_at)})
    files["evidence.json"] = _json(listed)
    personal = actor.can(Permission.READ_PERSONAL_DATA)
    notices = await _notifications(db, incident, personal, files)
    signed = heads_of(covering[-1].body).get(chain) if covering else None
    files["summary.pdf"] = pdf_of(_summary_html(settings, {
        "incident": _incident_facts(incident), "events": len(events),
        "checkpoint": covering[-1].number if covering else None,
        "signed_seq": signed.seq if signed else None,
        "obligations": [_obligation(o) for o in obligations], "notifications": notices,
        "evidence": listed, "made_at": format_instant(now), "made_by": actor.label,
        "keys": [k.as_dict() for k in keys.public_keys()], "personal": personal}))
    files["README.txt"] = _readme(incident.reference, keys.current(now).fingerprint).encode()
    manifest = {"format": FORMAT, "incident": incident.reference, "chain": chain,
                "made_at": format_instant(now), "made_by": actor.label,
                "personal_data": personal,
                "files": {name: _sha256(data) for name, data in sorted(files.items())}}
    signature, key_id = keys.sign(canonical_json(manifest), now)
    folder = f"{incident.reference}-evidence-pack"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(f"{folder}/{name}", data)
        archive.writestr(f"{folder}/manifest.json", _json(manifest))
        archive.writestr(f"{folder}/manifest.sig",
                         _json({"key": key_id, "signature": signature}))
        archive.writestr(f"{folder}/verify.py", VERIFIER.read_bytes())
    return Pack(f"{folder}.zip", buffer.getvalue(), len(files) + 3)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _incident_facts(incident: Incident) -> dict[str, Any]:
    return {"reference": incident.reference, "title": incident.title, "kind": incident.kind,
            "status": incident.status, "breach_types": list(incident.breach_types),
            "data_categories": list(incident.data_categories),
            "occurred_from": _instant(incident.occurred_from),
            "occurred_to": _instant(incident.occurred_to),
            "detected_at": _instant(incident.detected_at), "aware_at": _instant(incident.aware_at),
            "contained_at": _instant(incident.contained_at),
            "estimated_subjects": incident.estimated_subjects,
            "estimated_records": incident.estimated_records,
            "created_at": _instant(incident.created_at)}


def _obligation(row: IncidentObligation) -> dict[str, Any]:
    return {"ref": row.ref, "recipient": row.recipient_name, "applies": row.applies,
            "due_at": _instant(row.due_at), "status": row.status, "met_at": _instant(row.met_at),
            "how": row.how, "late_reason": row.late_reason, "waiver": row.waiver,
            "recorded_by": row.status_by, "basis": row.computed}


async def _notifications(db: AsyncSession, incident: Incident, personal: bool,
                         files: dict[str, bytes]) -> list[dict[str, Any]]:
    """Each notification's versions and approval, its delivery log (people by id) and the
    messages sent: a report's always, a person's only for someone who may read it."""
    summary = []
    for notification in (await db.exec(select(Notification).where(
            Notification.incident_id == incident.id).order_by(col(Notification.id)))).all():
        base = f"notifications/{notification.id}"
        versions = (await db.exec(select(NotificationVersion).where(
            NotificationVersion.notification_id == notification.id).order_by(
            col(NotificationVersion.version)))).all()
        files[f"{base}/notification.json"] = _json({
            "id": notification.id, "ref": notification.ref, "covers": notification.refs,
            "kind": notification.kind, "sequence": notification.sequence,
            "status": notification.status, "content_hash": notification.content_hash,
            "approved_hash": notification.approved_hash, "approved_by": notification.approved_by,
            "approved_at": _instant(notification.approved_at),
            "sent_at": _instant(notification.sent_at),
            "finished_at": _instant(notification.finished_at),
            "recipients": notification.recipients,
            "versions": [{"version": v.version, "content_hash": v.content_hash,
                          "created_by": v.created_by, "created_at": _instant(v.created_at),
                          "fields": v.fields} for v in versions]})
        deliveries = (await db.exec(select(Delivery).where(
            Delivery.notification_id == notification.id).order_by(col(Delivery.id)))).all()
        sent = {m.delivery_id: m for m in (await db.exec(select(SentMessage).where(
            col(SentMessage.delivery_id).in_([d.id for d in deliveries])))).all()}
        report = notification.kind == NotificationKind.AUTHORITY_REPORT
        table = io.StringIO()
        columns = ["delivery", "recipient_id", "locale", "meets", "state", "attempts",
                   "message_id", "sent_at", "message_sha256", "message_file"]
        writer = csv.DictWriter(table, fieldnames=columns)
        writer.writeheader()
        for delivery in deliveries:
            message = sent.get(delivery.id or 0)
            kept = ""
            if message is not None and (report or personal):
                kept = f"{base}/messages/{delivery.id}.eml"
                files[kept] = zlib.decompress(message.raw)
            writer.writerow({"delivery": delivery.id, "recipient_id": delivery.recipient_key,
                             "locale": delivery.locale, "meets": delivery.meets,
                             "state": delivery.state, "attempts": delivery.attempts,
                             "message_id": delivery.message_id,
                             "sent_at": _instant(delivery.sent_at) or "",
                             "message_sha256": message.sha256 if message else "",
                             "message_file": kept})
        files[f"{base}/deliveries.csv"] = table.getvalue().encode()
        bounces = _bounces(await reports_of(db, notification.id or 0),
                           {d.id or 0: d for d in deliveries}, base, report or personal, files)
        summary.append({"id": notification.id, "ref": notification.ref, "kind": notification.kind,
                        "status": notification.status, "versions": len(versions),
                        "approved_by": notification.approved_by,
                        "sent_at": _instant(notification.sent_at),
                        "deliveries": len(deliveries), "messages_kept": len(sent),
                        "bounces": bounces})
    return summary


BOUNCE_COLUMNS = ["report", "delivery", "recipient_id", "received_at", "source", "kind",
                  "status", "diagnostic", "parsed", "size", "report_sha256", "report_file"]


def _bounces(found: list[BounceReport], deliveries: Mapping[int, Delivery], base: str,
             keep: bool, files: dict[str, bytes]) -> int:
    """The bounce reports about a notification's deliveries: `bounces.csv` (people by id; the
    diagnostic's addresses masked unless `keep`) and, when `keep`, each report's message as
    kept, `bounces/<report>.eml`; its SHA-256 is listed either way. How many there are."""
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=BOUNCE_COLUMNS)
    writer.writeheader()
    for bounce in found:
        delivery = deliveries[bounce.delivery_id or 0]
        kept = ""
        if keep:
            kept = f"{base}/bounces/{bounce.id}.eml"
            files[kept] = bounce.raw
        writer.writerow({"report": bounce.id, "delivery": bounce.delivery_id,
                         "recipient_id": delivery.recipient_key,
                         "received_at": _instant(bounce.received_at), "source": bounce.source,
                         "kind": bounce.kind or "", "status": bounce.status or "",
                         "diagnostic": (bounce.diagnostic if keep
                                        else masked(bounce.diagnostic, [delivery.address])) or "",
                         "parsed": "yes" if bounce.parsed else "no", "size": bounce.size,
                         "report_sha256": sha256_of(bounce), "report_file": kept})
    files[f"{base}/bounces.csv"] = table.getvalue().encode()
    return len(found)


def _summary_html(settings: Settings, values: Mapping[str, Any]) -> str:
    env = SandboxedEnvironment(loader=FileSystemLoader(templates_dir(settings) / "web"),
                               autoescape=True, undefined=StrictUndefined)
    return env.get_template("pack_summary.html").render(values)


def _readme(reference: str, fingerprint: str) -> str:
    return f"""Evidence pack of incident {reference}, made by Breachdesk.

To check it, in this folder, with Python 3.9+ and the `cryptography` package:

    python3 verify.py

It exits 0 when everything holds and names each thing that does not: a file missing, added
or changed, a manifest not signed by the pack's key, a timeline event edited, removed or
inserted, a checkpoint whose signature fails or that does not cover the events.

The key that signed this pack has the fingerprint

    {fingerprint}

Compare it with the fingerprint your organisation's DPO recorded when Breachdesk was set up
(`breach audit public-key`), over a channel the server's operators do not control.

Files: timeline.jsonl and timeline.csv (the incident's events exactly as stored),
checkpoints.jsonl (the latest signed checkpoint covering them), public-keys.json,
incident.json, obligations.json (each duty with its basis and what was done), evidence.json
and evidence/ (files by SHA-256), notifications/<id>/ (versions with their approval, the
delivery log with people by id only, messages/*.eml as sent, bounces.csv and bounces/*.eml:
the bounce reports received about the deliveries, each with its SHA-256), summary.pdf.
"""
