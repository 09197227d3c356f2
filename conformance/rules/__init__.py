"""Checks, one module per area of the docs; importing this package registers them all."""

from __future__ import annotations

from conformance.rules import (  # noqa: F401
    auth,
    lists,
    objects,
    outcomes,
    protocol,
    ratelimit,
    schema,
    sending,
)
