"""One e-mail message as bytes: correct MIME, a fixed Message-ID, and no way to inject a header.

`build_message` turns a subject, a text and an optional HTML body into the bytes of
one MIME message with a fixed Message-ID, so that a resend after a crash or a lost
reply carries the same id and the recipient's software can tell it is the same
notice. Nothing a person typed can add a header: addresses and subjects with line
breaks are refused, display names are flattened onto one line. (Built by hand: the
standard library's EmailMessage costs more than rendering and sending together.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Final, NamedTuple

# Characters that must never reach a header: C0 controls (tab aside), DEL, and the
# Unicode line separators that some software treats as line ends.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL_PART = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*\Z")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
_ATOM_WORDS = re.compile(rf"(?:{_ATEXT}| )+\Z")
_FIELD_NAME = re.compile(r"[!-9;-~]{1,76}\Z")
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>\Z")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
# What keeps ASCII text from going out as it is: controls, trailing blanks, long lines.
_NOT_7BIT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|[ \t](?:\n|\Z)|[^\n]{77}")
_FILE_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_MAILBOX = re.compile(r"\s*(?P<name>.*?)\s*<(?P<address>[^<>]*)>\s*\Z", re.DOTALL)
_LINE_MAX: Final = 78
_WORD_BYTES: Final = 42  # UTF-8 bytes per encoded-word: 56 base64 characters, 68 in all
_WORD_MAX: Final = 66  # longest plain word or quoted name kept as it is
_RESERVED_HEADERS: Final = frozenset({
    "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
    "content-type", "content-transfer-encoding", "sender", "reply-to",
})


def new_message_id(domain: str, key: str) -> str:
    """The Message-ID of the delivery named `key`: the same key always gives the same id.

    Letters, digits, `-` and `_` are kept so the id stays readable; anything else is
    written as `=XX` hex, so two keys never share an id. Keys too long for a header
    line are replaced by their SHA-256 (the literal `.` marks that form).
    """
    if not key:
        raise ValueError("a Message-ID key must not be empty")
    left = _KEY_UNSAFE.sub(lambda m: "".join(f"={b:02X}" for b in m.group().encode()), key)
    if len(left) > 128:
        left = "sha256." + hashlib.sha256(key.encode()).hexdigest()
    return f"<{left}@{_domain(domain, 'Message-ID')}>"


def build_message(*, sender: str, to: str, subject: str, text: str, html: str | None,
                  message_id: str, headers: Mapping[str, str] | None = None,
                  to_name: str | None = None, date: datetime | None = None,
                  author: str | None = None, reply_to: str | None = None,
                  attachments: Sequence[Attachment] = ()) -> bytes:
    """The bytes of one message to one recipient, ready for `SmtpPool.send`.

    `sender` is `address` or `Name <address>` (the configured sender); `to` is a bare
    address and `to_name` the recipient's display name, which may come from imported
    data: its line breaks become spaces. A subject, address or extra header with a
    line break is a ValueError. Bodies are UTF-8, quoted-printable or base64 whichever
    is smaller, so no line is longer than 76 characters; with `html` the message is
    multipart/alternative. `date` defaults to now.

    With `author` (`Name <address>`, the organisation the message speaks for) the From
    header names it and `Sender` names `sender`, the service that transmits it (RFC 5322
    3.6.2); `reply_to` is where answers go. `attachments` (a report's PDF) make the message
    multipart/mixed: the text (and HTML) first, then each file, base64.
    """
    from_name, from_address = parse_mailbox(author or sender, what="sender")
    transmitter = parse_mailbox(sender, what="sender") if author else None
    answer_to = parse_mailbox(reply_to, what="reply-to address") if reply_to else None
    to_address = normalise_address(to, what="recipient address")
    if _CONTROL.search(subject):
        raise ValueError("the subject contains a line break or control character")
    if not _MESSAGE_ID.match(message_id) or len(message_id) > 250:
        raise ValueError("message_id must look like <left@right> in printable ASCII")
    when = date if date is not None else datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError("the message date must carry a UTC offset")
    lines = [
        "Date: " + format_datetime(when),
        _mailbox_field("From", from_name, from_address),
        _mailbox_field("To", to_name, to_address),
        *([_mailbox_field("Sender", *transmitter)]
          if transmitter and transmitter[1] != from_address else []),
        *([_mailbox_field("Reply-To", *answer_to)] if answer_to else []),
        _fold("Subject", _unstructured(subject)),
        "Message-ID: " + message_id,
    ]
    for name, value in (headers or {}).items():
        if not _FIELD_NAME.match(name) or name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header name {name!r} is not allowed")
        if _CONTROL.search(value):
            raise ValueError(f"header {name} contains a line break or control character")
        lines.append(_fold(name, _unstructured(value)))
    lines.append("MIME-Version: 1.0")
    body = _part("plain", text) if html is None else _multipart(
        "alternative", [_part("plain", text), _part("html", html)], message_id)
    if attachments:
        body = _multipart("mixed", [body, *(_file(a) for a in attachments)], message_id + "/mixed")
    head, _, rest = body.partition(b"\r\n\r\n") if body.startswith(b"Content-Type") else (
        b"", b"", body)
    single = "\r\n".join(lines).encode("ascii") + b"\r\n" + head + b"\r\n\r\n" + rest
    return single if single.endswith(b"\r\n") else single + b"\r\n"


class Attachment(NamedTuple):
    """A file sent with a message: its name (ASCII letters, digits, `.-_` only) and type."""

    filename: str
    content_type: str
    content: bytes


def _multipart(subtype: str, parts: Sequence[bytes], seed: str) -> bytes:
    """A multipart entity of `parts`, with a boundary none of them contains."""
    boundary = "=_" + hashlib.sha256(seed.encode()).hexdigest()[:24]
    while any(boundary.encode() in part for part in parts):
        boundary = "=_" + hashlib.sha256(boundary.encode()).hexdigest()[:24]
    delimiter = b"--" + boundary.encode()
    return b"".join([
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode("ascii"),
        *(delimiter + b"\r\n" + part + b"\r\n" for part in parts),
        delimiter, b"--\r\n",
    ])


def _file(attachment: Attachment) -> bytes:
    if not _FILE_NAME.fullmatch(attachment.filename) or not _FIELD_NAME.fullmatch(
            attachment.content_type.replace("/", "")):
        raise ValueError("an attachment's name or type is not plain ASCII")
    encoded = base64.encodebytes(attachment.content).replace(b"\n", b"\r\n")
    head = (f"Content-Type: {attachment.content_type}\r\n"
            f'Content-Disposition: attachment; filename="{attachment.filename}"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n")
    return head.encode("ascii") + encoded


def _mailbox_field(name: str, display: str | None, address: str) -> str:
    """A From/To/Sender/Reply-To header: `Name <address>`, or the bare address."""
    return _fold(name, [*_phrase(display), f"<{address}>"] if display else [address])


def parse_mailbox(value: str, *, what: str = "address") -> tuple[str, str]:
    """(display name, address) of `address` or `Name <address>`; line breaks are refused."""
    if _CONTROL.search(value):
        raise ValueError(f"the {what} contains a line break or control character")
    match = _MAILBOX.match(value)
    if match is None:
        return "", normalise_address(value.strip(), what=what)
    name = match["name"]
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    return name, normalise_address(match["address"], what=what)


def normalise_address(value: str, *, what: str = "address") -> str:
    """`value` as an ASCII addr-spec (the domain in IDNA form), or a ValueError.

    The value itself is left out of the message: it is often personal data.
    """
    if _CONTROL.search(value):
        raise ValueError(f"the {what} contains a line break or control character")
    local, at, domain = value.rpartition("@")
    if not at or len(local) > 64 or not _LOCAL_PART.match(local):
        raise ValueError(f"the {what} is not a plain e-mail address (local@domain)")
    return f"{local}@{_domain(domain, what)}"


def _domain(value: str, what: str) -> str:
    try:
        ascii_domain = value.encode("idna").decode("ascii") if not value.isascii() else value
    except UnicodeError:
        raise ValueError(f"the {what} has an invalid domain") from None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"the {what} has an invalid domain")
    return ascii_domain


def _phrase(name: str | None) -> list[str]:
    """A display name as header tokens: atoms, one quoted string, or encoded-words."""
    flat = " ".join(_CONTROL.sub(" ", name or "").split())
    if flat.isascii() and "=?" not in flat:
        if _ATOM_WORDS.match(flat) and all(len(word) <= _WORD_MAX for word in flat.split(" ")):
            return flat.split(" ")
        quoted = '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if len(quoted) <= _WORD_MAX:
            return [quoted]
    return _encoded_words(flat)


def _unstructured(value: str) -> list[str]:
    """Subject-like text as tokens: plain words when folding keeps it intact, else encoded."""
    words = value.split(" ")
    plain = (value.isascii() and "=?" not in value and "\t" not in value and value == value.strip()
             and all(0 < len(word) <= _WORD_MAX for word in words))
    return words if plain or not value else _encoded_words(value)


def _encoded_words(value: str) -> list[str]:
    """RFC 2047 base64 encoded-words, each holding whole characters."""
    data, words, start = value.encode("utf-8"), [], 0
    while start < len(data):
        end = min(start + _WORD_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:
            end -= 1
        words.append("=?utf-8?b?" + base64.b64encode(data[start:end]).decode("ascii") + "?=")
        start = end
    return words


def _fold(name: str, tokens: list[str]) -> str:
    """`Name: token token …`, broken before a space wherever a line would pass 78."""
    lines, line = [], name + ":"
    for token in tokens:
        if len(line) + 1 + len(token) > _LINE_MAX and line != name + ":":
            lines.append(line)
            line = " " + token
        else:
            line += " " + token
    lines.append(line)
    return "\r\n".join(lines)


def _part(subtype: str, content: str) -> bytes:
    """Content-Type and Content-Transfer-Encoding headers, a blank line and the body."""
    text = content.replace("\r\n", "\n").replace("\r", "\n") if "\r" in content else content
    data = text.encode("utf-8")
    extra = len(data) - len(text)  # bytes beyond one per character: a gauge of non-ASCII
    if not extra and not _NOT_7BIT.search(text):
        encoding, body = "7bit", data.replace(b"\n", b"\r\n")
    elif 2 * extra <= len(data) // 6:
        encoding = "quoted-printable"
        body = binascii.b2a_qp(data, quotetabs=False, istext=True).replace(b"\n", b"\r\n")
    else:
        # Line breaks are CRLF inside the encoding too: the canonical form of text (RFC 2046).
        encoded = base64.encodebytes(data.replace(b"\n", b"\r\n"))
        encoding, body = "base64", encoded.replace(b"\n", b"\r\n")
    head = (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n")
    return head.encode("ascii") + body
