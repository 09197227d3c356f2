"""Object ids in Close's style: a type prefix and 43 alphanumeric characters."""

from __future__ import annotations

import random
import secrets
import string
import threading

__all__ = ["IdMaker"]

_ALPHABET = string.ascii_letters + string.digits


class IdMaker:
    """Make ids: ``make("acti")`` gives ``acti_`` and 43 alphanumerics.

    Unpredictable by default (``secrets``); with a ``seed``, the same sequence every time,
    so an in-process run of the suite is the same run for the same seed (lists order ties
    by id, so random ids would steer the run differently each time)."""

    def __init__(self, seed: int | None = None) -> None:
        self._random: random.Random = (
            random.Random(seed) if seed is not None else secrets.SystemRandom()
        )
        self._lock = threading.Lock()

    def __call__(self, prefix: str) -> str:
        with self._lock:
            return prefix + "_" + "".join(self._random.choices(_ALPHABET, k=43))
