"""Reading a bounce: what failed, how, and which message it was about. Pure.

A bounce is whatever comes back to a delivery's return path (see delivery/return_paths.py).
`read_bounce` turns its raw bytes into a `BounceReading`:

* An RFC 3464 delivery status notification (multipart/report; report-type=delivery-status) is read
  from its message/delivery-status part, per recipient: `Action: failed` is a hard bounce when its
  `Status` is 5.x.x and a soft one when it is 4.x.x (RFC 3463 §3.1: 4 persistent transient,
  5 permanent); `Action: delayed` (still being tried), `delivered`, `relayed` and `expanded` are no
  failure.
* Anything else (qmail, Exim without DSN, Exchange, Yahoo and many more) is read by flufl.bounce:
  its permanent failures are hard, its temporary ones soft. When a DSN part is present it decides.
* Anything not understood (not a bounce at all, an auto-reply, garbage) has `kind` None and a `why`.

Bounces are hostile input: no input raises, and the work done is bounded. Only the first
`MAX_READ_BYTES` are read (the report parts come first; MTAs return the original message after
them), lines longer than RFC 5322's 998 characters are folded, a message with more than
`MAX_BOUNDARIES` multipart boundaries is not read, and flufl.bounce's heuristics (some of which take
time quadratic in a line's length) see only the first 64 KiB, folded at 256 characters.
"""

from __future__ import annotations

import email
import email.policy
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses
from typing import Literal

from flufl.bounce import all_failures

__all__ = [
    "MAX_ADDRESSES",
    "MAX_BOUNDARIES",
    "MAX_DIAGNOSTIC",
    "MAX_READ_BYTES",
    "NOT_A_REPORT",
    "NO_FAILED_RECIPIENT",
    "UNPARSEABLE",
    "BounceKind",
    "BounceReading",
    "read_bounce",
]

BounceKind = Literal["hard", "soft"]

MAX_READ_BYTES = 256 * 1024
"""Bytes of a bounce that are read; the rest (the tail of a returned message) is ignored."""
MAX_BOUNDARIES = 100
"""Multipart boundaries beyond which a message is not read (parsing deep nesting is quadratic)."""
MAX_DIAGNOSTIC = 500
"""Characters of diagnostic text kept."""
MAX_ADDRESSES = 50
"""Addresses kept in `failed_recipients` and in `addressed_to`; one delivery has one recipient."""

NOT_A_REPORT = "not a delivery status report"
NO_FAILED_RECIPIENT = "no failed recipient found"
UNPARSEABLE = "message could not be parsed"

_MAX_LINE = 998  # RFC 5322 §2.1.1
_HEURISTIC_BYTES = 64 * 1024
_HEURISTIC_LINE = 256
_MAX_PARTS = 500
_ADDRESSED_TO = ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "to")
_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")  # RFC 3464, RFC 6533
_RETURNED_TYPES = ("message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers")

_STATUS = re.compile(r"\s*([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
_DIAGNOSTIC_TYPE = re.compile(r"\s*[A-Za-z][A-Za-z0-9-]*\s*;\s*")
_ADDRESS = re.compile(r"[^\s@<>()\[\]\\,;:\"]{1,64}@[^\s@<>()\[\]\\,;:\"]{1,253}")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,500}>")
_MESSAGE_ID_LINE = re.compile(r"message-id:[ \t]*(.*)", re.IGNORECASE)
# An SMTP reply in a bounce's own words: "550 5.1.1 <x@y>: User unknown", "said: 550 no such user".
_SMTP_REPLY = re.compile(
    r"(?<![\w.])(?:(?P<code>[45]\d\d)[ -](?P<status>[45]\.\d{1,3}\.\d{1,3})(?![\d.])"
    r"|(?<=said: )(?P<bare>[45]\d\d)[ -])"
)
# Where a non-MIME bounce starts quoting the returned message.
_RETURNED_START = re.compile(
    r"\s*(?:-{2,}.*(?:copy of|message follows|original message|undelivered message|returned"
    r"|below this line|headers? of)"
    r"|received:|return-path:|message-id:|content-type:\s*message/rfc822)",
    re.IGNORECASE,
)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class BounceReading:
    """What a bounce says; `kind` None when it is not understood, with the reason in `why`."""

    kind: BounceKind | None
    status: str | None
    """The RFC 3463 enhanced status code, e.g. "5.1.1", when the bounce gives one."""
    diagnostic: str | None
    """The remote server's diagnostic text: one line, control characters removed, at most
    `MAX_DIAGNOSTIC` characters."""
    failed_recipients: frozenset[str]
    """The addresses reported failed, lowercased."""
    original_message_id: str | None
    """The Message-ID of the returned message, angle brackets included."""
    addressed_to: tuple[str, ...]
    """Where the bounce itself was sent, lowercased, most trusted header first: Delivered-To,
    X-Original-To, Envelope-To, X-Envelope-To, To (for bounces read from a mailbox, where no
    envelope recipient is known)."""
    why: str | None
    """When `kind` is None: `NOT_A_REPORT`, `NO_FAILED_RECIPIENT` or `UNPARSEABLE`."""


@dataclass(frozen=True, slots=True)
class _Recipient:
    """One per-recipient block of a delivery status report (RFC 3464 §2.3)."""

    kind: BounceKind | None
    status: str | None
    diagnostic: str | None
    address: str | None


def read_bounce(raw: bytes) -> BounceReading:
    """Read a bounce message from its raw bytes. Never raises."""
    try:
        return _read(bytes(raw) if isinstance(raw, bytes | bytearray | memoryview) else b"")
    except Exception:  # hostile input must never break the receiver
        return _not_understood(UNPARSEABLE)


def _not_understood(why: str, original: str | None = None,
                    addressed_to: tuple[str, ...] = ()) -> BounceReading:
    return BounceReading(kind=None, status=None, diagnostic=None, failed_recipients=frozenset(),
                         original_message_id=original, addressed_to=addressed_to, why=why)


def _read(raw: bytes) -> BounceReading:
    data = _wrapped(raw[:MAX_READ_BYTES].lstrip(b"\r\n"), _MAX_LINE)
    if not data.strip() or data.lower().count(b"boundary=") > MAX_BOUNDARIES:
        return _not_understood(UNPARSEABLE)
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    if not msg.keys():  # not even one header field: not a message
        return _not_understood(UNPARSEABLE)
    parts = _own_parts(msg)
    addressed_to = _addressed_to(msg)
    original = _original_message_id(parts)

    reported = _reported_recipients(parts)
    if reported:
        failed = [r for r in reported if r.kind is not None]
        if not failed:
            return _not_understood(NO_FAILED_RECIPIENT, original, addressed_to)
        worst = next((r for r in failed if r.kind == "hard"), failed[0])
        recipients = _capped(r.address for r in failed if r.address)
        if not recipients:
            temporary, permanent = _flufl(data)
            recipients = _capped(temporary | permanent)
        status = worst.status
        if status is None and worst.diagnostic:
            status = _status_in(worst.diagnostic)
        return BounceReading(kind=worst.kind, status=status, diagnostic=worst.diagnostic,
                             failed_recipients=recipients, original_message_id=original,
                             addressed_to=addressed_to, why=None)

    temporary, permanent = _flufl(data)
    if not temporary and not permanent:
        why = NOT_A_REPORT if reported is None else NO_FAILED_RECIPIENT
        return _not_understood(why, original, addressed_to)
    status, diagnostic = _smtp_reply(parts)
    return BounceReading(kind="hard" if permanent else "soft", status=status, diagnostic=diagnostic,
                         failed_recipients=_capped(permanent | temporary),
                         original_message_id=original, addressed_to=addressed_to, why=None)


def _wrapped(data: bytes, width: int) -> bytes:
    """`data` with each line longer than `width` folded, as a header field would be."""
    lines = data.splitlines(keepends=True)
    if all(len(line) <= width + 2 for line in lines):
        return data
    out: list[bytes] = []
    for line in lines:
        body = line.rstrip(b"\r\n")
        out.extend(body[start:start + width] + b"\n " for start in range(0, len(body) - width, width))
        out.append(body[(max(len(body) - 1, 0) // width) * width:] + line[len(body):])
    return b"".join(out)


# --- parts and header fields ---------------------------------------------------------------------

def _own_parts(msg: Message) -> list[Message]:
    """The bounce's parts, depth first, without descending into returned messages."""
    parts: list[Message] = []
    stack = [msg]
    while stack and len(parts) < _MAX_PARTS:
        part = stack.pop()
        parts.append(part)
        if part.get_content_type() in (*_RETURNED_TYPES, *_STATUS_TYPES):
            continue
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
    return parts


def _fields(block: Message, name: str) -> list[str]:
    """The values of a header field, unfolded, in order (raw: undecoded bytes stay as they came)."""
    return [_WHITESPACE.sub(" ", _text(value)).strip()
            for key, value in block.raw_items() if key.lower() == name]


def _field(block: Message, name: str) -> str | None:
    values = _fields(block, name)
    return values[0] if values else None


def _text(value: object) -> str:
    """A header value or payload as text; bytes that were not ASCII are read as UTF-8."""
    text = str(value)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def _one_line(text: str, limit: int) -> str | None:
    """`text` on one line, without control or format characters, at most `limit` characters."""
    cleaned = "".join(" " if ch.isspace() else ch for ch in text[: limit * 4]
                      if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    cleaned = _WHITESPACE.sub(" ", cleaned).strip()[:limit].rstrip()
    return cleaned or None


def _address(text: str) -> str | None:
    found = _ADDRESS.fullmatch(text.strip().strip("<>").strip().lower())
    return found.group(0) if found else None


def _capped(addresses: Iterable[str | bytes | None]) -> frozenset[str]:
    kept: set[str] = set()
    for item in addresses:
        if item is None:
            continue
        address = _address(item.decode("ascii", "replace") if isinstance(item, bytes) else item)
        if address is not None and len(kept) < MAX_ADDRESSES:
            kept.add(address)
    return frozenset(kept)


def _addressed_to(msg: Message) -> tuple[str, ...]:
    found: list[str] = []
    for name in _ADDRESSED_TO:
        for value in _fields(msg, name):
            for _, raw_address in getaddresses([value]):
                address = _address(raw_address)
                if address and address not in found and len(found) < MAX_ADDRESSES:
                    found.append(address)
    return tuple(found)


# --- RFC 3464 --------------------------------------------------------------------------------------

def _reported_recipients(parts: list[Message]) -> list[_Recipient] | None:
    """The per-recipient blocks of the delivery status parts; None when there is no such part.
    A report that says nothing of any recipient leaves the answer to the other formats' readers."""
    reports = [part for part in parts if part.get_content_type() in _STATUS_TYPES]
    if not reports:
        return None
    return [_recipient(block) for report in reports for block in _blocks(report)
            if _field(block, "action") is not None]


def _blocks(report: Message) -> Iterator[Message]:
    """The header blocks of a delivery status part, however the parser left them."""
    payload = report.get_payload()
    if isinstance(payload, list):
        for block in payload:
            if not isinstance(block, Message):
                continue
            yield block
            rest = block.get_payload()
            if isinstance(rest, str) and rest.strip():  # message/global-delivery-status
                yield from _text_blocks(rest)
    else:
        body = report.get_payload(decode=True)
        if isinstance(body, bytes):
            yield from _text_blocks(body.decode("utf-8", "replace"))


def _text_blocks(text: str) -> Iterator[Message]:
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text.strip()):
        yield email.message_from_string(chunk.strip() + "\n\n", policy=email.policy.compat32)


def _recipient(block: Message) -> _Recipient:
    action = (_field(block, "action") or "").lower().split(" ", 1)[0].rstrip(";")
    status = _status_in(_field(block, "status") or "")
    raw_diagnostic = _field(block, "diagnostic-code")
    diagnostic = None
    if raw_diagnostic is not None:  # "smtp; 550 5.1.1 ...": the text after the diagnostic type
        typed = _DIAGNOSTIC_TYPE.match(raw_diagnostic)
        diagnostic = _one_line(raw_diagnostic[typed.end():] if typed else raw_diagnostic,
                               MAX_DIAGNOSTIC)
    kind: BounceKind | None = None
    if action.startswith(("failed", "error")):  # "error": some MTAs' non-standard word for failed
        kind = "soft" if (status or "").startswith("4.") else "hard"
    # "delayed": the receiving side still tries and may yet deliver; resending now could
    # give the person the notice twice, so a delay is no failure (a later "failed" is).
    address = None
    for name in ("original-recipient", "final-recipient"):
        value = _field(block, name)
        if value is not None:
            address_type, _, rest = value.partition(";")
            if address_type.strip().lower() in ("rfc822", "utf-8"):
                address = _address(rest)
                if address:
                    break
    return _Recipient(kind=kind, status=status, diagnostic=diagnostic, address=address)


def _status_in(text: str) -> str | None:
    """The enhanced status code `text` starts with, else the one of an SMTP reply in it."""
    if found := _STATUS.match(text):
        return found.group(1)
    reply = _SMTP_REPLY.search(text)
    return reply.group("status") if reply else None


# --- other formats ---------------------------------------------------------------------------------

def _flufl(data: bytes) -> tuple[frozenset[bytes], frozenset[bytes]]:
    """flufl.bounce's temporary and permanent failures, read from the head of the message."""
    head = _wrapped(data[:_HEURISTIC_BYTES], _HEURISTIC_LINE)
    msg = email.message_from_bytes(head, policy=email.policy.compat32)
    if "from" not in msg:  # its Yale detector raises without one, and no later detector runs
        msg["From"] = "<>"
    try:
        return all_failures(msg)
    except Exception:  # its detectors raise on some input; then they have no answer
        return frozenset(), frozenset()


def _own_texts(parts: list[Message]) -> Iterator[str]:
    """The text parts of the bounce itself (not of the message it returns), decoded."""
    for part in parts:
        if part.get_content_maintype() != "text" or part.get_content_type() in _RETURNED_TYPES:
            continue
        body = part.get_payload(decode=True)
        if isinstance(body, bytes):
            yield body.decode("utf-8", "replace")


def _own_text_lines(parts: list[Message]) -> Iterator[str]:
    """The lines of the bounce's own text, up to where it starts quoting the returned message."""
    for text in _own_texts(parts):
        for line in text.splitlines():
            if _RETURNED_START.match(line):
                break
            yield line


def _smtp_reply(parts: list[Message]) -> tuple[str | None, str | None]:
    """The first SMTP error reply quoted in the bounce's text, with the indented lines that
    continue it (as Postfix folds it): its status and the reply itself."""
    status: str | None = None
    reply: list[str] = []
    for line in _own_text_lines(parts):
        if reply:
            if not line.strip() or not line[0].isspace() or sum(map(len, reply)) > MAX_DIAGNOSTIC:
                break
            reply.append(line)
        elif (found := _SMTP_REPLY.search(line)) is not None:
            status, reply = found.group("status"), [line[found.start():]]
    return status, _one_line(" ".join(reply), MAX_DIAGNOSTIC)


# --- the returned message --------------------------------------------------------------------------

def _original_message_id(parts: list[Message]) -> str | None:
    for part in parts:
        content_type = part.get_content_type()
        headers: Message | None = None
        if content_type in _RETURNED_TYPES:
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                headers = payload[0]
            else:
                body = part.get_payload(decode=True)
                if isinstance(body, bytes):
                    headers = email.message_from_bytes(body, policy=email.policy.compat32)
        elif content_type in _STATUS_TYPES:  # some MTAs name it in the per-message fields
            headers = next(_blocks(part), None)
            if headers is not None and not _fields(headers, "x-original-message-id"):
                headers = None
        if headers is not None:
            for name in ("message-id", "x-original-message-id"):
                for value in _fields(headers, name):
                    found = _MESSAGE_ID.search(value)
                    if found:
                        return found.group(0)
    return _message_id_in_text(parts)


def _message_id_in_text(parts: list[Message]) -> str | None:
    """A Message-ID quoted in the text of a bounce that returns the message inline (qmail, Exim)."""
    for text in _own_texts(parts):
        lines = text.splitlines()
        for number, line in enumerate(lines):
            header = _MESSAGE_ID_LINE.match(line)
            if header is None:
                continue
            value = header.group(1)
            if not value.strip() and number + 1 < len(lines):  # folded onto the next line
                value = lines[number + 1]
            found = _MESSAGE_ID.search(value)
            if found:
                return found.group(0)
    return None
