"""One message as bytes, read back with the standard library's parser: structure, ids, safety."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest

from notifications.delivery.message import (
    Attachment,
    build_message,
    new_message_id,
    normalise_address,
    parse_mailbox,
)
from tests.notifications.delivery.samples import HTML, SENDER, SUBJECT, TEXT, WHEN, lines, message, parse


def test_message_id_is_fixed_by_the_delivery_key_and_always_one_safe_token() -> None:
    assert new_message_id("breach.example", "d-1") == "<d-1@breach.example>"
    assert new_message_id("breach.example", "d-1") == new_message_id("breach.example", "d-1")
    hostile = ["a b", "a>b", "<x@y>", "a\r\nBcc: x@y", "a.b", "a=2Eb", "zgłoszenie", "x" * 500]
    ids = [new_message_id("breach.example", key) for key in hostile]
    assert len(set(ids)) == len(ids)
    for message_id in ids:
        assert re.fullmatch(r"<[A-Za-z0-9_=.-]+@breach\.example>", message_id), message_id
        assert len(message_id) < 100
    assert new_message_id("bücher.example", "k") == "<k@xn--bcher-kva.example>"
    with pytest.raises(ValueError):
        new_message_id("bad domain", "k")
    with pytest.raises(ValueError):
        new_message_id("breach.example", "")


def test_a_message_has_every_header_and_both_parts() -> None:
    raw = message()
    parsed = parse(raw)
    assert parsed["From"] == "Breachdesk <breachdesk@breach.example>"
    assert parsed["To"] == "Anna Kowalska <anna@example.com>"
    assert parsed["Subject"] == SUBJECT
    assert parsed["Message-ID"] == "<d-1@breach.example>"
    assert parsedate_to_datetime(parsed["Date"]) == WHEN
    assert parsed["MIME-Version"] == "1.0"
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parsed.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert lines(text.get_content()) == TEXT
    assert lines(html.get_content()) == HTML
    assert raw.isascii()
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))


@pytest.mark.parametrize(("text", "encoding"), [
    ("Plain ASCII, short lines.\n", "7bit"),
    ("Informujemy, że w systemie doszło do naruszenia ochrony danych osobowych.\n", "quoted-printable"),
    ("Zażółć gęślą jaźń.\n", "base64"),
    ("Παραβίαση προσωπικών δεδομένων: τι συνέβη και τι κάνουμε.\n", "base64"),
    ("x" * 2000 + "\n", "quoted-printable"),
    ("trailing blank \n", "quoted-printable"),
])
def test_each_body_gets_the_encoding_that_suits_it(text: str, encoding: str) -> None:
    parsed = parse(message(text=text, html=None))
    assert parsed.get_content_type() == "text/plain"
    assert parsed["Content-Transfer-Encoding"] == encoding
    assert lines(parsed.get_content()) == text


def test_long_subjects_and_lines_are_folded_and_come_back_whole() -> None:
    subject = "Important notice about your account " * 8 + "https://breach.example/" + "q" * 120
    text = "start " + "ż" * 3000 + " end\n" + "a" * 5000 + "\n"
    raw = message(subject=subject, text=text, html="<p>" + "b" * 4000 + "</p>\n")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    parsed = parse(raw)
    assert parsed["Subject"] == subject
    assert lines(next(parsed.iter_parts()).get_content()) == text


@pytest.mark.parametrize("bad", ["\r", "\n", "\r\n", "\u2028", "\x00"])
def test_line_breaks_in_subject_or_addresses_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="subject"):
        message(subject=f"Notice{bad}Bcc: evil@example.net")
    with pytest.raises(ValueError, match="recipient"):
        message(to=f"anna@example.com{bad}Bcc: evil@example.net")
    with pytest.raises(ValueError, match="sender"):
        build_message(sender=f"Breachdesk{bad}Bcc: evil@example.net <b@breach.example>", to="a@example.com",
                      subject="s", text="t", html=None, message_id="<m@breach.example>")
    with pytest.raises(ValueError, match="X-Ref"):
        build_message(sender=SENDER, to="a@example.com", subject="s", text="t", html=None,
                      message_id="<m@breach.example>", headers={"X-Ref": f"1{bad}Bcc: evil@example.net"})


@pytest.mark.parametrize("to", ["Anna <anna@example.com>", "anna@example.com, evil@example.net", "anna",
                                "anna@", "an na@example.com", "anna@exa mple.com", "anna@-example.com"])
def test_a_recipient_is_one_plain_address(to: str) -> None:
    with pytest.raises(ValueError, match="recipient address"):
        message(to=to)


def test_extra_headers_cannot_replace_the_structural_ones() -> None:
    for name in ["Bcc", "To", "content-type", "Message-ID", "Bad Name", "X:Y"]:
        with pytest.raises(ValueError, match="header name"):
            build_message(sender=SENDER, to="a@example.com", subject="s", text="t", html=None,
                          message_id="<m@breach.example>", headers={name: "v"})
    with pytest.raises(ValueError, match="message_id"):
        build_message(sender=SENDER, to="a@example.com", subject="s", text="t", html=None, message_id="m")
    with pytest.raises(ValueError, match="UTC offset"):
        build_message(sender=SENDER, to="a@example.com", subject="s", text="t", html=None,
                      message_id="<m@breach.example>", date=datetime(2026, 3, 10, 12, 0))


def test_a_date_keeps_its_offset() -> None:
    warsaw = datetime(2026, 3, 10, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    raw = build_message(sender=SENDER, to="a@example.com", subject="s", text="t\n", html=None,
                        message_id="<m@breach.example>", date=warsaw)
    assert b"\r\nDate: Tue, 10 Mar 2026 13:00:00 +0100\r\n" in b"\r\n" + raw


def test_a_text_only_message_is_one_plain_part() -> None:
    parsed = parse(message(html=None))
    assert not parsed.is_multipart()
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert lines(parsed.get_content()) == TEXT


def test_a_resend_is_the_same_message_byte_for_byte() -> None:
    assert message(key="d-7") == message(key="d-7")
    assert parse(message(key="d-7"))["Message-ID"] == new_message_id("breach.example", "d-7")
    assert message(key="d-7") != message(key="d-8")


def test_a_display_name_with_line_breaks_is_flattened_onto_one_line() -> None:
    raw = message(to_name="Anna\r\nBcc: evil@example.net\nX-Evil: 1\u2028Cc: evil2@example.net")
    parsed = parse(raw)
    [to] = parsed["To"].addresses
    assert (to.display_name, to.addr_spec) == (
        "Anna Bcc: evil@example.net X-Evil: 1 Cc: evil2@example.net", "anna@example.com")
    for name in ("Bcc", "Cc", "X-Evil"):
        assert parsed[name] is None
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0] for line in header_block.split(b"\r\n") if not line.startswith(b" ")]
    assert names == [b"Date", b"From", b"To", b"Subject", b"Message-ID", b"MIME-Version", b"Content-Type"]


@pytest.mark.parametrize("subject", [SUBJECT, "Zgłoszenie", "侵害の通知", "=?utf-8?b?Zm9v?= is literal"])
def test_a_subject_that_is_not_plain_ascii_is_encoded_and_reads_back_whole(subject: str) -> None:
    raw = message(subject=subject)
    assert raw.isascii()
    subject_line = next(line for line in raw.split(b"\r\n") if line.startswith(b"Subject:"))
    assert b"=?utf-8?b?" in subject_line
    assert parse(raw)["Subject"] == subject


def test_a_display_name_that_is_not_plain_ascii_is_encoded_and_reads_back_whole() -> None:
    raw = message(to_name="Zofia Żółkiewska-Brzęczyszczykiewicz")
    assert raw.isascii()
    [to] = parse(raw)["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Zofia Żółkiewska-Brzęczyszczykiewicz", "anna@example.com")


def test_a_sender_may_carry_a_quoted_display_name() -> None:
    assert parse_mailbox('"Breach, Desk \\"DPO\\"" <dpo@breach.example>') == (
        'Breach, Desk "DPO"', "dpo@breach.example")
    assert parse_mailbox("dpo@breach.example") == ("", "dpo@breach.example")
    raw = build_message(sender='"Breach, Desk" <dpo@breach.example>', to="a@example.com", subject="s",
                        text="t\n", html=None, message_id="<m@breach.example>", date=WHEN)
    [sender] = parse(raw)["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Breach, Desk", "dpo@breach.example")


def test_addresses_are_normalised_and_never_quoted_back_in_errors() -> None:
    assert normalise_address("anna@bücher.example") == "anna@xn--bcher-kva.example"
    for bad in ("jan.kowalski@@example.com", "jan.kowalski@example.com\r\nBcc: x@y",
                "jan.kowalski@exa_mple.com"):
        with pytest.raises(ValueError) as caught:
            normalise_address(bad, what="recipient address")
        assert "jan.kowalski" not in str(caught.value)
        assert "recipient address" in str(caught.value)
    with pytest.raises(ValueError, match="line break"):
        parse_mailbox("Anna <anna@example.com>\r\nBcc: evil@example.net", what="sender")


def test_a_file_rides_along_after_the_text_and_html() -> None:
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40
    raw = build_message(sender="Breachdesk <breachdesk@example.com>", to="dpo@example.org",
                        subject="Report", text="Text.", html="<p>Text.</p>",
                        message_id="<r.1@example.com>",
                        attachments=[Attachment("report-1-1.pdf", "application/pdf", pdf)])
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    from email import message_from_bytes, policy

    message = message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "multipart/mixed"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    files = list(message.iter_attachments())
    assert [(f.get_filename(), f.get_content()) for f in files] == [("report-1-1.pdf", pdf)]


@pytest.mark.parametrize("name", ['report".pdf', "report\r\nBcc: x.pdf", "rapport été.pdf", ""])
def test_an_attachment_name_that_could_break_a_header_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="attachment"):
        build_message(sender="a@example.com", to="b@example.com", subject="s", text="t",
                      html=None, message_id="<r.2@example.com>",
                      attachments=[Attachment(name, "application/pdf", b"%PDF")])
