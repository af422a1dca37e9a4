from __future__ import annotations

import base64
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from fulfillment.errors import InvalidSignature
from fulfillment.signatures import check_secret, sign_headers, split_secrets, verify

from .helpers import new_webhook_secret

BODY = b'{"type":"order.placed","data":{"id":"order_01"}}'


def test_signed_body_verifies(webhook_secret: str) -> None:
    headers = sign_headers(webhook_secret, BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    verify([webhook_secret], headers, BODY)


def test_header_names_are_case_insensitive(webhook_secret: str) -> None:
    headers = {k.title(): v for k, v in sign_headers(webhook_secret, BODY, "msg_1").items()}
    verify([webhook_secret], headers, BODY)


def test_any_of_several_secrets_is_accepted_during_rotation(webhook_secret: str) -> None:
    old = new_webhook_secret()
    headers = sign_headers(old, BODY)
    verify([webhook_secret, old], headers, BODY)
    with pytest.raises(InvalidSignature):
        verify([webhook_secret], headers, BODY)


def test_changed_body_is_refused(webhook_secret: str) -> None:
    headers = sign_headers(webhook_secret, BODY)
    with pytest.raises(InvalidSignature):
        verify([webhook_secret], headers, BODY.replace(b"order_01", b"order_02"))


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_timestamp_outside_five_minutes_is_refused(webhook_secret: str, skew: timedelta) -> None:
    headers = sign_headers(webhook_secret, BODY, timestamp=datetime.now(UTC) + skew)
    with pytest.raises(InvalidSignature, match="timestamp"):
        verify([webhook_secret], headers, BODY)


def test_timestamp_inside_tolerance_is_accepted(webhook_secret: str) -> None:
    headers = sign_headers(webhook_secret, BODY, timestamp=datetime.now(UTC) - timedelta(minutes=4))
    verify([webhook_secret], headers, BODY)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_refused(webhook_secret: str, missing: str) -> None:
    headers = sign_headers(webhook_secret, BODY)
    del headers[missing]
    with pytest.raises(InvalidSignature):
        verify([webhook_secret], headers, BODY)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("webhook-signature", "garbage"),
        ("webhook-signature", "v1,not*base64"),
        ("webhook-signature", "v1,a,b"),
        ("webhook-timestamp", "soon"),
    ],
)
def test_malformed_headers_are_refused_not_crashing(webhook_secret: str, header: str, value: str) -> None:
    headers = sign_headers(webhook_secret, BODY)
    headers[header] = value
    with pytest.raises(InvalidSignature):
        verify([webhook_secret], headers, BODY)


def test_non_utf8_body_is_refused(webhook_secret: str) -> None:
    headers = sign_headers(webhook_secret, BODY)
    with pytest.raises(InvalidSignature):
        verify([webhook_secret], headers, b"\xff\xfe")


def test_no_secret_refuses_everything(webhook_secret: str) -> None:
    with pytest.raises(InvalidSignature):
        verify([], sign_headers(webhook_secret, BODY), BODY)


def test_split_secrets_accepts_spaces_and_commas() -> None:
    assert split_secrets(" whsec_a, whsec_b whsec_c ,") == ["whsec_a", "whsec_b", "whsec_c"]


@pytest.mark.parametrize(
    "lenient",
    [
        lambda headers: {**headers, "webhook-timestamp": "+" + headers["webhook-timestamp"]},
        lambda headers: {**headers, "webhook-timestamp": " " + headers["webhook-timestamp"]},
        lambda headers: {**headers, "webhook-timestamp": headers["webhook-timestamp"] + ".5"},
        lambda headers: {
            **headers,
            "webhook-timestamp": headers["webhook-timestamp"][:4] + "_" + headers["webhook-timestamp"][4:],
        },
        lambda headers: {
            **headers,
            "webhook-signature": headers["webhook-signature"][:8] + "!" + headers["webhook-signature"][8:],
        },
        lambda headers: {**headers, "webhook-signature": headers["webhook-signature"] + "\n"},
        lambda headers: {**headers, "webhook-signature": headers["webhook-signature"] + "="},
        lambda headers: {**headers, "webhook-signature": headers["webhook-signature"] + "é"},
        lambda headers: {**headers, "webhook-signature": "v1, " + headers["webhook-signature"][3:]},
        lambda headers: {**headers, "webhook-signature": " ".join([headers["webhook-signature"]] * 9)},
        lambda headers: {**headers, "webhook-id": "msg with spaces"},
        lambda headers: {**headers, "webhook-id": "x" * 257},
    ],
    ids=[
        "plus",
        "space",
        "fraction",
        "underscore",
        "stray-char",
        "newline",
        "extra-padding",
        "non-ascii",
        "space-in-entry",
        "too-many",
        "id-space",
        "id-long",
    ],
)
def test_headers_the_library_would_parse_leniently_are_refused(
    webhook_secret: str, lenient: Callable[[dict[str, str]], dict[str, str]]
) -> None:
    headers = sign_headers(webhook_secret, BODY)
    verify([webhook_secret], headers, BODY)  # the request as signed passes
    with pytest.raises(InvalidSignature):
        verify([webhook_secret], lenient(headers), BODY)


def test_several_signature_entries_are_accepted_when_well_formed(webhook_secret: str) -> None:
    headers = sign_headers(webhook_secret, BODY)
    other = sign_headers(new_webhook_secret(), BODY, headers["webhook-id"])
    headers["webhook-signature"] = f"{other['webhook-signature']} v2,AAAA {headers['webhook-signature']}"
    verify([webhook_secret], headers, BODY)


@pytest.mark.parametrize(
    "bad",
    [
        "plain",
        "whsec_",
        "whsec_!!!!",
        "whsec_AA",
        "whsec_" + base64.b64encode(bytes(23)).decode(),
        "whsec_"
        + base64.b64encode(bytes(24)).decode()[:-4]
        + "*"
        + base64.b64encode(bytes(24)).decode()[-3:],
    ],
)
def test_check_secret_refuses_unusable_secrets(bad: str) -> None:
    with pytest.raises(ValueError, match="webhook secret"):
        check_secret(bad)


@pytest.mark.parametrize("size", [24, 32, 64])
def test_secrets_of_24_bytes_and_more_are_usable_padded_or_not(size: int) -> None:
    encoded = base64.b64encode(os.urandom(size)).decode()
    check_secret("whsec_" + encoded)
    check_secret("whsec_" + encoded.rstrip("="))
