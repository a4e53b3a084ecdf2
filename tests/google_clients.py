"""The real Google client objects, pointed at the loopback fake (``tests.servers.google_api``)."""

from __future__ import annotations

from typing import Any

import pytest
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
