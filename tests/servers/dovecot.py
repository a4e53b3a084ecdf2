"""A private Dovecot for the IMAP tests and the IMAP benchmark.

One Dovecot per test session (it starts in well under a second, but a
session of IMAP tests would otherwise start dozens); each test gets a fresh
user, so mailboxes never leak between tests. Users are added to the
passwd-file while the server runs: Dovecot re-reads it when it changes.

``imap_proxy`` (``tests.servers.imap_proxy``) goes between a connector
and this Dovecot to count commands and cut connections.

``DovecotServer`` is a plain class so ``bench/imap_backfill.py`` can start
the same server outside pytest.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.servers import free_port, missing_server
from tests.servers.imap_proxy import ImapProxy
from tests.servers.tls import TlsFiles, loopback_tls

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USERS = 400  # logins prepared per session; a test takes one or two

CONFIG = """\
base_dir = {t}/run
state_dir = {t}/state
protocols = imap
listen = 127.0.0.1
ssl = {ssl}
{ssl_files}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
log_path = {t}/dovecot.log
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {t}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={t}/mail/%u
}}
mail_location = maildir:~/Maildir
first_valid_uid = {uid}
first_valid_gid = {gid}
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
mail_max_userip_connections = 100
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    auto = create
    special_use = \\Sent
  }}
  mailbox Trash {{
    auto = create
    special_use = \\Trash
  }}
  mailbox Junk {{
    auto = create
    special_use = \\Junk
  }}
  mailbox Drafts {{
    auto = create
    special_use = \\Drafts
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


@dataclass(frozen=True)
class Identities:
    """Unix ids Dovecot runs as: root must hand mail to an unprivileged user."""

    uid: int
    gid: int
    internal: str
    internal_group: str
    login: str

    @classmethod
    def for_this_process(cls) -> Identities:
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            return cls(nobody.pw_uid, nobody.pw_gid, "dovecot", "dovecot", "dovenull")
        me = pwd.getpwuid(os.geteuid())
        return cls(me.pw_uid, me.pw_gid, me.pw_name, me.pw_name, me.pw_name)


class DovecotServer:
    """``dovecot -F`` on loopback with a config of its own in a temp dir.

    With ``tls_files`` it offers STARTTLS on ``port`` and
    implicit TLS on ``tls_port``; without, it offers neither.
    """

    def __init__(self, root: Path, tls_files: TlsFiles | None = None) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.tls_files = tls_files
        self.ids = Identities.for_this_process()
        self.port = 0
        self.tls_port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self.pool: list[MailUser] = []  # fresh logins written before start, for tests

    @property
    def log(self) -> Path:
        return self.root / "dovecot.log"

    def start(self, attempts: int = 5) -> None:
        for d in ("run", "state", "mail"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        os.chown(self.root / "mail", self.ids.uid, self.ids.gid)
        (self.root / "users").touch()
        for _ in range(attempts):
            # Dovecot cannot pick a free port itself: choose one and retry if
            # another process wins the race for it.
            self.port, self.tls_port = free_port(), free_port()
            (self.root / "dovecot.conf").write_text(self._config())
            self._proc = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"dovecot did not start; see {self.log}")

    def _config(self) -> str:
        ssl_files = ""
        if self.tls_files:
            files = self.tls_files
            ssl_files = f"ssl_cert = <{files.cert}\nssl_key = <{files.key}\n"
        return CONFIG.format(
            t=self.root,
            ssl="yes" if self.tls_files else "no",
            ssl_files=ssl_files,
            uid=self.ids.uid,
            gid=self.ids.gid,
            internal=self.ids.internal,
            internal_group=self.ids.internal_group,
            login=self.ids.login,
            port=self.port,
            tls_port=self.tls_port if self.tls_files else 0,
        )

    def _wait_ready(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stderr is not None:
            self._proc.stderr.close()  # else the collector closes it, warning in some later test
        self._proc = None

    def add_user(self, name: str, password: str) -> None:
        """Add a login. Dovecot re-reads the passwd-file at most once a second,
        so a running server may refuse the new user for up to a second: add
        users before ``start`` where possible (the test fixture keeps a pool)."""
        with open(self.root / "users", "a", encoding="utf-8") as users:
            users.write(f"{name}:{{PLAIN}}{password}::::::\n")

    def client(self, user: str, password: str) -> IMAPClient:
        """An administrative connection for loading and inspecting test mail."""
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        client.login(user, password)
        return client

    def sessions_out_bytes(self, user: str) -> list[int]:
        """Bytes Dovecot sent in each finished session of ``user`` (its logout line)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if f"imap({user})" in line and " out=" in line:
                found.append(int(line.split(" out=", 1)[1].split()[0].rstrip(",")))
        return found


@dataclass
class MailUser:
    """One fresh Dovecot user for one test."""

    server: DovecotServer
    name: str
    password: str

    @property
    def port(self) -> int:
        return self.server.port

    def client(self) -> IMAPClient:
        return self.server.client(self.name, self.password)

    def append(self, folder: str, messages: Iterable[bytes], chunk: int = 500) -> None:
        """Load mail with MULTIAPPEND (one APPEND each is ~5x slower)."""
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            batch: list[bytes] = []
            for message in messages:
                batch.append(message)
                if len(batch) >= chunk:
                    client.multiappend(folder, batch)
                    batch = []
            if batch:
                client.multiappend(folder, batch)

    def flags(self, folder: str) -> dict[int, tuple[bytes, ...]]:
        """UID -> stored flags. \\Recent is left out: it is a session flag (RFC 3501
        2.3.2) that only a read-write SELECT clears, and the connector only EXAMINEs."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            return {
                uid: tuple(f for f in flags if f != b"\\Recent")
                for uid, flags in client.get_flags(uids).items()
            }

    def recreate(self, folder: str, messages: Iterable[bytes]) -> None:
        """Delete and recreate ``folder``: the server assigns a new UIDVALIDITY."""
        with self.client() as client:
            client.delete_folder(folder)
        # Dovecot derives UIDVALIDITY from the clock in seconds; wait for a new one.
        time.sleep(1.1)
        self.append(folder, messages)


def _start(tls: bool) -> Iterator[DovecotServer]:
    if not os.path.exists(DOVECOT):
        missing_server("dovecot (Debian package dovecot-imapd)")
    with tempfile.TemporaryDirectory(prefix="dovecot-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)  # the mail user must reach its home below
        server = DovecotServer(root, loopback_tls(root) if tls else None)
        pool = [
            MailUser(server, f"u{uuid.uuid4().hex[:10]}", uuid.uuid4().hex) for _ in range(USERS)
        ]
        for user in pool:
            server.add_user(user.name, user.password)
        server.pool = pool
        try:
            server.start()
        except RuntimeError as exc:
            missing_server(str(exc))
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[DovecotServer]:
    """Plaintext Dovecot (no STARTTLS, no implicit TLS), as TESTING.md describes."""
    yield from _start(tls=False)


@pytest.fixture(scope="session")
def dovecot_tls_server() -> Iterator[DovecotServer]:
    """Dovecot offering STARTTLS and implicit TLS with a certificate from a test CA."""
    yield from _start(tls=True)


def new_user(server: DovecotServer) -> MailUser:
    """A user no other test has touched (from the pool written before the server started)."""
    return server.pool.pop()


@pytest.fixture
def dovecot(dovecot_server: DovecotServer) -> MailUser:
    """A fresh user with an empty mailbox on the session's Dovecot."""
    return new_user(dovecot_server)


@pytest.fixture
def imap_proxy(dovecot: MailUser) -> Iterator[ImapProxy]:
    """A command-counting proxy in front of the test's Dovecot."""
    proxy = ImapProxy(dovecot.port)
    try:
        yield proxy
    finally:
        proxy.close()
