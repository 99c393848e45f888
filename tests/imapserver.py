"""A real IMAP server for tests: Dovecot on a loopback port, one mailbox user, maildir in a
throwaway directory. Skipped, saying why, where the `dovecot` binary is missing (Debian:
`apt-get install dovecot-imapd`).

    def test_x(imap_server: ImapServer) -> None:
        imap_server.append(raw_message)      # IMAP APPEND, as a mail server would deliver
        ... poll imap_server.url ...
        assert imap_server.unseen() == []

Dovecot runs in the foreground (`dovecot -F -c CONF`) under its own configuration: plain
text logins allowed (loopback only), a passwd-file with the one user, no TLS. Run as root,
its auth process and the mailbox belong to the `dovecot` account (Dovecot refuses UID 0
for mail), so the directory is made readable to it.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.smtp_server import unused_port

HOST = "127.0.0.1"
USER = "bounces"
PASSWORD = "p@ss word/1"
"""With characters a URL must escape: the poller must decode them."""
MAILBOX = "INBOX"


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (path for path in ("/usr/sbin/dovecot",) if os.access(path, os.X_OK)), None)


def unavailable_reason() -> str | None:
    if dovecot_binary() is None:
        return "dovecot is not installed (Debian: apt-get install dovecot-imapd)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("dovecot")
        except KeyError:
            return "running as root, and the `dovecot` account Dovecot runs as is missing"
    return None


@dataclass
class ImapServer:
    directory: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"imap://{quote(USER, safe='')}:{quote(PASSWORD, safe='')}@{HOST}:{self.port}/{MAILBOX}"

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(HOST, self.port, timeout=10)
        imap.login(USER, PASSWORD)
        imap.select(MAILBOX)
        return imap

    @contextmanager
    def session(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in connection with the mailbox selected, logged out afterwards."""
        imap = self.connect()
        try:
            yield imap
        finally:
            imap.logout()

    def append(self, raw: bytes) -> None:
        """Deliver one message into the mailbox, unseen (IMAP APPEND)."""
        with self.session() as imap:
            status, data = imap.append(MAILBOX, None, None, raw)
            assert status == "OK", data

    def _uids(self, imap: imaplib.IMAP4, criterion: str) -> list[bytes]:
        _, data = imap.uid("SEARCH", criterion)
        return [uid for line in data if isinstance(line, bytes) for uid in line.split()]

    def unseen(self) -> list[bytes]:
        with self.session() as imap:
            return self._uids(imap, "UNSEEN")

    def count(self) -> int:
        with self.session() as imap:
            return len(self._uids(imap, "ALL"))

    def empty(self) -> None:
        """Delete every message (between tests sharing the server)."""
        with self.session() as imap:
            uids = self._uids(imap, "ALL")
            if uids:
                imap.uid("STORE", b",".join(uids).decode(), "+FLAGS", "(\\Deleted)")
                imap.expunge()

    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _config(directory: Path, port: int, user: str | None) -> str:
    own = (f"default_internal_user = {user}\ndefault_login_user = {user}\n"
           if user is not None else "")
    return f"""\
base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/dovecot.log
listen = {HOST}
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 1
first_valid_gid = 1
{own}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {directory}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def start() -> ImapServer:
    binary = dovecot_binary()
    assert binary is not None
    directory = Path(tempfile.mkdtemp(prefix="breach-dovecot-"))
    directory.chmod(0o755)  # Dovecot's auth process (the `dovecot` account) reads the passwd file
    if os.geteuid() == 0:
        account = pwd.getpwnam("dovecot")
        uid, gid, user = account.pw_uid, account.pw_gid, None
    else:
        uid, gid, user = os.getuid(), os.getgid(), pwd.getpwuid(os.getuid()).pw_name
    home = directory / "home"
    home.mkdir()
    os.chown(home, uid, gid)
    (directory / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{home}::\n")
    port = unused_port()
    config = directory / "dovecot.conf"
    config.write_text(_config(directory, port, user))
    process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    server = ImapServer(directory, port, process)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            shutil.rmtree(directory, ignore_errors=True)
            raise RuntimeError(f"dovecot stopped at start: {error}{server.log()}")
        try:
            server.connect().logout()
            return server
        except (OSError, imaplib.IMAP4.error):
            if time.monotonic() > deadline:
                stop(server)
                raise RuntimeError(f"dovecot did not answer within 20 s: {server.log()}") from None
            time.sleep(0.05)  # waiting for a real server to listen: no clock to move here


def stop(server: ImapServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def imap_session_server() -> Iterator[ImapServer]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"IMAP tests: {reason}")
    server = start()
    try:
        yield server
    finally:
        stop(server)


@pytest.fixture
def imap_server(imap_session_server: ImapServer) -> ImapServer:
    """The session's Dovecot, its mailbox emptied for this test."""
    imap_session_server.empty()
    return imap_session_server
