"""Reading bounces: RFC 3464 delivery status notifications, the common non-standard formats, and
hostile input, which must never raise.

The samples follow the formats the MTAs really send (Postfix bounce(8) templates, Exim's
"Mail delivery failed", qmail's QSBMF, Exchange Online NDRs, Google's DSNs, Sendmail's DSNs). Each
returned message carries a Message-ID `<breachdesk.<delivery>.<attempt>@example.com>` and each
bounce is addressed to that delivery's return path under KEY.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.bounces.reading import (
    MAX_DIAGNOSTIC,
    NO_FAILED_RECIPIENT,
    NOT_A_REPORT,
    UNPARSEABLE,
    BounceKind,
    BounceReading,
    read_bounce,
)
from notifications.delivery.return_paths import delivery_of

SAMPLES = Path(__file__).parent / "samples"
BOUNCE_ADDRESS = "bounces@example.com"
KEY = "k" * 43


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def failure(kind: BounceKind, status: str | None, diagnostic: str | None, recipients: set[str],
            message_id: str | None, addressed_to: tuple[str, ...]) -> BounceReading:
    return BounceReading(kind=kind, status=status,
                         diagnostic=diagnostic, failed_recipients=frozenset(recipients),
                         original_message_id=message_id, addressed_to=addressed_to, why=None)


def not_understood(why: str, message_id: str | None = None,
                   addressed_to: tuple[str, ...] = ()) -> BounceReading:
    return BounceReading(kind=None, status=None, diagnostic=None, failed_recipients=frozenset(),
                         original_message_id=message_id, addressed_to=addressed_to, why=why)


# RFC 3464 §2.3.3: Action "failed" means the MTA gave up; RFC 3463 §3.1: status class 5 is a
# permanent failure, class 4 a persistent transient one.
EXPECTED: dict[str, tuple[int | None, BounceReading]] = {
    "postfix_hard.eml": (17, failure(
        "hard", "5.1.1",
        "550 5.1.1 <ana.pereira@example.net>: Recipient address rejected: User unknown in "
        "virtual mailbox table",
        {"ana.pereira@example.net"}, "<breachdesk.17.3@example.com>",
        ("bounces+b17-7mcx2fcszj@example.com",))),
    # RFC 3464 §2.3.3: "delayed" — the MTA "will continue to attempt" delivery. No failure:
    # resending now could give the person the notice twice.
    "postfix_delayed.eml": (18, not_understood(
        "no failed recipient found", "<breachdesk.18.1@example.com>",
        ("bounces+b18-j4y4gunjnc@example.com",))),
    # No DSN: flufl.bounce reads X-Failed-Recipients; the SMTP reply is quoted in the text.
    "exim_plain.eml": (19, failure(
        "hard", "5.1.1",
        "550 5.1.1 <Lea.Meyer@example.org>: Recipient address rejected: User unknown in local "
        "recipient table",
        {"lea.meyer@example.org"}, "<breachdesk.19.2@example.com>",
        ("bounces+b19-swasdogpjj@example.com",))),
    # QSBMF: a qmail bounce is always a permanent failure ("I've given up").
    "qmail.eml": (20, failure(
        "hard", "5.1.1", "550 5.1.1 <marie.dupont@example.net>... No such user here",
        {"marie.dupont@example.net"}, "<breachdesk.20.1@example.com>",
        ("bounces+b20-hg7kzzhhtw@example.com",))),
    # Postfix without DSN support: flufl.bounce reads the notification; the reply is unfolded.
    "postfix_text.eml": (26, failure(
        "hard", "5.1.1",
        "550 5.1.1 <t.virtanen@example.fi>: Recipient address rejected: User unknown in local "
        "recipient table (in reply to RCPT TO command)",
        {"t.virtanen@example.fi"}, "<breachdesk.26.2@example.com>",
        ("bounces+b26-tlfzdu5ajz@example.com",))),
    # Yahoo's own format; its reply has no enhanced status code.
    "yahoo.eml": (27, failure(
        "hard", None,
        "554 delivery error: dd This user doesn't have a yahoo.com account "
        "(maria.garcia@yahoo.com) [0] - mta1234.mail.ne1.yahoo.com [BODY]",
        {"maria.garcia@yahoo.com"}, "<breachdesk.27.1@example.com>",
        ("bounces+b27-ia7mrii2kc@example.com",))),
    "office365_ndr.eml": (21, failure(
        "hard", "5.1.10",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient p.novak@contoso.com not found by "
        "SMTP address lookup",
        {"p.novak@contoso.com"}, "<breachdesk.21.1@example.com>",
        ("bounces+b21-itqepazut4@example.com",))),
    # A multi-line SMTP reply folded into one Diagnostic-Code field reads as one line.
    "gmail_5_1_1.eml": (22, failure(
        "hard", "5.1.1",
        "550-5.1.1 The email account that you tried to reach does not exist. Please try "
        "550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 "
        "unnecessary spaces. For more information, go to 550 5.1.1 "
        "https://support.google.com/mail/?p=NoSuchUser "
        "d2e1a72fcca58-7e2b0e1a3c4si1234567b3a.123 - gsmtp",
        {"no.such.person@gmail.com"}, "<breachdesk.22.1@example.com>",
        ("bounces+b22-ffnbeapfcg@example.com",))),
    # RFC 3464 §2.3.3: "delivered" is no failure; only the failed recipient is reported.
    "sendmail_two_recipients.eml": (23, failure(
        "hard", "5.1.1", "550 5.1.1 <k.tanaka@example.jp>... User unknown",
        {"k.tanaka@example.jp"}, "<breachdesk.23.4@example.com>",
        ("bounces+b23-kdoxny2arm@example.com",))),
    # RFC 3834 auto-reply: no delivery status, nothing failed.
    "auto_reply.eml": (24, not_understood(
        NOT_A_REPORT, addressed_to=("bounces+b24-uraufiln6e@example.com",))),
    # Declared charsets that do not exist, raw 8-bit UTF-8 and Latin-1 in header fields.
    "bad_charsets.eml": (25, failure(
        "hard", "5.1.1", "550 5.1.1 Benutzer unbekannt \u2013 kein Postfach für Lukas Müller",
        {"lukas.mueller@example.de"}, "<breachdesk.25.1@example.com>",
        ("bounces+b25-3wjlhhqvyn@example.com",))),
    "unparseable.eml": (None, not_understood(UNPARSEABLE)),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_sample_bounce_reads_as_expected(name: str) -> None:
    delivery, expected = EXPECTED[name]
    reading = read_bounce(sample(name))
    assert reading == expected
    if delivery is not None:  # the receiver finds the delivery from where the bounce was sent
        assert delivery_of(reading.addressed_to[0], bounce_address=BOUNCE_ADDRESS,
                           secret=KEY) == delivery


def test_every_sample_has_an_expectation() -> None:
    assert {path.name for path in SAMPLES.glob("*.eml")} == set(EXPECTED)


def test_line_endings_do_not_matter() -> None:
    for name in EXPECTED:
        raw = sample(name)
        assert read_bounce(raw.replace(b"\n", b"\r\n")) == read_bounce(raw), name


def test_a_failed_action_with_a_transient_status_is_soft() -> None:
    # RFC 3463 §3.1: 4.X.X is a persistent transient failure (here 4.4.7, message expired).
    raw = (sample("postfix_hard.eml")
           .replace(b"Status: 5.1.1", b"Status: 4.4.7")
           .replace(b"Diagnostic-Code: smtp; 550 5.1.1",
                    b"Diagnostic-Code: smtp; 451 4.4.7"))
    reading = read_bounce(raw)
    assert (reading.kind, reading.status) == ("soft", "4.4.7")
    assert reading.diagnostic is not None and reading.diagnostic.startswith("451 4.4.7 <ana.pereira")


def test_a_report_of_success_names_no_failure() -> None:
    # RFC 3464 §2.3.3: "relayed" and "delivered" are not failures.
    raw = (sample("postfix_hard.eml")
           .replace(b"Action: failed", b"Action: relayed")
           .replace(b"Status: 5.1.1", b"Status: 2.0.0"))
    assert read_bounce(raw) == not_understood(
        NO_FAILED_RECIPIENT, "<breachdesk.17.3@example.com>",
        ("bounces+b17-7mcx2fcszj@example.com",))


def test_a_global_delivery_status_is_read() -> None:
    # RFC 6533 §6.2: message/global-delivery-status, with utf-8 address types.
    raw = (sample("postfix_hard.eml")
           .replace(b"Content-Type: message/delivery-status",
                    b"Content-Type: message/global-delivery-status")
           .replace(b"Original-Recipient: rfc822;Ana.Pereira@example.net",
                    b"Original-Recipient: utf-8;Ana.Pereira@example.net"))
    assert read_bounce(raw) == EXPECTED["postfix_hard.eml"][1]


def test_a_report_naming_no_recipient_leaves_the_answer_to_the_text() -> None:
    # A delivery status part without per-recipient fields (RFC 3464 §2.3 requires them) says
    # nothing; the notification around it still names the failure.
    raw = sample("postfix_text.eml").replace(
        b"Content-Description: Undelivered Message\nContent-Type: message/rfc822\n",
        b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mail.example.com\n\n"
        b"--6E5F4A3B21.1796467803/mail.example.com\n"
        b"Content-Description: Undelivered Message\nContent-Type: message/rfc822\n")
    assert raw.count(b"message/delivery-status") == 1
    assert read_bounce(raw) == EXPECTED["postfix_text.eml"][1]


def test_a_bounce_without_a_from_field_is_read() -> None:
    raw = sample("qmail.eml").replace(b"From: MAILER-DAEMON@mail.example.net\n", b"")
    assert b"MAILER-DAEMON" not in raw
    assert read_bounce(raw) == EXPECTED["qmail.eml"][1]


def test_a_diagnostic_without_its_type_is_kept_whole() -> None:
    # RFC 3464 §2.3.6 gives the diagnostic a type ("smtp;"); some MTAs leave it out.
    raw = sample("office365_ndr.eml").replace(b"Diagnostic-Code: smtp;550", b"Diagnostic-Code: 550")
    assert read_bounce(raw) == EXPECTED["office365_ndr.eml"][1]


def test_the_original_recipient_is_reported_before_the_final_one() -> None:
    # RFC 3464 §2.3.1: Original-Recipient is the address as the sender gave it.
    raw = sample("postfix_hard.eml").replace(b"Final-Recipient: rfc822; ana.pereira@example.net",
                                             b"Final-Recipient: rfc822; ana@mailbox.example.net")
    assert read_bounce(raw).failed_recipients == {"ana.pereira@example.net"}


def test_the_addresses_a_bounce_was_sent_to_come_in_order_of_trust() -> None:
    raw = (b"To: Five <e@example.com>\n"
           b"X-Envelope-To: d@example.com\n"
           b"Envelope-To: c@example.com\n"
           b"X-Original-To: B@Example.com\n"
           b"Delivered-To: a@example.com\n"
           b"Delivered-To: b@example.com\n"
           b"Subject: hello\n\nJust a note.\n")
    assert read_bounce(raw) == not_understood(
        NOT_A_REPORT,
        addressed_to=("a@example.com", "b@example.com", "c@example.com", "d@example.com",
                      "e@example.com"))


def test_control_characters_are_removed_from_the_diagnostic() -> None:
    diagnostic = (b"Diagnostic-Code: smtp; 550 5.1.1 <ana.pereira@example.net>:\x00 User\x07 "
                  b"\x1b[31munknown\xe2\x80\xae\r\n\tsee\x7f " + b"x" * 2000)
    raw = sample("postfix_hard.eml").replace(
        b"Diagnostic-Code: smtp; 550 5.1.1 <ana.pereira@example.net>: Recipient address\n"
        b"    rejected: User unknown in virtual mailbox table", diagnostic)
    reading = read_bounce(raw)
    assert reading.kind == "hard" and reading.diagnostic is not None
    assert reading.diagnostic.startswith("550 5.1.1 <ana.pereira@example.net>: User [31munknown see xxx")
    assert len(reading.diagnostic) == MAX_DIAGNOSTIC
    assert reading.diagnostic.isprintable()


def nested_multiparts(depth: int) -> bytes:
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="level%d"\n\n--level%d\n' % (n, n)
                       for n in range(depth))
    closing = b"".join(b"\n--level%d--\n" % n for n in reversed(range(depth)))
    return (b"From: someone@example.org\nTo: bounces+b17-7mcx2fcszj@example.com\n"
            b"MIME-Version: 1.0\n" + opening + b"Content-Type: text/plain\n\nhello\n" + closing)


def test_leading_blank_lines_and_other_byte_types_are_read() -> None:
    raw = sample("postfix_hard.eml")
    expected = EXPECTED["postfix_hard.eml"][1]
    assert read_bounce(b"\r\n\n" + raw) == expected
    assert read_bounce(bytearray(raw)) == expected  # type: ignore[arg-type]
    assert read_bounce(memoryview(raw)) == expected  # type: ignore[arg-type]
    assert read_bounce(10**12) == not_understood(UNPARSEABLE)  # type: ignore[arg-type]
    assert read_bounce(raw.decode()) == not_understood(UNPARSEABLE)  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw", "why"), [
    (b"", UNPARSEABLE),
    (b"\r\n\r\n  \t\r\n", UNPARSEABLE),
    (b"\x00" * 4096, UNPARSEABLE),
    (random.Random(20261205).randbytes(1 << 20), UNPARSEABLE),
    (b"not a message at all, just a line of text", UNPARSEABLE),
    (b"x" * (10 << 20), UNPARSEABLE),
    (b"From: MAILER-DAEMON@example.org\nSubject: x\n\n" + (b"y" * 70 + b"\n") * 150_000,
     NOT_A_REPORT),
    (b"From: MAILER-DAEMON@example.org\nSubject: x\n\nfailed addresses follow:\n" + b"z" * (10 << 20),
     NOT_A_REPORT),
    (nested_multiparts(20), NOT_A_REPORT),
    (nested_multiparts(5000), UNPARSEABLE),
    (b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
     b"--b\nContent-Type: message/delivery-status\n\n\x00\xff\xfe: \x01\n\n--b", NO_FAILED_RECIPIENT),
    (b"Content-Type: message/delivery-status\n\nAction: failed\n", None),
], ids=["empty", "blank", "nul", "random", "text", "huge-line", "huge", "huge-heuristic",
        "nested", "deeply-nested", "garbled-report", "bare-report"])
def test_hostile_input_is_read_without_raising(raw: bytes, why: str | None) -> None:
    reading = read_bounce(raw)
    if why is None:  # a bare report part that fails, with nothing else: a hard bounce of no one
        assert (reading.kind, reading.failed_recipients, reading.why) == ("hard", frozenset(), None)
    else:
        assert (reading.kind, reading.status, reading.diagnostic, reading.why) == (None, None, None, why)


def test_a_report_is_read_when_a_huge_message_is_returned_with_it() -> None:
    raw = sample("postfix_hard.eml").replace(
        b"We are writing to tell you",
        (b"A" * 76 + b"\n") * 140_000 + b"We are writing to tell you")
    assert len(raw) > 10 << 20
    assert read_bounce(raw) == EXPECTED["postfix_hard.eml"][1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_no_bytes_make_it_raise(raw: bytes) -> None:
    reading = read_bounce(raw)
    assert reading.kind in (None, "hard", "soft")
    assert (reading.why is None) == (reading.kind is not None)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(EXPECTED)), st.data())
def test_no_damage_to_a_real_bounce_makes_it_raise(name: str, data: st.DataObject) -> None:
    raw = bytearray(sample(name))
    end = data.draw(st.integers(min_value=0, max_value=len(raw)))
    for _ in range(data.draw(st.integers(min_value=0, max_value=8))):
        at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        raw[at] = data.draw(st.integers(min_value=0, max_value=255))
    reading = read_bounce(bytes(raw[:end]))
    assert reading.kind in (None, "hard", "soft")
    assert reading.diagnostic is None or (reading.diagnostic.isprintable()
                                          and len(reading.diagnostic) <= MAX_DIAGNOSTIC)
