"""SQLite storage for the reference server's documents.

Every object (SMS, lead, contact, template, phone number) is one row: its JSON document
plus indexed columns the list filters and the sender query (organisation, lead, contact,
user, ``date_created``, ``activity_at``, ``status``, and the internal ``due_at`` of an SMS
waiting to be sent). Dates in the columns are UTC ISO strings of one fixed shape, so they
compare correctly as text. One connection, guarded by a lock, serves all threads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["KEEP", "Storage"]

KEEP: Any = object()  # sentinel: leave the stored due_at as it is

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    org TEXT NOT NULL,
    lead_id TEXT,
    contact_id TEXT,
    user_id TEXT,
    date_created TEXT,
    activity_at TEXT,
    status TEXT,
    due_at TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_listing ON documents (kind, org, date_created, id);
CREATE INDEX IF NOT EXISTS documents_lead ON documents (kind, org, lead_id);
CREATE INDEX IF NOT EXISTS documents_contact ON documents (kind, org, contact_id);
CREATE INDEX IF NOT EXISTS documents_user ON documents (kind, org, user_id);
CREATE INDEX IF NOT EXISTS documents_activity ON documents (kind, org, activity_at);
CREATE INDEX IF NOT EXISTS documents_status ON documents (kind, org, status);
CREATE INDEX IF NOT EXISTS documents_due ON documents (due_at) WHERE due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS status_history (
    doc_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL
);
"""

# Columns a caller may filter on; anything else is a programming error, never user input.
_FILTERABLE = frozenset({"id", "lead_id", "contact_id", "user_id", "date_created", "activity_at"})
_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_MAX_OFFSET = 2**62


def _storable(value: object) -> bool:
    """Whether SQLite can bind ``value``: strings with lone surrogates cannot be encoded."""
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Storage:
    """Documents in one SQLite database (``":memory:"`` or a file that persists)."""

    def __init__(self, path: str = ":memory:") -> None:
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._connection.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def is_empty(self) -> bool:
        """Return whether no document has been stored yet (the database needs seeding)."""
        with self._lock:
            row = self._connection.execute("SELECT 1 FROM documents LIMIT 1").fetchone()
        return row is None

    def insert(self, kind: str, doc: Mapping[str, Any], *, due_at: str | None = None) -> None:
        """Store a new document; its ``id`` must be new."""
        with self._lock:
            self._connection.execute(
                "INSERT INTO documents (id, kind, org, lead_id, contact_id, user_id,"
                " date_created, activity_at, status, due_at, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (doc["id"], kind, *self._columns(doc), due_at, json.dumps(doc)),
            )
            self._note_status(kind, doc)

    def update(self, kind: str, doc: Mapping[str, Any], *, due_at: Any = KEEP) -> None:
        """Replace a stored document; ``due_at`` is kept unless given (``None`` clears it)."""
        columns = self._columns(doc)
        with self._lock:
            if due_at is KEEP:
                self._connection.execute(
                    "UPDATE documents SET org=?, lead_id=?, contact_id=?, user_id=?,"
                    " date_created=?, activity_at=?, status=?, body=? WHERE id=? AND kind=?",
                    (*columns, json.dumps(doc), doc["id"], kind),
                )
            else:
                self._connection.execute(
                    "UPDATE documents SET org=?, lead_id=?, contact_id=?, user_id=?,"
                    " date_created=?, activity_at=?, status=?, due_at=?, body=?"
                    " WHERE id=? AND kind=?",
                    (*columns, due_at, json.dumps(doc), doc["id"], kind),
                )
            self._note_status(kind, doc)

    def _note_status(self, kind: str, doc: Mapping[str, Any]) -> None:
        """Append the status just stored to the history (the caller holds the lock)."""
        if isinstance(doc.get("status"), str):
            self._connection.execute(
                "INSERT INTO status_history (doc_id, kind, status) VALUES (?, ?, ?)",
                (doc["id"], kind, doc["status"]),
            )

    def statuses_ever(self, kind: str) -> set[str]:
        """Every status a ``kind`` document has ever been stored with, deleted ones included:
        an audit of what reached the server (e.g. that no SMS was ever put in ``outbox``)."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT DISTINCT status FROM status_history WHERE kind=?", (kind,)
            ).fetchall()
        return {row[0] for row in rows}

    def get(self, kind: str, org: str | None, doc_id: object) -> dict[str, Any] | None:
        """Return the ``kind`` document ``doc_id`` of ``org``, or ``None`` (also for ids that
        are not strings or belong to another organisation). ``org=None`` matches any
        organisation (only faulty variants ask for that)."""
        if not isinstance(doc_id, str) or not _storable(doc_id):
            return None
        with self._lock:
            row = self._connection.execute(
                "SELECT body FROM documents WHERE id=? AND kind=? AND (? IS NULL OR org=?)",
                (doc_id, kind, org, org),
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def delete(self, kind: str, org: str | None, doc_id: str) -> bool:
        """Delete one document; return whether it existed (``org=None``: any organisation)."""
        if not _storable(doc_id):
            return False
        with self._lock:
            cursor = self._connection.execute(
                "DELETE FROM documents WHERE id=? AND kind=? AND (? IS NULL OR org=?)",
                (doc_id, kind, org, org),
            )
        return cursor.rowcount > 0

    def set_kind(self, kind: str, org: str, doc_id: str, new_kind: str) -> bool:
        """Move one document to another ``kind`` (a soft delete), forgetting its due time;
        return whether it existed."""
        if not _storable(doc_id):
            return False
        with self._lock:
            cursor = self._connection.execute(
                "UPDATE documents SET kind=?, due_at=NULL WHERE id=? AND kind=? AND org=?",
                (new_kind, doc_id, kind, org),
            )
        return cursor.rowcount > 0

    def due_at(self, kind: str, doc_id: str) -> str | None:
        """Return the stored due time of one document (``None``: not waiting to be sent)."""
        with self._lock:
            row = self._connection.execute(
                "SELECT due_at FROM documents WHERE id=? AND kind=?", (doc_id, kind)
            ).fetchone()
        return None if row is None else row[0]

    def delete_where(self, kind: str, org: str, column: str, value: str) -> int:
        """Delete every ``kind`` document of ``org`` whose ``column`` equals ``value``."""
        if column not in _FILTERABLE:
            raise ValueError(f"cannot filter on {column!r}")
        with self._lock:
            cursor = self._connection.execute(
                f"DELETE FROM documents WHERE kind=? AND org=? AND {column}=?", (kind, org, value)
            )
        return cursor.rowcount

    def select(
        self,
        kind: str | tuple[str, ...],
        org: str | None,
        *,
        any_of: Mapping[str, Sequence[str]] | None = None,
        ranges: Sequence[tuple[str, str, str]] = (),
        skip: int = 0,
        limit: int | None = None,
        oldest_first: bool = False,
    ) -> list[dict[str, Any]]:
        """Return ``org``'s ``kind`` documents, newest ``date_created`` first (ties by id,
        descending, so pages are stable).

        ``any_of`` maps a column to accepted values (an empty sequence matches nothing);
        ``ranges`` holds ``(column, op, value)`` with op in gt/gte/lt/lte, comparing UTC ISO
        strings. Rows with a null column never match a range on it. ``kind`` may name
        several kinds and ``org=None`` any organisation (only faulty variants use those), and
        ``oldest_first`` reverses the order.
        """
        kinds = (kind,) if isinstance(kind, str) else kind
        clauses = [f"kind IN ({', '.join('?' for _ in kinds)})"]
        params: list[Any] = [*kinds]
        if org is not None:
            clauses.append("org=?")
            params.append(org)
        for column, values in (any_of or {}).items():
            if column not in _FILTERABLE:
                raise ValueError(f"cannot filter on {column!r}")
            usable = [v for v in values if _storable(v)]
            if not usable:
                return []
            clauses.append(f"{column} IN ({', '.join('?' for _ in usable)})")
            params.extend(usable)
        for column, op, value in ranges:
            if column not in _FILTERABLE or op not in _OPERATORS:
                raise ValueError(f"cannot filter on {column!r} {op!r}")
            clauses.append(f"{column} {_OPERATORS[op]} ?")
            params.append(value)
        sql = f"SELECT body FROM documents WHERE {' AND '.join(clauses)}"
        order = "ASC" if oldest_first else "DESC"
        sql += f" ORDER BY date_created {order}, id {order} LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, min(max(skip, 0), _MAX_OFFSET)]
        with self._lock:
            rows = self._connection.execute(sql, params).fetchall()
        return [json.loads(row[0]) for row in rows]

    def due(self, kind: str, now: str) -> list[tuple[str, dict[str, Any]]]:
        """Return ``(due_at, document)`` pairs of every ``kind`` document due at or before
        ``now`` (UTC ISO), earliest first."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT due_at, body FROM documents WHERE kind=? AND due_at IS NOT NULL"
                " AND due_at <= ? ORDER BY due_at, id",
                (kind, now),
            ).fetchall()
        return [(row[0], json.loads(row[1])) for row in rows]

    @staticmethod
    def _columns(doc: Mapping[str, Any]) -> tuple[Any, ...]:
        return (
            doc["organization_id"],
            doc.get("lead_id"),
            doc.get("contact_id"),
            doc.get("user_id"),
            doc.get("date_created"),
            doc.get("activity_at"),
            doc.get("status"),
        )
