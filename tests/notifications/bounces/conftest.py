"""The bounce tests' own fixture: a real Dovecot (IMAP) on loopback, see tests/imapserver.py."""

from tests.imapserver import imap_server, imap_session_server  # noqa: F401  (fixtures)
