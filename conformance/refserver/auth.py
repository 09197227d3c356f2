"""Authentication: who is calling, from the ``Authorization`` header.

``Basic base64("<api_key>:")`` (the password is ignored) or ``Bearer <oauth_token>``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from conformance.refserver.faults import NO_FAULTS, Faults
from conformance.refserver.seed import OrgCredentials

__all__ = ["authenticate"]


def authenticate(
    header: str | None, orgs: Sequence[OrgCredentials], faults: Faults = NO_FAULTS
) -> OrgCredentials | None:
    """Return the organisation whose credentials ``header`` carries, or ``None`` when the
    header is missing, malformed or names no known key or token. Never raises."""
    if not header:
        return orgs[0] if "missing-credentials-accepted" in faults else None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        api_key = decoded.partition(":")[0]
        fallback = orgs[0] if "wrong-key-accepted" in faults else None
        return next((org for org in orgs if api_key and org.api_key == api_key), fallback)
    if scheme.lower() == "bearer" and "bearer-refused" in faults:
        return None
    if scheme.lower() == "bearer":
        return next((org for org in orgs if value and org.oauth_token == value), None)
    return None
