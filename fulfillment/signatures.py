"""Standard Webhooks signing and verification (https://www.standardwebhooks.com/).

Headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`
over `id.timestamp.body`). The tolerance of 5 minutes is the library's. Several secrets are accepted so a
secret can be rotated without downtime: add the new one, move the senders over, then drop the old one.
"""

from __future__ import annotations

import binascii
import functools
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the format prefix, not a secret
HEADER_ID: Final = "webhook-id"
HEADER_TIMESTAMP: Final = "webhook-timestamp"
HEADER_SIGNATURE: Final = "webhook-signature"
SIGNATURE_HEADERS: Final = (HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE)


class InvalidSignature(Exception):
    """The request is not signed by any accepted secret, or its timestamp is outside the tolerance."""


def split_secrets(value: str) -> list[str]:
    """`"whsec_a whsec_b"` or `"whsec_a,whsec_b"` -> `["whsec_a", "whsec_b"]`; the first signs."""
    return [part for part in re.split(r"[\s,]+", value.strip()) if part]


def check_secret(secret: str) -> None:
    """Raises ValueError unless `secret` is a usable `whsec_` secret (base64 after the prefix)."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret must start with {SECRET_PREFIX}")
    try:
        _webhook(secret)
    except (binascii.Error, ValueError, RuntimeError) as exc:
        raise ValueError("a webhook secret must be base64 after the whsec_ prefix") from exc
    except Exception as exc:  # EmptyWebhookSecretError
        raise ValueError("a webhook secret must not be empty") from exc


def sign_headers(
    secret: str, body: bytes, msg_id: str | None = None, *, timestamp: datetime | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers for `body` (a fresh `msg_...` id unless one is given)."""
    message_id = msg_id or f"msg_{uuid.uuid4().hex}"
    signed_at = (timestamp or datetime.now(UTC)).astimezone(UTC)
    signature = _webhook(secret).sign(msg_id=message_id, timestamp=signed_at, data=body.decode("utf-8"))
    return {
        HEADER_ID: message_id,
        HEADER_TIMESTAMP: str(int(signed_at.timestamp())),
        HEADER_SIGNATURE: signature,
    }


def verify(secrets: Sequence[str], headers: Mapping[str, str], body: bytes) -> None:
    """Accepts `body` when any of `secrets` signed it within the tolerance, else raises InvalidSignature."""
    if not secrets:
        raise InvalidSignature("no secret configured")
    wanted = {name.lower(): value for name, value in headers.items() if name.lower() in SIGNATURE_HEADERS}
    reason = "no matching signature"
    for secret in secrets:
        try:
            _webhook(secret).verify(body, wanted, json_parse=False)
        except WebhookVerificationError as exc:
            reason = str(exc)
        # Malformed signature lists, bad base64 or a body that is not UTF-8 make the library raise
        # plain errors; to the caller they are all just an invalid signature.
        except (ValueError, binascii.Error) as exc:
            raise InvalidSignature(f"malformed signature headers or body: {type(exc).__name__}") from exc
        else:
            return
    raise InvalidSignature(reason)


@functools.lru_cache(maxsize=16)
def _webhook(secret: str) -> Webhook:
    return Webhook(secret)
