"""A byte-forwarding TCP proxy between an IMAP client and server, for tests and benchmarks.

It counts the commands clients send (so "an idle poll sends no FETCH" is
observed on the wire, not by patching the connector) and can cut the
connection after N bytes of a FETCH response: a dropped connection in the
middle of a FETCH, as a NAT timeout or a server restart causes in life.
Loopback only.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class ImapProxy:
    """TCP proxy to an IMAP server that counts commands and can drop a FETCH.

    ``cut_fetch_after(n, skip)`` arms it: at the next FETCH after ``skip``
    more, the connection is closed after ``n`` bytes of the server's reply.
    It fires once.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.commands: list[str] = []
        self.fetched: list[str] = []  # the UID set and items of each UID FETCH, in order
        self.cuts = 0
        self._cut_after: int | None = None
        self._skip = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._closed = False
        self._sessions: list[_ProxySession] = []
        self.stalled = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        """From now on swallow everything the server sends: a hung server or a dead route."""
        self.stalled.set()

    def drop_connections(self) -> None:
        """Close every open connection, as a server's idle timeout or a NAT does."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.shutdown()

    def cut_fetch_after(self, n: int, skip: int = 0) -> None:
        """Cut the connection after ``n`` bytes of the reply to the next FETCH
        but ``skip`` (the FETCHes before it pass untouched)."""
        with self._lock:
            self._cut_after = n
            self._skip = skip

    def reset_counts(self) -> None:
        with self._lock:
            self.commands.clear()
            self.fetched.clear()

    def header_fetches(self) -> list[list[int]]:
        """The UIDs of each UID FETCH of BODYSTRUCTURE: one per batch chunk a
        connector captures, so a UID listed twice was fetched twice."""
        with self._lock:
            fetched = list(self.fetched)
        return [uids_of(line.split()[0]) for line in fetched if "BODYSTRUCTURE" in line.upper()]

    def command_names(self) -> list[str]:
        with self._lock:
            return list(self.commands)

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            session = _ProxySession(self, client, upstream)
            with self._lock:
                self._sessions.append(session)
            threading.Thread(target=session.client_to_server, daemon=True).start()
            threading.Thread(target=session.server_to_client, daemon=True).start()

    def _record(self, line: bytes) -> bool:
        """Record one command line; True if it is a FETCH and a cut is armed."""
        words = line.split()
        if len(words) < 2:
            return False
        name = words[1].decode("ascii", "replace").upper()
        if name == "UID" and len(words) > 2:
            name = "UID " + words[2].decode("ascii", "replace").upper()
        with self._lock:
            self.commands.append(name)
            if name == "UID FETCH":  # no credential is ever on this line
                self.fetched.append(b" ".join(words[3:]).decode("ascii", "replace"))
            if not name.endswith("FETCH") or self._cut_after is None:
                return False
            self._skip -= 1
            return self._skip < 0

    def _take_cut(self) -> int | None:
        with self._lock:
            n, self._cut_after = self._cut_after, None
            if n is not None:
                self.cuts += 1
            return n


def uids_of(uid_set: str) -> list[int]:
    """``1:3,7`` -> [1, 2, 3, 7] (RFC 3501 sequence-set, without ``*``)."""
    uids: list[int] = []
    for part in uid_set.split(","):
        first, _, last = part.partition(":")
        uids.extend(range(int(first), int(last or first) + 1))
    return uids


class _ProxySession:
    def __init__(self, proxy: ImapProxy, client: socket.socket, upstream: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.budget: int | None = None  # bytes of server reply left before the cut
        self.armed = threading.Event()

    def client_to_server(self) -> None:
        pending = b""
        try:
            while data := self.client.recv(65536):
                pending += data
                # Command lines only: literals (APPEND bodies) may follow a
                # "{n}" line, but the connector under test never sends any.
                while b"\r\n" in pending:
                    line, pending = pending.split(b"\r\n", 1)
                    if self.proxy._record(line[:200]):
                        self.budget = self.proxy._take_cut()
                pending = pending[-4096:]
                self.upstream.sendall(data)
        except OSError:
            pass
        finally:
            self.shutdown()

    def server_to_client(self) -> None:
        try:
            while data := self.upstream.recv(65536):
                if self.proxy.stalled.is_set():
                    continue
                if self.budget is not None:
                    self.client.sendall(data[: self.budget])
                    self.budget -= len(data)
                    if self.budget <= 0:
                        break
                    continue
                self.client.sendall(data)
        except OSError:
            pass
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
