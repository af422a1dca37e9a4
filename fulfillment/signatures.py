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

from fulfillment.errors import InvalidSignature

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the format prefix, not a secret
HEADER_ID: Final = "webhook-id"
HEADER_TIMESTAMP: Final = "webhook-timestamp"
HEADER_SIGNATURE: Final = "webhook-signature"
SIGNATURE_HEADERS: Final = (HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE)
# The Standard Webhooks specification asks for secrets of 24 to 64 random bytes.
MIN_SECRET_BYTES: Final = 24
MAX_SIGNATURES: Final = 8
_MESSAGE_ID: Final = re.compile(r"[\x21-\x7e]{1,256}")
_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}")
_VERSION: Final = re.compile(r"v[0-9]{1,3}")


def split_secrets(value: str) -> list[str]:
    """`"whsec_a whsec_b"` or `"whsec_a,whsec_b"` -> `["whsec_a", "whsec_b"]`; the first signs."""
    return [part for part in re.split(r"[\s,]+", value.strip()) if part]


def check_secret(secret: str) -> None:
    """Raises ValueError unless `secret` is `whsec_` and base64 of at least MIN_SECRET_BYTES bytes."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret must start with {SECRET_PREFIX}")
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # Padding is optional in the wild; strict decoding refuses anything that is not base64.
        key = binascii.a2b_base64((encoded + "=" * (-len(encoded) % 4)).encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("a webhook secret must be base64 after the whsec_ prefix") from exc
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"a webhook secret must hold at least {MIN_SECRET_BYTES} bytes (it has {len(key)})")


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
    _check_header_syntax(wanted)
    reason = "no matching signature"
    for secret in secrets:
        try:
            _webhook(secret).verify(body, wanted, json_parse=False)
        except WebhookVerificationError as exc:
            reason = str(exc)
        # The headers are well-formed here, so what is left is a body that is not UTF-8.
        except (ValueError, binascii.Error) as exc:
            raise InvalidSignature(f"malformed signature headers or body: {type(exc).__name__}") from exc
        else:
            return
    raise InvalidSignature(reason)


def _check_header_syntax(headers: Mapping[str, str]) -> None:
    """The library parses leniently (int() takes "+1" and " 1", b64decode skips stray characters); the
    headers are held to their exact syntax first, so only what the specification allows is verified."""
    if not all(headers.get(name) for name in SIGNATURE_HEADERS):
        raise InvalidSignature("missing required headers")
    if not _MESSAGE_ID.fullmatch(headers[HEADER_ID]):
        raise InvalidSignature("webhook-id must be 1 to 256 visible ASCII characters")
    if not _TIMESTAMP.fullmatch(headers[HEADER_TIMESTAMP]):
        raise InvalidSignature("webhook-timestamp must be Unix seconds, digits only")
    entries = headers[HEADER_SIGNATURE].split(" ")
    if len(entries) > MAX_SIGNATURES or not all(_is_signature(entry) for entry in entries):
        raise InvalidSignature("webhook-signature must be space-separated version,base64 entries")


def _is_signature(entry: str) -> bool:
    version, _, encoded = entry.partition(",")
    if not _VERSION.fullmatch(version) or not encoded:
        return False
    try:
        # Strict: only the alphabet, and padding only where it belongs.
        binascii.a2b_base64(encoded.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        return False
    return True


@functools.lru_cache(maxsize=16)
def _webhook(secret: str) -> Webhook:
    return Webhook(secret)
