"""The suite's own OpenAPI 3.1 document for the SMS endpoints and the fixture endpoints.

``close-sms.yaml`` is package data; :func:`load_openapi` returns it as a fresh dict (callers
may change it). Written from the research notes, not vendored: see the header of the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["OPENAPI_PATH", "SMS_PATHS", "load_openapi"]

OPENAPI_PATH = Path(__file__).with_name("close-sms.yaml")
SMS_PATHS = ("/activity/sms/", "/activity/sms/{id}/")


def load_openapi() -> dict[str, Any]:
    """Return the OpenAPI document as a new dict."""
    with OPENAPI_PATH.open(encoding="utf-8") as stream:
        document = yaml.safe_load(stream)
    if not isinstance(document, dict):  # pragma: no cover - the packaged file is a mapping
        raise ValueError(f"{OPENAPI_PATH} does not hold an OpenAPI document")
    return document
