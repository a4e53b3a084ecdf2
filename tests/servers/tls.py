"""Loopback TLS for test servers: a throwaway CA (trustme) and a certificate it signed.

Clients under test trust ``TlsFiles.ca`` and nothing else, as a company
that runs its own CA would configure them; the certificate names both
127.0.0.1 and localhost.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # what a client must trust
    cert: Path  # the server's chain, leaf first
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def loopback_tls(root: Path) -> TlsFiles:
    """A new CA and a server certificate for 127.0.0.1, written as PEM files under ``root``."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_pem, cert_pem, key_pem = root / "ca.pem", root / "cert.pem", root / "key.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    cert.cert_chain_pems[0].write_to_path(str(cert_pem))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_pem), append=True)
    cert.private_key_pem.write_to_path(str(key_pem))
    return TlsFiles(ca_pem, cert_pem, key_pem)
