from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fulfillment.signatures import InvalidSignature, check_secret, sign_headers, split_secrets, verify

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


@pytest.mark.parametrize("bad", ["plain", "whsec_", "whsec_!!!!"])
def test_check_secret_refuses_unusable_secrets(bad: str) -> None:
    with pytest.raises(ValueError, match="webhook secret"):
        check_secret(bad)
