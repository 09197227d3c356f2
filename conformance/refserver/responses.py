"""Response classes and bodies the app and its handlers share."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

__all__ = ["JSONResponse"]

# The 404 answer under the not-found-body=html reading (the docs leave the 404 body open).
NOT_FOUND_PAGE = "<html><body><h1>404 Not Found</h1></body></html>"


class JSONResponse(Response):
    """``application/json``; falls back to ASCII escapes for text UTF-8 cannot encode
    (lone surrogates sent as ``\\ud800`` escapes round-trip unchanged)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")
