"""The one place that decides which recorded headers a report may show.

The engine already redacts credentials when it records an exchange; the writers drop
credential-bearing headers again, by name, so that a recording made some other way can
never put a key into a report file.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["SENSITIVE_HEADERS", "safe_headers"]

#: Header names (lower case) never rendered in any report, whatever their value.
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        "x-api-key",
        "proxy-authorization",
        "set-cookie",
    }
)


def safe_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Return a copy of ``headers`` without any credential-bearing header.

    Names are compared case-insensitively; the order and spelling of the others is kept.
    """
    if not headers:
        return {}
    return {name: value for name, value in headers.items() if name.lower() not in SENSITIVE_HEADERS}
