"""The real Google client objects, pointed at the loopback fake (``tests.servers.google_api``)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.oauth2 import credentials as user_credentials
from googleapiclient.discovery import Resource, build_from_document
from googleapiclient.errors import HttpError

from tests.servers.google_api import GoogleApiFake

DANA = "dana@acme.example"
GMAIL_SCOPE = "https://www.googleapis.com/auth/gmail.readonly"
CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
CLIENT_ID = "client-1.apps.googleusercontent.com"


def user_creds(fake: GoogleApiFake, user: str = DANA) -> user_credentials.Credentials:
    """An installed-app credential: no access token yet, a refresh token the fake issued."""
    fake.auth.add_client(CLIENT_ID, "s3cret")
    refresh = fake.auth.add_refresh_token(user, (GMAIL_SCOPE, CALENDAR_SCOPE))
    return user_credentials.Credentials(  # type: ignore[no-untyped-call]
        None,
        refresh_token=refresh,
        token_uri=fake.auth.token_uri,
        client_id=CLIENT_ID,
        client_secret="s3cret",
    )


def gmail(fake: GoogleApiFake, creds: Any) -> Resource:
    return build_from_document(fake.document("gmail"), credentials=creds)


def calendar(fake: GoogleApiFake, creds: Any) -> Resource:
    return build_from_document(fake.document("calendar"), credentials=creds)


def status_of(exc: pytest.ExceptionInfo[HttpError]) -> tuple[int, str]:
    """(HTTP status, first error reason) of a refused call."""
    return exc.value.resp.status, exc.value.error_details[0]["reason"]


SERVICE_ACCOUNT = "capture@acme-prod.iam.gserviceaccount.com"


def service_account_key(
    fake: GoogleApiFake,
    delegated: set[str],
    scopes: tuple[str, ...] = (GMAIL_SCOPE, CALENDAR_SCOPE),
) -> dict[str, Any]:
    """A new key of the service account, as the JSON key file Google hands out; the fake
    trusts only its public half, for ``delegated`` users and ``scopes``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    fake.auth.add_service_account(SERVICE_ACCOUNT, public, delegated, scopes)
    return {
        "type": "service_account",
        "project_id": "acme-prod",
        "private_key_id": "5c0ff1e2a3b4c5d6e7f8091a2b3c4d5e6f708192",
        "private_key": private,
        "client_email": SERVICE_ACCOUNT,
        "client_id": "104857600000000000001",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
