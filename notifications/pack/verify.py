"""Verify a Breachdesk evidence pack, offline: `python3 verify.py` in the unzipped folder.

Needs Python 3.9+ and the `cryptography` package (`pip install cryptography`); no
Breachdesk, no database, no network. Exits 0 when everything holds, 1 naming each thing
that does not: a file missing, added or changed since the pack was made, a manifest not
signed by the pack's key, a timeline event edited, removed or inserted, a checkpoint whose
signature fails or that does not cover the events.

Compare the key's fingerprint printed below with the one your organisation's DPO recorded
when Breachdesk was set up, over a channel the server's operators do not control.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = "0" * 64
OWN = {"manifest.json", "manifest.sig", "verify.py"}


def canonical(value: Any) -> str:
    """The one JSON text Breachdesk hashes and signs: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def instant(text: str) -> str:
    """A stored instant, as the chain hashes it: UTC, microseconds, a Z."""
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def link_hash(previous: str, event: dict[str, Any]) -> str:
    body = canonical({"chain": event["chain"], "seq": event["seq"], "at": instant(event["at"]),
                      "actor": event["actor"], "kind": event["kind"],
                      "payload": event["payload"]})
    return hashlib.sha256(f"{previous}\n{body}".encode()).hexdigest()


def fingerprint(raw: bytes) -> str:
    digest = hashlib.sha256(raw).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def verifies(key: dict[str, Any], text: str, signature: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key["raw"]).verify(base64.b64decode(signature),
                                                              text.encode())
    except (InvalidSignature, ValueError):
        return False
    return True


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


class Check:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[str] = []

    def fail(self, what: str) -> None:
        self.problems.append(what)

    def keys(self) -> dict[str, dict[str, Any]]:
        try:
            entries = json.loads((self.folder / "public-keys.json").read_text(encoding="utf-8"))
            return {e["id"]: {**e, "raw": base64.b64decode(e["public_key"])} for e in entries}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.fail(f"public-keys.json cannot be read: {exc}")
            return {}

    def manifest(self, keys: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        try:
            text = (self.folder / "manifest.json").read_text(encoding="utf-8")
            manifest: dict[str, Any] = json.loads(text)
            signed = json.loads((self.folder / "manifest.sig").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self.fail(f"the manifest cannot be read: {exc}")
            return None
        key = keys.get(str(signed.get("key")))
        if key is None or not verifies(key, canonical(manifest), signed.get("signature", "")):
            self.fail("manifest.json is not signed by the pack's key: it was changed, or "
                      "signed by someone else")
        return manifest

    def files(self, manifest: dict[str, Any]) -> None:
        listed = manifest.get("files", {})
        for name, digest in sorted(listed.items()):
            path = self.folder / name
            if not path.is_file():
                self.fail(f"{name} is missing")
            elif sha256_of(path) != digest:
                self.fail(f"{name} changed since the pack was made (its SHA-256 differs)")
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            name = path.relative_to(self.folder).as_posix()
            if name not in listed and name not in OWN:
                self.fail(f"{name} was added after the pack was made")

    def timeline(self, chain: str) -> dict[int, str]:
        """The events recomputed from the first; the hash of each, by seq."""
        hashes: dict[int, str] = {}
        previous, expected = GENESIS, 1
        try:
            lines = (self.folder / "timeline.jsonl").read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            self.fail(f"timeline.jsonl cannot be read: {exc}")
            return hashes
        for number, line in enumerate(lines, 1):
            try:
                event = json.loads(line)
            except ValueError:
                self.fail(f"timeline.jsonl line {number} is not an event")
                return hashes
            if event.get("chain") != chain:
                self.fail(f"timeline.jsonl line {number}: an event of another timeline")
                return hashes
            if event.get("seq") != expected:
                self.fail(f"timeline.jsonl line {number}: event {expected} is missing or out "
                          f"of order (the line holds event {event.get('seq')})")
                return hashes
            if event.get("prev_hash") != previous:
                self.fail(f"timeline.jsonl line {number} (event {expected}): its link to the "
                          "event before does not match")
                return hashes
            if link_hash(previous, event) != event.get("hash"):
                self.fail(f"timeline.jsonl line {number} (event {expected}) was edited: its "
                          "content does not match its hash")
                return hashes
            hashes[expected] = previous = event["hash"]
            expected += 1
        return hashes

    def timeline_csv(self, hashes: dict[int, str]) -> None:
        try:
            with (self.folder / "timeline.csv").open(encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle))
        except OSError as exc:
            self.fail(f"timeline.csv cannot be read: {exc}")
            return
        if [(int(r["seq"]), r["hash"]) for r in rows] != sorted(hashes.items()):
            self.fail("timeline.csv does not hold the same events as timeline.jsonl")

    def checkpoints(self, chain: str, hashes: dict[int, str],
                    keys: dict[str, dict[str, Any]]) -> tuple[int, int, str] | None:
        try:
            lines = (self.folder / "checkpoints.jsonl").read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            self.fail(f"checkpoints.jsonl cannot be read: {exc}")
            return None
        covered: tuple[int, int, str] | None = None
        for line in lines:
            entry = json.loads(line)
            body, number = entry["body"], entry["body"].get("number")
            if hashlib.sha256(canonical(body).encode()).hexdigest() != entry.get("hash"):
                self.fail(f"checkpoint {number} was edited: its text does not match its hash")
                continue
            key = keys.get(str(entry.get("key")))
            valid = key is not None and key["since"] <= body["at"] and (
                key.get("until") is None or body["at"] <= key["until"]) and verifies(
                key, canonical(body), entry.get("signature", ""))
            if not valid:
                self.fail(f"checkpoint {number}: its signature does not verify with key "
                          f"{entry.get('key')}")
                continue
            head = body.get("chains", {}).get(chain)
            if head is None:
                self.fail(f"checkpoint {number} does not sign this timeline")
                continue
            if hashes.get(head["seq"]) != head["hash"]:
                held = len(hashes)
                self.fail(f"checkpoint {number} signed {head['seq']} events of this timeline "
                          f"with event {head['seq']} hashing to {head['hash'][:12]}…; the pack "
                          f"holds {held} events" + ("" if held < head["seq"] else
                                                     " and that event differs"))
                continue
            covered = (number, head["seq"], body["at"])
        return covered


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    check = Check(folder)
    keys = check.keys()
    manifest = check.manifest(keys)
    if manifest is None:
        print("\n".join(f"FAIL {p}" for p in check.problems))
        return 1
    check.files(manifest)
    chain = manifest.get("chain", "")
    hashes = check.timeline(chain)
    check.timeline_csv(hashes)
    covered = check.checkpoints(chain, hashes, keys)
    print(f"Evidence pack of {manifest.get('incident')} made {manifest.get('made_at')}")
    for key in keys.values():
        until = key.get("until") or "in use"
        print(f"signing key {key['id']}: fingerprint {fingerprint(key['raw'])} "
              f"(valid {key['since']} .. {until})")
    if covered is not None:
        number, seq, at = covered
        after = len(hashes) - seq
        print(f"timeline: {len(hashes)} events; checkpoint {number} of {at} signed the first "
              f"{seq}" + (f"; {after} were added after it (not yet signed)" if after else ""))
    elif not check.problems:
        check.fail("no checkpoint covers this timeline")
    for problem in check.problems:
        print(f"FAIL {problem}")
    print("OK: everything holds" if not check.problems else
          f"{len(check.problems)} thing(s) do not hold")
    return 0 if not check.problems else 1


if __name__ == "__main__":
    sys.exit(main())
