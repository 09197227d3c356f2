"""The one place that decides what of a recording a report may show.

Two nets, each catching what the other cannot:

- by name: :func:`safe_headers` drops credential-bearing headers (``Authorization``,
  ``Cookie``, ...), whatever their value, so a recording made some other way can never put
  a key into a report file;
- by value: :func:`scrub_text` replaces every form of every secret of the run (plain,
  base64, URL-encoded, escaped) and any URL userinfo in a writer's final text, wherever the
  target echoed it (an error body, ``Location``, ``Link``, ``WWW-Authenticate``). Every
  writer calls it last, on the whole text it is about to write.

``secrets`` is a :class:`~conformance.redaction.Redactor`, the secret values themselves,
or ``None`` (then only URL userinfo is dropped).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from conformance.redaction import Redactor, redactor_for

__all__ = ["SENSITIVE_HEADERS", "Secrets", "safe_headers", "scrub_text"]

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

#: What a writer accepts as ``secrets``.
Secrets = Redactor | Iterable[str | None] | None


def safe_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Return a copy of ``headers`` without any credential-bearing header.

    Names are compared case-insensitively; the order and spelling of the others is kept.
    """
    if not headers:
        return {}
    return {name: value for name, value in headers.items() if name.lower() not in SENSITIVE_HEADERS}


def scrub_text(text: str, secrets: Secrets) -> str:
    """``text`` with every form of every secret, and any URL userinfo, replaced by
    ``[redacted]``: the last thing each writer does to what it writes."""
    return redactor_for(secrets).scrub(text)
