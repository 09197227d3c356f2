"""Small helpers shared by the checks: short renderings of values for messages."""

from __future__ import annotations

import json
from typing import Any

MAX_SHOWN = 200


def shown(value: Any) -> str:
    """Return ``value`` as compact JSON, cut to a readable length."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def status_text(code: int | None) -> str:
    return "no response" if code is None else f"HTTP {code}"
