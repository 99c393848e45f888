"""Signed checkpoints against someone who holds the database: every way of rewriting a
timeline, done as they would (append-only triggers dropped, heads rewritten, hashes
recomputed with the project's own functions), found by `breach audit verify` on both lanes;
the checkpoint log outside the database altered, found too; a key rotation verified across."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.audit.checkpoints import CheckpointLog
from incident.audit.rules import body_text
from incident.kernel.clock import FixedClock
from incident.kernel.db import create_engine
from incident.kernel.settings import Settings
from incident.timeline.rules import GENESIS, link_hash
from tests.cli_support import Breach
from tests.incident.timeline.samples import raw

T = TypeVar("T")


def incident(breach: Breach, title: str, notes: int) -> str:
    """An incident made from the command line with `notes` notes: its reference."""
    reference = breach("incidents", "create", "--title", title, "--kind", "lost_device",
                       "--category", "contact").stdout.strip()
    for n in range(notes):
        breach("incidents", "note", reference, f"note {n}")
    return reference


class Attacker:
    """Someone with the database and the source code: raw SQL past the append-only guard,
    chains rehashed with the project's own `link_hash`. Synchronous, since the commands run
    their own event loop; each call opens its own connection."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.effective_database_url

    def _run(self, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
        async def main() -> T:
            engine = create_engine(self.url)
            try:
                return await work(engine)
            finally:
                await engine.dispose()
        return asyncio.run(main())

    def sql(self, *statements: str, **params: object) -> None:
        self._run(lambda engine: raw(engine, *statements, **params))

    def chain(self, reference: str) -> str:
        async def work(engine: AsyncEngine) -> str:
            async with engine.connect() as conn:
                stored = (await conn.execute(text(
                    "SELECT id FROM incidents WHERE reference = :r"),
                    {"r": reference})).scalar_one()
            return str(uuid.UUID(str(stored)))  # SQLite keeps it as 32 hex digits
        return self._run(work)

    def events(self, chain: str) -> list[dict[str, Any]]:
        async def work(engine: AsyncEngine) -> list[dict[str, Any]]:
            async with engine.connect() as conn:
                found = await conn.execute(text(
                    "SELECT seq, at, actor, kind, payload, hash FROM timeline_events "
                    "WHERE chain = :c ORDER BY seq"), {"c": chain})
                return [dict(row._mapping) for row in found]
        return self._run(work)

    def rewrite(self, chain: str, events: list[dict[str, Any]]) -> None:
        """`events` as the whole chain, numbered and hashed as the project does, with the
        head to match."""
        self.sql("DELETE FROM timeline_events WHERE chain = :c", c=chain)

        async def work(engine: AsyncEngine) -> None:
            previous = GENESIS
            async with engine.begin() as conn:
                for seq, event in enumerate(events, 1):
                    digest = link_hash(prev_hash=previous, chain=chain, seq=seq,
                                       at=aware(event["at"]), actor=event["actor"],
                                       kind=event["kind"], payload=event["payload"])
                    await conn.execute(text(
                        "INSERT INTO timeline_events (chain, seq, at, actor, kind, payload, "
                        "prev_hash, hash) VALUES (:c, :s, :at, :actor, :kind, :payload, :prev, "
                        ":hash)"), {"c": chain, "s": seq, "at": event["at"],
                                    "actor": event["actor"], "kind": event["kind"],
                                    "payload": event["payload"], "prev": previous,
                                    "hash": digest})
                    previous = digest
                await conn.execute(text(
                    "UPDATE timeline_heads SET seq = :s, hash = :h WHERE chain = :c"),
                    {"s": len(events), "h": previous, "c": chain})
        self._run(work)

    def erase(self, chain: str) -> None:
        """The chain's events and head, gone."""
        self.sql("DELETE FROM timeline_events WHERE chain = :c", "DELETE FROM timeline_heads "
                 "WHERE chain = :c", c=chain)


def aware(at: datetime | str) -> datetime:
    """An instant as the database gives it back (SQLite: naive text), in UTC."""
    at = datetime.fromisoformat(at) if isinstance(at, str) else at
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def verdict(breach: Breach) -> dict[str, Any]:
    done = breach("audit", "verify", "--json", ok=False)
    result: dict[str, Any] = json.loads(done.stdout)
    assert (done.exit_code == 0) is result["ok"], done.stderr
    return result


def finding(result: dict[str, Any], reference: str) -> dict[str, Any]:
    return next(c for c in result["chains"] if c["name"] == reference)


def signed(breach: Breach) -> tuple[str, str]:
    """Two incidents (3 and 5 events), then a checkpoint: their references."""
    first, second = incident(breach, "Lost phone", 2), incident(breach, "Lost laptop", 4)
    breach("audit", "checkpoint")
    result = verdict(breach)
    assert result["ok"] and result["checkpoint"] == 1
    assert {c["name"]: c["finding"] for c in result["chains"]} == {
        first: "ok", second: "ok", "organisation": "ok"}
    return first, second


def test_without_tampering_every_chain_holds_and_later_events_are_reported_as_such(
        breach: Breach) -> None:
    first, second = signed(breach)
    breach("incidents", "note", first, "after the checkpoint")
    result = verdict(breach)
    assert result["ok"]
    assert finding(result, first)["finding"] == "added"
    assert finding(result, first)["detail"] == "1 event added after checkpoint 1"
    assert finding(result, second)["finding"] == "ok"


def test_a_changed_payload_a_deleted_or_a_forged_event_breaks_the_chain(
        breach: Breach, settings: Settings) -> None:
    first, second = signed(breach)
    attacker = Attacker(settings)
    chain, other = attacker.chain(first), attacker.chain(second)
    attacker.sql("UPDATE timeline_events SET payload = '{\"text\":\"nothing\"}' "
                 "WHERE chain = :c AND seq = 2", c=chain)
    attacker.sql("DELETE FROM timeline_events WHERE chain = :c AND seq = 3", c=other)
    result = verdict(breach)
    assert not result["ok"]
    assert (finding(result, first)["finding"], finding(result, first)["first_bad_seq"]) == (
        "broken", 2)
    assert (finding(result, second)["finding"], finding(result, second)["first_bad_seq"]) == (
        "broken", 3)


def test_events_cut_from_the_end_with_the_head_rewritten_are_found_missing(
        breach: Breach, settings: Settings) -> None:
    first, _ = signed(breach)
    attacker = Attacker(settings)
    chain = attacker.chain(first)
    kept = attacker.events(chain)[:1]
    attacker.sql("DELETE FROM timeline_events WHERE chain = :c AND seq > 1",
                 "UPDATE timeline_heads SET seq = 1, hash = :h WHERE chain = :c",
                 c=chain, h=kept[0]["hash"])
    result = verdict(breach)
    assert finding(result, first)["finding"] == "truncated"
    assert finding(result, first)["detail"] == "checkpoint 1 signed 3 events; 1 is left"
    assert finding(result, first)["first_bad_seq"] == 2


def test_a_chain_changed_and_rehashed_whole_does_not_match_the_signed_head(
        breach: Breach, settings: Settings) -> None:
    first, _ = signed(breach)
    attacker = Attacker(settings)
    chain = attacker.chain(first)
    events = attacker.events(chain)
    events[1]["payload"] = json.dumps({"text": "a different note"})
    attacker.rewrite(chain, events)
    result = verdict(breach)
    assert finding(result, first)["finding"] == "rewritten"
    assert finding(result, first)["first_bad_seq"] == 3


def test_a_backdated_event_inserted_and_the_rest_renumbered_is_found(
        breach: Breach, settings: Settings) -> None:
    first, _ = signed(breach)
    attacker = Attacker(settings)
    chain = attacker.chain(first)
    events = attacker.events(chain)
    forged = {**events[1], "payload": json.dumps({"text": "we told the authority at once"})}
    attacker.rewrite(chain, [events[0], forged, *events[1:]])
    assert finding(verdict(breach), first)["finding"] == "rewritten"


def test_a_chain_deleted_whole_and_its_incident_too_is_missed(
        breach: Breach, settings: Settings) -> None:
    first, second = signed(breach)
    attacker = Attacker(settings)
    chain, other = attacker.chain(first), attacker.chain(second)
    attacker.erase(chain)
    result = verdict(breach)
    assert finding(result, first)["finding"] == "missing"
    assert finding(result, first)["detail"] == "checkpoint 1 signed 3 events of it; none is left"
    # The incident's row gone as well: the checkpoint still names its chain.
    attacker.erase(other)
    attacker.sql("DELETE FROM incidents WHERE reference = :r", r=second)
    gone = next(c for c in verdict(breach)["chains"] if c["chain"] == other)
    assert (gone["finding"], gone["ok"]) == ("missing", False)


def test_an_incident_whose_timeline_does_not_begin_with_its_creation_is_broken(
        breach: Breach, settings: Settings) -> None:
    signed(breach)
    later = incident(breach, "Begun after the checkpoint", 1)
    attacker = Attacker(settings)
    chain = attacker.chain(later)
    attacker.rewrite(chain, attacker.events(chain)[1:])
    assert finding(verdict(breach), later)["finding"] == "uncreated"
    attacker.erase(chain)
    result = verdict(breach)
    assert (finding(result, later)["finding"], result["ok"]) == ("uncreated", False)
    assert finding(result, later)["detail"] == ("the timeline does not begin with the "
                                                "incident's creation (it has no events)")


def test_an_altered_checkpoint_log_or_database_copy_is_reported(
        breach: Breach, settings: Settings) -> None:
    first, _ = signed(breach)
    breach("incidents", "note", first, "more")
    breach("audit", "checkpoint")
    log = settings.checkpoint_log
    lines = log.read_text().splitlines()
    entry = json.loads(lines[0])
    entry["body"]["chains"] = {}  # the first checkpoint, made to sign nothing
    log.write_text("\n".join([json.dumps(entry), *lines[1:]]) + "\n")
    result = verdict(breach)
    assert result["log_problems"] == [{"checkpoint": 1, "line": 1,
                                       "problem": "its text does not match its hash"}]
    log.write_text("\n".join(lines) + "\n")
    assert verdict(breach)["ok"]
    Attacker(settings).sql("UPDATE audit_checkpoints SET hash = :h WHERE number = 2", h="0" * 64)
    assert verdict(breach)["copy_problems"] == [
        "checkpoint 2 in the database differs from the log"]
    log.unlink()
    result = verdict(breach)
    assert not result["ok"] and result["checkpoint"] is None
    assert any("is missing or empty" in p for p in result["copy_problems"])


def test_a_signature_made_with_another_key_does_not_verify(
        breach: Breach, settings: Settings) -> None:
    signed(breach)
    log = settings.checkpoint_log
    entry = json.loads(log.read_text().splitlines()[0])
    forger = Ed25519PrivateKey.generate()
    entry["signature"] = base64.b64encode(forger.sign(body_text(entry["body"]).encode())).decode()
    log.write_text(json.dumps(entry) + "\n")
    problems = verdict(breach)["log_problems"]
    assert problems[0]["problem"].startswith("its signature does not verify with key ")


def test_checkpoints_verify_across_a_key_rotation(breach: Breach, clock: FixedClock,
                                                  settings: Settings) -> None:
    first, _ = signed(breach)
    clock.advance(timedelta(minutes=5))
    rotated = breach("audit", "rotate-key").stdout
    assert rotated.startswith("retired ") and "now signing with " in rotated
    clock.advance(timedelta(minutes=5))
    breach("incidents", "note", first, "after the rotation")
    breach("audit", "checkpoint")
    keys = breach.json("audit", "public-key")
    assert len(keys) == 2 and keys[0]["until"] is not None and keys[1]["until"] is None
    entries = [json.loads(line) for line in settings.checkpoint_log.read_text().splitlines()]
    assert [e["key"] for e in entries] == [keys[0]["id"], keys[1]["id"]]
    result = verdict(breach)
    assert result["ok"] and result["checkpoint"] == 2
    assert finding(result, first)["finding"] == "ok"
    assert (settings.signing_key_path.stat().st_mode & 0o777) == 0o600


def test_a_new_checkpoint_never_signs_a_rewritten_chain(breach: Breach,
                                                       settings: Settings) -> None:
    """Whoever rewrote a chain cannot have it signed: it keeps the head last signed."""
    first, second = signed(breach)
    attacker = Attacker(settings)
    chain = attacker.chain(first)
    events = attacker.events(chain)
    events[1]["payload"] = json.dumps({"text": "a different note"})
    attacker.rewrite(chain, events)
    breach("incidents", "note", second, "meanwhile")
    refused = breach.error("audit", "checkpoint")
    assert refused == (f"breach: error: 1 chains do not hold and keep their last signed head: "
                       f"{chain} (run breach audit verify)")
    entries = [json.loads(line) for line in settings.checkpoint_log.read_text().splitlines()]
    assert entries[1]["body"]["suspect"] == [chain]
    assert entries[1]["body"]["chains"][chain] == entries[0]["body"]["chains"][chain]
    result = verdict(breach)
    assert (result["checkpoint"], finding(result, first)["finding"]) == (2, "rewritten")
    assert finding(result, second)["finding"] == "ok"  # its new event is signed at 2


def test_no_checkpoint_is_made_while_the_log_outside_the_database_is_lost(
        breach: Breach, settings: Settings) -> None:
    signed(breach)
    settings.checkpoint_log.unlink()
    assert breach.error("audit", "checkpoint") == (
        f"breach: error: the checkpoint log {settings.checkpoint_log} ends before checkpoint 1, "
        "which the database holds: restore the log (or a witness's copy) before signing more")


def test_the_end_of_a_long_log_is_read_without_reading_it_all(tmp_path: Path) -> None:
    """The scheduler looks at the log's last lines every minute: they are read from its end,
    and are the same lines a whole read gives, however long the lines and the log."""
    log = CheckpointLog(tmp_path / "checkpoints.jsonl")
    assert log.last() == []
    for number in range(1, 40):  # lines from a few bytes to well over one 64 KiB block
        log.append({"body": {"number": number, "chains": {"c": "x" * (number * 3_001)}},
                    "hash": f"h{number}", "signature": "s", "key": "k"})
    whole, problems = log.read()
    assert problems == [] and len(whole) == 39
    for count in (1, 2, 10, 39, 50):
        assert [e.hash for e in log.last(count)] == [e.hash for e in whole[-count:]]
