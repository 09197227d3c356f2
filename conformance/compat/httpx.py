"""httpx's insides the suite relies on: a client's transport; and the Basic
``Authorization`` header, built per RFC 7617 (see :mod:`conformance.compat`).
"""

from __future__ import annotations

import base64
from typing import Any

from conformance.compat._upstream import _changed

# -- httpx -------------------------------------------------------------------------------------


def transport_of(client: Any) -> Any:
    """The transport an ``httpx.Client`` sends through (``client._transport``; httpx has no
    public accessor). Returns None for an object that is not an ``httpx.Client``, such as a
    test's stand-in. Raises :class:`UpstreamChanged` if an ``httpx.Client`` no longer has
    that attribute."""
    try:
        return client._transport
    except AttributeError:
        import httpx

        if isinstance(client, httpx.Client):
            raise _changed(
                "httpx", "an httpx.Client no longer has _transport (the transport it sends with)"
            ) from None
        return None


def basic_authorization(username: str, password: str = "") -> str:
    """The ``Authorization`` header value for HTTP Basic auth: ``"Basic "`` followed by the
    base64 of ``username:password`` in UTF-8 (RFC 7617 section 2, with the UTF-8 charset of
    section 2.1). httpx builds its header the same way, and the canary checks that the two
    agree."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"
