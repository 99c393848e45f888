"""The key that signs checkpoints, kept outside the database: Ed25519, generated on first use.

The private key is a PEM file with owner-only permissions (`BREACH_SIGNING_KEY`, default
`<var>/signing/ed25519.pem`). Beside it, `public-keys.json` lists every public key that has
signed, with the time it began and, once rotated, the time it stopped: a checkpoint verifies
with the key that was valid when it was made, so a rotation never orphans old checkpoints.

A fingerprint is the SHA-256 of the raw 32-byte public key, in hex groups of four: short
enough to read aloud, the way an auditor checks it out of band.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from incident.timeline.rules import format_instant

REGISTRY = "public-keys.json"


class SigningKeyError(RuntimeError):
    """The signing key cannot be read or made; the message says which file and why."""


def fingerprint(public: bytes) -> str:
    """`ab12 cd34 …`: SHA-256 of the raw public key, in sixteen groups of four hex digits."""
    digest = hashlib.sha256(public).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def key_id(public: bytes) -> str:
    """The short name a checkpoint gives its key: the fingerprint's first 16 hex digits."""
    return hashlib.sha256(public).hexdigest()[:16]


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class PublicKey:
    """A key that signed, and when: `until` is None for the key in use."""

    raw: bytes
    since: str
    until: str | None = None

    @property
    def id(self) -> str:
        return key_id(self.raw)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.raw)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "public_key": base64.b64encode(self.raw).decode(),
                "fingerprint": self.fingerprint, "since": self.since, "until": self.until}

    def verifies(self, text: str, signature: str) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(base64.b64decode(signature),
                                                                text.encode())
        except (InvalidSignature, ValueError):
            return False
        return True


class KeyRing:
    """The signing key and every public key that ever signed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.registry = path.parent / REGISTRY

    def private(self, now: datetime) -> Ed25519PrivateKey:
        """The key in use, made (and its public half registered) on first use."""
        if not self.path.exists():
            self._create(Ed25519PrivateKey.generate(), now)
        try:
            key = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise SigningKeyError(f"{self.path}: not a readable Ed25519 private key ({exc})") \
                from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"{self.path}: not an Ed25519 private key")
        if not any(k.raw == raw_public(key.public_key()) for k in self.public_keys()):
            self._register(raw_public(key.public_key()), now)
        return key

    def current(self, now: datetime) -> PublicKey:
        raw = raw_public(self.private(now).public_key())
        return next(k for k in self.public_keys() if k.raw == raw)

    def sign(self, text: str, now: datetime) -> tuple[str, str]:
        """(signature in base64, the key's id) of `text`."""
        key = self.private(now)
        return (base64.b64encode(key.sign(text.encode())).decode(),
                key_id(raw_public(key.public_key())))

    def public_keys(self) -> list[PublicKey]:
        if not self.registry.exists():
            return []
        try:
            entries = json.loads(self.registry.read_text(encoding="utf-8"))
            return [PublicKey(base64.b64decode(e["public_key"]), str(e["since"]),
                              e.get("until")) for e in entries]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SigningKeyError(f"{self.registry}: not a list of public keys ({exc})") from exc

    def rotate(self, now: datetime) -> tuple[PublicKey, PublicKey]:
        """Retire the key in use (its public half stays, valid until now) for a new one:
        (the old key, the new key)."""
        old = self.current(now)
        keys = [PublicKey(k.raw, k.since, format_instant(now)) if k.raw == old.raw else k
                for k in self.public_keys()]
        self._write_registry(keys)
        retired = self.path.with_name(f"{self.path.stem}-{old.id}.retired{self.path.suffix}")
        self.path.rename(retired)
        self._create(Ed25519PrivateKey.generate(), now)
        return (next(k for k in self.public_keys() if k.raw == old.raw), self.current(now))

    def _create(self, key: Ed25519PrivateKey, now: datetime) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: theirs is the key
            return
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        self._register(raw_public(key.public_key()), now)

    def _register(self, raw: bytes, now: datetime) -> None:
        keys = self.public_keys()
        if not any(k.raw == raw for k in keys):
            self._write_registry([*keys, PublicKey(raw, format_instant(now))])

    def _write_registry(self, keys: list[PublicKey]) -> None:
        temporary = self.registry.with_suffix(".json.tmp")
        temporary.write_text(json.dumps([k.as_dict() for k in keys], indent=2) + "\n",
                             encoding="utf-8")
        temporary.replace(self.registry)
