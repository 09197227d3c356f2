"""Object ids in Close's style: a type prefix and 43 alphanumeric characters."""

from __future__ import annotations

import random
import secrets
import string
import threading

__all__ = ["IdMaker"]

_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase  # in ASCII order
_COUNTER_WIDTH = 8  # 62**8 ids before the order wraps


class IdMaker:
    """Make ids: ``make("acti")`` gives ``acti_`` and 43 alphanumerics.

    Each id sorts after the ones made before it (its first characters count up), so a
    list, which orders SMS created in the same instant by id, shows them in the same order
    whenever the same requests are replayed: Hypothesis needs a replay to meet the answers
    the first run met. The rest is unpredictable by default (``secrets``); with a
    ``seed``, the same sequence every time, so an in-process run of the suite is the same
    run for the same seed."""

    def __init__(self, seed: int | None = None) -> None:
        self._random: random.Random = (
            random.Random(seed) if seed is not None else secrets.SystemRandom()
        )
        self._lock = threading.Lock()
        self._count = 0

    def __call__(self, prefix: str) -> str:
        with self._lock:
            self._count += 1
            number, counter = self._count, []
            for _ in range(_COUNTER_WIDTH):
                number, digit = divmod(number, len(_ALPHABET))
                counter.append(_ALPHABET[digit])
            rest = "".join(self._random.choices(_ALPHABET, k=43 - _COUNTER_WIDTH))
            return prefix + "_" + "".join(reversed(counter)) + rest
