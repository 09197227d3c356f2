"""Checks, one module per area of the docs; importing this package registers them all.

The order is the order checks run in, and so which rule a step names first when it breaks
several: whether the request was accepted, then the status the clock allows, then what
reads back, then the protocol details.
"""

from __future__ import annotations

from conformance.rules import (  # noqa: F401  (isort: skip - the order matters)
    outcomes,
    sending,
    objects,
    lists,
    list_observations,
    protocol,
    auth,
    ratelimit,
    schema,
    consistency,
)
