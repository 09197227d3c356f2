"""Credentials scrubbed by value, from whatever carries them.

Redacting by header name is not enough: a target can echo the key in an error body, a
``Location``, ``Link`` or ``WWW-Authenticate`` header, plain, as the base64 of ``key:`` or
URL-encoded. :class:`Redactor` knows every form of every secret of a run and replaces each
with ``[redacted]`` in a string, or in every string inside a record (dataclasses, dicts,
lists, tuples), keys included. It also drops the userinfo of any URL (``https://KEY@host``).

Forms covered, for each secret: plain; percent-encoded (once and twice, ``quote`` and
``quote_plus``); base64 (standard and URL-safe, padded or not) of ``secret``, ``secret:`` and
``:secret``, and the part of the base64 that only the secret decides at each of the three
alignments (so a key inside a longer base64 text is found too); and escaped as JSON, HTML,
XML, a Python literal or a shell word (the report files' own spellings).

Build one with :meth:`Redactor.from_credentials` (the run's API key, OAuth token and second
key; the suite's made-up wrong key is no secret) or :func:`redactor_for` (a Redactor, some
secrets, or ``None``).
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re
import shlex
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape as xml_escape

__all__ = ["CREDENTIAL_FIELDS", "MAX_DEPTH", "REDACTED", "TOO_DEEP", "Redactor", "redactor_for"]

REDACTED = "[redacted]"
#: What stands in for a value nested deeper than :data:`MAX_DEPTH` in a record.
TOO_DEEP = "[nested too deep to show]"
MAX_DEPTH = 64
MIN_SECRET_LENGTH = 4  # shorter values would scrub ordinary text; no real key is that short
MIN_CORE_LENGTH = 8  # a base64 fragment shorter than this could match by chance
#: The attributes of :class:`conformance.client.Credentials` that hold a secret.
CREDENTIAL_FIELDS = ("api_key", "oauth_token", "second_api_key")
# The userinfo of a URL: scheme://user:password@host -> scheme://[redacted]@host
_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<userinfo>[^/?#@\s\"'<>]+)@", re.I)
T = TypeVar("T")


def _base64_forms(raw: bytes) -> set[str]:
    forms = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(raw).decode()
        forms |= {encoded, encoded.rstrip("=")}
    return forms


def _base64_cores(raw: bytes) -> set[str]:
    """The base64 characters that only ``raw`` decides, at each of the three byte offsets
    it can start at inside a longer text."""
    cores = set()
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + raw).decode()
            first_group = -(-offset // 3)  # the first 3-byte group that is all secret
            last_group = (offset + len(raw)) // 3
            core = encoded[4 * first_group : 4 * last_group]
            if len(core) >= MIN_CORE_LENGTH:
                cores.add(core)
    return cores


def _escaped_forms(secret: str) -> set[str]:
    """``secret`` as the report formats spell it inside their own syntax."""
    return {
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
        html.escape(secret).replace("&#x27;", "&#39;").replace("&quot;", "&#34;"),
        xml_escape(secret, {'"': "&quot;", "\n": "&#10;"}),
        repr(secret)[1:-1],
        shlex.quote(secret).strip("'"),
    }


def _forms(secret: str) -> set[str]:
    """Every spelling of ``secret`` a server, a library or a report might produce."""
    encoded_once = {quote(secret, safe=""), quote_plus(secret), quote(secret)}
    forms = {secret, *encoded_once, *(quote(form, safe="") for form in encoded_once)}
    raw = secret.encode()
    for text in (raw + b":", raw, b":" + raw):
        forms |= _base64_forms(text)
    forms |= _base64_cores(raw)
    forms |= _escaped_forms(secret)
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Redactor:
    """Replace every form of the given secrets with ``[redacted]``; an empty Redactor
    (no secret) still drops URL userinfo and bounds the depth of what it copies."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                forms |= _forms(secret)
        # Longest first, so that a form containing another is replaced whole.
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        self._pattern = (
            re.compile("|".join(re.escape(form) for form in ordered), re.IGNORECASE)
            if ordered
            else None
        )

    @classmethod
    def from_credentials(cls, credentials: object) -> Redactor:
        """A Redactor for a :class:`~conformance.client.Credentials` (or anything with the
        same attributes): its API key, OAuth token and second organisation's key."""
        return cls(getattr(credentials, name, None) for name in CREDENTIAL_FIELDS)

    def __bool__(self) -> bool:
        """True when the Redactor knows at least one secret."""
        return self._pattern is not None

    def __repr__(self) -> str:
        return f"Redactor(secrets={'some' if self else 'none'})"

    def scrub(self, text: str) -> str:
        """``text`` with every form of every secret, and any URL userinfo, replaced."""
        if not text:
            return text
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        if "@" in text:
            text = _USERINFO.sub(lambda m: m.group("scheme") + REDACTED + "@", text)
        return text

    def scrub_obj(self, value: T) -> T:
        """A copy of ``value`` with every string in it scrubbed (dataclasses rebuilt).

        Containers nested deeper than :data:`MAX_DEPTH` are replaced by :data:`TOO_DEEP`,
        so that no writer meets a structure it cannot render (``json.dumps`` and ``repr``
        recurse)."""
        return self._walk(value, 0)  # type: ignore[no-any-return]

    def _walk(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, bytes):
            return self.scrub(value.decode("utf-8", errors="replace")).encode()
        if value is None or isinstance(value, bool | int | float):
            return value
        if depth >= MAX_DEPTH:
            return TOO_DEEP
        deeper = depth + 1
        if isinstance(value, dict):
            return {self._walk(k, deeper): self._walk(v, deeper) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(item, deeper) for item in value]
        if isinstance(value, tuple):
            return tuple(self._walk(item, deeper) for item in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {
                f.name: self._walk(getattr(value, f.name), deeper)
                for f in dataclasses.fields(value)
                if f.init
            }
            return dataclasses.replace(value, **changes)
        return value


def redactor_for(secrets: Redactor | Iterable[str | None] | None) -> Redactor:
    """``secrets`` as a Redactor: itself, a Redactor of the given values, or an empty one."""
    if isinstance(secrets, Redactor):
        return secrets
    return Redactor(secrets or ())
