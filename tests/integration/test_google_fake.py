"""The real google-api-python-client and google-auth against the loopback Google fake.

These pin the wire behaviour the Gmail connector will rely on: the shipped
discovery documents with ``rootUrl`` moved to the fake (batch included),
token refresh and domain-wide delegation through the fake's token endpoint,
pagination, batch parts that fail on their own, Gmail history (Calendar:
``test_google_calendar_fake``). If the client library changes what it
sends, these fail first.
"""

from __future__ import annotations

import base64
from typing import Any

import httplib2
import pytest
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError

from bench.mailgen import generate_mail
from tests.google_clients import (
    DANA,
    GMAIL_SCOPE,
    calendar,
    gmail,
    service_account_key,
    status_of,
    user_creds,
)
from tests.servers.google_api import GoogleApiFake


def mail(n: int, date: str, subject: str = "Quote", extra: str = "") -> bytes:
    return (
        f"From: Ann Lee <ann@customer.example>\r\nTo: Dana <{DANA}>\r\n"
        f"Subject: {subject}\r\nDate: {date}\r\nMessage-ID: <m{n}@customer.example>\r\n"
        f"{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Message {n}\r\n"
    ).encode()


# ---------------------------------------------------------------- OAuth


def test_refresh_token_gets_an_access_token_and_pages_are_followed(
    google_api: GoogleApiFake,
) -> None:
    box = google_api.user(DANA).mailbox
    ids = [box.add(mail(n, f"Mon, 0{n} Nov 2026 09:00:00 +0000")) for n in range(1, 6)]
    service = gmail(google_api, user_creds(google_api))
    pages = []
    request = service.users().messages().list(userId="me", maxResults=2)
    while request is not None:
        response = request.execute()
        pages.append([m["id"] for m in response.get("messages", [])])
        assert response["resultSizeEstimate"] == 5
        request = service.users().messages().list_next(request, response)
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]  # newest first
    assert google_api.auth.issued == ["refresh_token"]
    listed = google_api.requests("/gmail/v1/users/me/messages$")
    assert len(listed) == 3
    assert all(r.headers["authorization"].startswith("Bearer ya29.fake-") for r in listed)


def test_an_expired_access_token_is_refreshed_after_the_401(google_api: GoogleApiFake) -> None:
    google_api.user(DANA)
    service = gmail(google_api, user_creds(google_api))
    first = service.users().getProfile(userId="me").execute()
    google_api.auth.revoke_access_tokens()
    second = service.users().getProfile(userId="me").execute()
    assert (
        first
        == second
        == {
            "emailAddress": DANA,
            "messagesTotal": 0,
            "threadsTotal": 0,
            "historyId": "4000",
        }
    )
    assert google_api.auth.issued == ["refresh_token", "refresh_token"]
    assert len(google_api.requests("/profile$")) == 3  # the refused one, then the retry


def test_a_revoked_refresh_token_surfaces_as_refresh_error(google_api: GoogleApiFake) -> None:
    google_api.user(DANA)
    creds = user_creds(google_api)
    google_api.auth.revoke(creds.refresh_token)
    with pytest.raises(RefreshError) as caught:
        gmail(google_api, creds).users().getProfile(userId="me").execute()
    assert caught.value.args[0].startswith("invalid_grant: Token has been expired or revoked.")
    assert google_api.requests("/gmail/") == []  # nothing reached the API


def test_missing_or_unknown_bearer_is_401_with_the_api_error(google_api: GoogleApiFake) -> None:
    service = build_from_document(google_api.document("gmail"), http=httplib2.Http())
    request = service.users().labels().list(userId="me")
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert status_of(caught) == (401, "required")
    assert caught.value.resp["www-authenticate"].startswith("Bearer")
    request.headers["authorization"] = "Bearer ya29.never-issued"
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert status_of(caught) == (401, "authError")
    assert caught.value.error_details[0]["location"] == "Authorization"


def test_service_account_with_domain_wide_delegation_reads_the_subjects_mailbox(
    google_api: GoogleApiFake,
) -> None:
    google_api.user(DANA).mailbox.add(mail(1, "Mon, 02 Nov 2026 09:00:00 +0000"))
    google_api.user("sam@acme.example").mailbox.add(mail(2, "Mon, 02 Nov 2026 10:00:00 +0000"))
    info = {**service_account_key(google_api, {DANA}), "token_uri": google_api.auth.token_uri}
    # google-auth leaves from_service_account_info unannotated (as user_creds' constructor).
    base = service_account.Credentials.from_service_account_info(info, scopes=[GMAIL_SCOPE])  # type: ignore[no-untyped-call]
    profile = gmail(google_api, base.with_subject(DANA)).users().getProfile(userId="me").execute()
    assert (profile["emailAddress"], profile["messagesTotal"]) == (DANA, 1)
    assert google_api.auth.issued == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    with pytest.raises(RefreshError) as caught:
        gmail(google_api, base.with_subject("sam@acme.example")).users().getProfile(
            userId="me"
        ).execute()
    assert caught.value.args[0].startswith("unauthorized_client:")


def test_an_assertion_signed_with_another_key_is_refused(google_api: GoogleApiFake) -> None:
    info = {**service_account_key(google_api, {DANA}), "token_uri": google_api.auth.token_uri}
    service_account_key(google_api, {DANA})  # the fake now holds a different public key
    creds = service_account.Credentials.from_service_account_info(info, scopes=[GMAIL_SCOPE])  # type: ignore[no-untyped-call]
    with pytest.raises(RefreshError) as caught:
        gmail(google_api, creds.with_subject(DANA)).users().getProfile(userId="me").execute()
    assert caught.value.args[0].startswith("invalid_grant: Invalid JWT Signature.")


# ---------------------------------------------------------------- Gmail reads

INVITE = (
    b"From: Ann Lee <ann@customer.example>\r\nTo: dana@acme.example\r\n"
    b"Subject: =?UTF-8?Q?Kick-off_=E2=80=93_Q1?=\r\nDate: Tue, 03 Nov 2026 08:30:00 +0000\r\n"
    b"Message-ID: <inv1@customer.example>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="mix"\r\n\r\n'
    b'--mix\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n'
    b"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\nSee you =E2=80=93 Ann\r\n"
    b"--alt\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
    b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n--alt--\r\n"
    b"--mix\r\nContent-Type: application/pdf; name=deck.pdf\r\n"
    b"Content-Disposition: attachment; filename=deck.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--mix--\r\n"
)


def test_full_format_is_the_mime_tree_with_data_and_attachment_ids(
    google_api: GoogleApiFake,
) -> None:
    msg_id = google_api.user(DANA).mailbox.add(INVITE, ("INBOX", "UNREAD", "IMPORTANT"))
    service = gmail(google_api, user_creds(google_api))
    got = service.users().messages().get(userId="me", id=msg_id, format="full").execute()
    assert (got["id"], got["threadId"], got["labelIds"]) == (
        msg_id,
        msg_id,
        ["INBOX", "UNREAD", "IMPORTANT"],
    )
    assert got["internalDate"] == "1793694600000"
    assert got["sizeEstimate"] == len(INVITE)
    assert got["snippet"] == "See you – Ann"
    payload = got["payload"]
    assert (payload["partId"], payload["mimeType"], payload["body"]) == (
        "",
        "multipart/mixed",
        {"size": 0},
    )
    assert {"name": "Subject", "value": "Kick-off – Q1"} in payload["headers"]
    alt, pdf = payload["parts"]
    assert [p["partId"] for p in alt["parts"]] == ["0.0", "0.1"]
    text, ics = alt["parts"]
    # The line break before a boundary belongs to the boundary (RFC 2046 5.1.1).
    assert base64.urlsafe_b64decode(text["body"]["data"]) == "See you – Ann".encode()
    assert text["body"]["size"] == len("See you – Ann".encode())
    assert ics["mimeType"] == "text/calendar"
    assert base64.urlsafe_b64decode(ics["body"]["data"]) == b"BEGIN:VCALENDAR\r\nEND:VCALENDAR"
    assert (pdf["partId"], pdf["filename"], pdf["body"]["size"]) == ("1", "deck.pdf", 9)
    assert "data" not in pdf["body"] and pdf["body"]["attachmentId"].startswith("ANGjdJ")


def test_metadata_raw_and_partial_responses(google_api: GoogleApiFake) -> None:
    msg_id = google_api.user(DANA).mailbox.add(INVITE)
    messages = gmail(google_api, user_creds(google_api)).users().messages()
    meta = messages.get(
        userId="me", id=msg_id, format="metadata", metadataHeaders=["From", "message-id"]
    ).execute()
    assert meta["payload"] == {
        "partId": "",
        "mimeType": "multipart/mixed",
        "filename": "",
        "headers": [
            {"name": "From", "value": "Ann Lee <ann@customer.example>"},
            {"name": "Message-ID", "value": "<inv1@customer.example>"},
        ],
    }
    raw = messages.get(userId="me", id=msg_id, format="raw", fields="raw").execute()
    assert raw == {"raw": base64.urlsafe_b64encode(INVITE).decode()}
    cut = messages.get(userId="me", id=msg_id, fields="id,payload(mimeType,parts/partId)").execute()
    assert cut == {
        "id": msg_id,
        "payload": {"mimeType": "multipart/mixed", "parts": [{"partId": "0"}, {"partId": "1"}]},
    }
    with pytest.raises(HttpError) as caught:
        messages.get(userId="me", id=msg_id, fields="id,payload(bogus)").execute()
    assert status_of(caught) == (400, "invalidParameter")
    assert caught.value.reason == "Invalid field selection bogus"


def test_unknown_query_parameters_and_bad_enums_are_400(google_api: GoogleApiFake) -> None:
    msg_id = google_api.user(DANA).mailbox.add(INVITE)
    messages = gmail(google_api, user_creds(google_api)).users().messages()
    request = messages.list(userId="me")
    request.uri += "&since=2026-11-01"
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert status_of(caught) == (400, "badRequest")
    assert 'Unknown name "since": Cannot bind query parameter' in str(caught.value.reason)
    request = messages.get(userId="me", id=msg_id)
    request.uri += "&format=everything"
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert status_of(caught) == (400, "invalidParameter")
    with pytest.raises(HttpError) as caught:
        messages.get(userId="me", id="18c2a0000000ffff").execute()
    assert status_of(caught) == (404, "notFound")


def test_search_by_time_label_and_spam(google_api: GoogleApiFake) -> None:
    box = google_api.user(DANA).mailbox
    old = box.add(mail(1, "Sat, 31 Oct 2026 23:30:00 -0700"))  # 1 Nov 06:30 UTC
    new = box.add(mail(2, "Sun, 01 Nov 2026 08:00:00 +0000"), ("SENT",))
    spam = box.add(mail(3, "Mon, 02 Nov 2026 08:00:00 +0000"), ("SPAM",))
    messages = gmail(google_api, user_creds(google_api)).users().messages()

    def ids(**query: Any) -> list[str]:
        return [m["id"] for m in messages.list(userId="me", **query).execute().get("messages", [])]

    # Dates are midnight US Pacific: 1 Nov 2026 00:00 PDT is 07:00 UTC.
    assert ids(q="after:2026/11/01") == [new]
    assert ids(q="before:2026/11/01") == [old]
    assert ids(q="after:1793520000") == [new]  # epoch seconds: new's own time, inclusive
    assert ids(q="before:1793520000") == [old]
    assert ids(q="in:sent") == [new]
    assert ids(labelIds=["INBOX"]) == [old]
    assert ids() == [new, old]
    assert ids(includeSpamTrash=True) == [spam, new, old]
    assert ids(q="after:2030/01/01") == []
    with pytest.raises(HttpError):
        ids(q="from:ann")  # the fake refuses search it does not implement


def test_generated_mailbox_feeds_the_fake(google_api: GoogleApiFake) -> None:
    box = google_api.user(DANA).mailbox
    generated = list(generate_mail(30, seed=3))
    for item in generated:
        box.add(item.raw, ("SENT",) if item.folder == "Sent" else ("INBOX",))
    messages = gmail(google_api, user_creds(google_api)).users().messages()
    sent = messages.list(userId="me", labelIds=["SENT"], maxResults=500).execute()
    assert len(sent.get("messages", [])) == sum(1 for g in generated if g.folder == "Sent")
    assert messages.list(userId="me").execute()["resultSizeEstimate"] == 30


# ---------------------------------------------------------------- batch


def test_batch_answers_each_part_on_its_own(google_api: GoogleApiFake) -> None:
    box = google_api.user(DANA).mailbox
    ids = [box.add(mail(n, f"Mon, 0{n} Nov 2026 09:00:00 +0000")) for n in range(1, 4)]
    service = gmail(google_api, user_creds(google_api))
    service.users().getProfile(userId="me").execute()  # the token is fetched outside the batch
    google_api.faults.add("429", path=ids[1], in_batch=True, retry_after=7)
    answers: dict[str, Any] = {}
    batch = service.new_batch_http_request(
        callback=lambda rid, resp, exc: answers.__setitem__(rid, (resp, exc))
    )
    for msg_id in ids:
        batch.add(service.users().messages().get(userId="me", id=msg_id, format="minimal"))
    batch.execute()
    assert answers["1"][0]["id"] == ids[0] and answers["3"][0]["id"] == ids[2]
    assert answers["1"][1] is None and answers["3"][1] is None
    response, error = answers["2"]
    assert response is None and isinstance(error, HttpError)
    assert (error.resp.status, error.resp["retry-after"]) == (429, "7")
    assert error.error_details[0]["reason"] == "rateLimitExceeded"
    assert [r.path for r in google_api.requests("^/batch")] == ["/batch"]
    assert len(google_api.requests("/messages/", in_batch=True)) == 3


def test_a_part_with_a_stale_token_is_refreshed_and_resent(google_api: GoogleApiFake) -> None:
    msg_id = google_api.user(DANA).mailbox.add(INVITE)
    service = gmail(google_api, user_creds(google_api))
    service.users().getProfile(userId="me").execute()
    google_api.auth.revoke_access_tokens()
    got: list[Any] = []
    batch = service.new_batch_http_request(callback=lambda rid, resp, exc: got.append((resp, exc)))
    batch.add(service.users().messages().get(userId="me", id=msg_id, format="minimal"))
    batch.execute()
    assert got[0][1] is None and got[0][0]["id"] == msg_id
    assert len(google_api.requests("^/batch$")) == 2  # the 401 part went again, alone
    assert google_api.auth.issued == ["refresh_token", "refresh_token"]


def test_more_than_100_parts_is_refused_whole(google_api: GoogleApiFake) -> None:
    msg_id = google_api.user(DANA).mailbox.add(INVITE)
    service = gmail(google_api, user_creds(google_api))
    batch = service.new_batch_http_request()
    for _ in range(101):
        batch.add(service.users().messages().get(userId="me", id=msg_id, format="minimal"))
    with pytest.raises(HttpError) as caught:
        batch.execute()
    assert caught.value.resp.status == 400
    assert google_api.requests("/messages/", in_batch=True) == []


def test_calendar_batches_go_to_their_own_batch_path(google_api: GoogleApiFake) -> None:
    google_api.user(DANA)
    service = calendar(google_api, user_creds(google_api))
    got: list[Any] = []
    batch = service.new_batch_http_request(callback=lambda rid, resp, exc: got.append(resp))
    batch.add(service.calendarList().list())
    batch.execute()
    assert [c["id"] for c in got[0]["items"]] == [DANA]
    assert [r.path for r in google_api.requests("^/batch")] == ["/batch/calendar/v3"]


# ---------------------------------------------------------------- faults


def test_server_errors_and_a_dropped_connection(google_api: GoogleApiFake) -> None:
    google_api.user(DANA)
    profile = gmail(google_api, user_creds(google_api)).users().getProfile(userId="me")
    google_api.faults.add("403", path="/profile$")
    with pytest.raises(HttpError) as caught:
        profile.execute()
    assert status_of(caught) == (403, "rateLimitExceeded")
    google_api.faults.add("500", path="/profile$")
    with pytest.raises(HttpError) as caught:
        profile.execute()
    assert status_of(caught) == (500, "backendError")
    assert profile.execute()["emailAddress"] == DANA  # the fault was for one request
    before = len(google_api.requests("/profile$"))
    google_api.faults.add("drop", count=2, path="/profile$")
    with pytest.raises(Exception) as dropped:
        profile.execute()
    assert not isinstance(dropped.value, HttpError)  # a transport error, no HTTP answer
    # httplib2 sends a request twice before it gives up on a dropped connection.
    assert len(google_api.requests("/profile$")) == before + 2
    assert google_api.faults.pending == []


# ---------------------------------------------------------------- history


def test_history_reports_adds_and_deletes_after_a_history_id(google_api: GoogleApiFake) -> None:
    box = google_api.user(DANA).mailbox
    kept = box.add(mail(1, "Mon, 02 Nov 2026 09:00:00 +0000"))
    history = gmail(google_api, user_creds(google_api)).users().history()
    start = gmail(google_api, user_creds(google_api)).users().getProfile(userId="me").execute()
    gone = box.add(mail(2, "Mon, 02 Nov 2026 10:00:00 +0000"))
    added = box.add(
        mail(3, "Mon, 02 Nov 2026 11:00:00 +0000", extra="In-Reply-To: <m1@customer.example>\r\n")
    )
    box.delete(gone)
    box.relabel(kept, add=("STARRED",))
    response = history.list(
        userId="me",
        startHistoryId=start["historyId"],
        historyTypes=["messageAdded", "messageDeleted"],
    ).execute()
    records = response["history"]
    assert [list(r)[-1] for r in records] == ["messagesAdded", "messagesAdded", "messagesDeleted"]
    assert [r["messages"][0]["id"] for r in records] == [gone, added, gone]
    assert records[1]["messagesAdded"][0]["message"]["threadId"] == kept  # In-Reply-To threads it
    ids = [int(r["id"]) for r in records]
    assert ids == sorted(ids) and int(start["historyId"]) < ids[0]
    assert response["historyId"] == str(box.history_id) and int(response["historyId"]) > ids[-1]
    everything = history.list(
        userId="me", startHistoryId=start["historyId"], maxResults=2
    ).execute()
    assert len(everything["history"]) == 2 and "nextPageToken" in everything
    rest = history.list(
        userId="me", startHistoryId=start["historyId"], pageToken=everything["nextPageToken"]
    ).execute()
    assert [list(r)[-1] for r in rest["history"]] == ["messagesDeleted", "labelsAdded"]
    assert rest["history"][1]["labelsAdded"][0]["labelIds"] == ["STARRED"]
    latest = history.list(userId="me", startHistoryId=response["historyId"]).execute()
    assert latest == {"historyId": response["historyId"]}
    box.expire_history()
    with pytest.raises(HttpError) as caught:
        history.list(userId="me", startHistoryId=start["historyId"]).execute()
    assert status_of(caught) == (404, "notFound")
