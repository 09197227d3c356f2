"""Errors a handler raises to answer with a 4xx; the app turns them into JSON responses."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "NotFound", "ValidationFailed", "error_message_body"]


class ApiError(Exception):
    """An error answer: ``status`` and a JSON ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class NotFound(ApiError):
    """404 ``{"error": "Not found"}`` for unknown ids and other organisations' ids."""

    def __init__(self) -> None:
        super().__init__(404, {"error": "Not found"})


class ValidationFailed(ApiError):
    """400 ``{"errors": [], "field-errors": {field: message}}``; ``field=None`` gives a
    general error in ``errors`` instead.

    ``refusal`` marks a documented rule refusing a well-formed request (editing a sent SMS,
    ``scheduled`` without ``date_scheduled``, ``_limit`` over the maximum, ...) rather than a
    malformed value: under the ``error-body-shape=error-message`` reading its body is
    ``{"error": "<field>: <message>"}`` (:func:`error_message_body`)."""

    def __init__(self, field: str | None, message: str, *, refusal: bool = False) -> None:
        if field is None:
            body: dict[str, Any] = {"errors": [message], "field-errors": {}}
        else:
            body = {"errors": [], "field-errors": {field: message}}
        super().__init__(400, body)
        self.field = field
        self.message = message
        self.refusal = refusal


def error_message_body(body: dict[str, Any]) -> dict[str, str]:
    """``{"error": "..."}`` holding every message of a validation ``body`` on one line."""
    parts = [str(message) for message in body.get("errors") or []]
    parts += [f"{field}: {message}" for field, message in (body.get("field-errors") or {}).items()]
    return {"error": "; ".join(parts) or "Invalid request."}
