"""The return path of each delivery (VERP): where its bounce comes back, and which delivery
a bounce is about. Pure.

The envelope sender of delivery 4711 is `bounces+b4711-k3q9x2m7ta@example.com` when the
bounce address is `bounces@example.com`: the part after the `+` names the delivery and
carries a MAC under the service's secret key, so a forged or mistyped bounce names nothing.
Mail servers may change the letter case of a local part, so the MAC is in lowercase base32
and read without regard to case.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

__all__ = ["TOKEN_LENGTH", "delivery_of", "return_path"]

TOKEN_LENGTH = 10
"""Base32 characters of MAC: 50 bits, far beyond guessing within a bounce's lifetime."""

_TAG = re.compile(rf"b([0-9]{{1,18}})-([a-z2-7]{{{TOKEN_LENGTH}}})")


def _mac(delivery_id: int, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"bounce:{delivery_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:TOKEN_LENGTH]


def _split(address: str) -> tuple[str, str]:
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"{address!r} is not an e-mail address")
    return local, domain


def return_path(delivery_id: int, *, bounce_address: str, secret: str) -> str:
    """The envelope sender of one delivery: `bounce_address` tagged with its id and MAC."""
    local, domain = _split(bounce_address)
    return f"{local}+b{delivery_id}-{_mac(delivery_id, secret)}@{domain}"


def delivery_of(recipient: str, *, bounce_address: str, secret: str) -> int | None:
    """The delivery a bounce sent to `recipient` is about, or None when the address is not
    one of ours or its MAC does not match (forged, mistyped, or under another key)."""
    try:
        local, domain = _split(recipient)
        own_local, own_domain = _split(bounce_address)
    except ValueError:
        return None
    base, plus, tag = local.rpartition("+")
    if (not plus or base.lower() != own_local.lower()
            or domain.lower() != own_domain.lower()):
        return None
    found = _TAG.fullmatch(tag.lower())
    if found is None:
        return None
    delivery_id = int(found.group(1))
    if not hmac.compare_digest(found.group(2), _mac(delivery_id, secret)):
        return None
    return delivery_id
