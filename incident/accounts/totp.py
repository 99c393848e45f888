"""Time-based one-time passwords (RFC 6238) for the web sign-in's second factor.

Pure functions: a new secret, the otpauth URI an authenticator app reads, which time step a
code belongs to, and the sealing of secrets at rest. A secret is stored sealed (Fernet, with a
key derived from BREACH_SECRET_KEY), so a copy of the database alone does not yield codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp
from cryptography.fernet import Fernet, InvalidToken

STEP_SECONDS = 30
DRIFT_STEPS = 1
"""Codes of the step before and after the current one are accepted too (a clock a little off,
a code typed as it changed)."""
ISSUER = "Breachdesk"


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app accepts (typed or pasted; no QR code needed)."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=email,
                                                                      issuer_name=ISSUER)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def normalised_code(code: str) -> str | None:
    """Six digits, spaces and hyphens ignored, or None when it cannot be a code."""
    digits = code.strip().replace(" ", "").replace("-", "")
    return digits if len(digits) == 6 and digits.isascii() and digits.isdigit() else None


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """A code's verdict: the time step it matched, and whether that step was used already."""

    step: int | None
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.step is not None and not self.replayed


def check_code(secret: str, code: str, now: datetime, last_step: int | None) -> CodeCheck:
    """Which step within the drift window `code` belongs to; a step at or before `last_step`
    (the last one accepted for this secret) is a replay, refused even though the code is right."""
    digits = normalised_code(code)
    if digits is None:
        return CodeCheck(None)
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    matched = [step for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1)
               if hmac.compare_digest(totp.generate_otp(step), digits)]
    fresh = [step for step in matched if last_step is None or step > last_step]
    if fresh:
        return CodeCheck(max(fresh))
    return CodeCheck(max(matched), replayed=True) if matched else CodeCheck(None)


def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(b"breachdesk second factor\x00" + key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str, key: str) -> str:
    return _fernet(key).encrypt(secret.encode()).decode()


def unseal(sealed: str, key: str) -> str | None:
    """The secret, or None if it was sealed under another key (BREACH_SECRET_KEY changed)."""
    try:
        return _fernet(key).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None
