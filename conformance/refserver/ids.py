"""Random object ids in Close's style: a type prefix and 43 alphanumeric characters."""

from __future__ import annotations

import secrets
import string

__all__ = ["new_id"]

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """Return ``prefix + "_" + 43 random alphanumerics``, e.g. ``acti_…``."""
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(43))
