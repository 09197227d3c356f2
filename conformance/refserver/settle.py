"""Eventual consistency, the ``visibility=eventual`` reading: what a search index that lags
behind the database looks like from outside.

Close's live API was seen to keep a deleted object readable right after its ``DELETE`` and to
keep lists lagging for 30-60 s (close-sms-api.md, section 7). Under this reading, for ``lag``
seconds after each change, a deleted SMS is still answered by ``GET`` by id and still listed,
and a new SMS is missing from lists; then both settle. Nothing else changes: a deleted SMS is
never sent, never updated, and a second ``DELETE`` answers 404.
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["DEFAULT_LAG", "LINGERING", "Settle"]

DEFAULT_LAG = 30.0  # seconds, when the reading is chosen without a lag
LINGERING = "sms_lingering"  # the storage kind of a deleted SMS that has not settled


class Settle:
    """When each SMS was created or deleted, to tell what a read still shows."""

    def __init__(self, lag: float = DEFAULT_LAG) -> None:
        if lag <= 0:
            raise ValueError(f"a settle lag is a positive number of seconds, got {lag!r}")
        self.lag = timedelta(seconds=lag)
        self._created: dict[str, datetime] = {}
        self._deleted: dict[str, datetime] = {}

    def created(self, sms_id: str, now: datetime) -> None:
        self._created[sms_id] = now

    def deleted(self, sms_id: str, now: datetime) -> None:
        self._deleted[sms_id] = now

    def unlisted(self, sms_id: str, now: datetime) -> bool:
        """True while a new SMS is still missing from lists."""
        at = self._created.get(sms_id)
        return at is not None and now < at + self.lag

    def was_deleted(self, sms_id: str) -> bool:
        return sms_id in self._deleted

    def lingering(self, sms_id: str, now: datetime) -> bool:
        """True while a deleted SMS is still readable and listed."""
        at = self._deleted.get(sms_id)
        return at is not None and now < at + self.lag
