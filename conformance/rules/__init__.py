"""Checks, one module per area of the docs; importing this package registers them all.

The order checks run in, and so which rule a step names first when it breaks several, is
catalogue data (``check_order`` in ``catalogue.toml``), not this import order.
"""

from __future__ import annotations

from conformance.rules import (  # noqa: F401
    auth,
    consistency,
    list_observations,
    lists,
    objects,
    outcomes,
    protocol,
    ratelimit,
    schema,
    sending,
)
