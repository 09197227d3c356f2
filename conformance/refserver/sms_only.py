"""A target that implements only the SMS endpoints, as a mock of the SMS API does (Stoplight
Prism serving the SMS schema): an ASGI middleware in front of the reference app that
answers ``404`` to every path outside ``/activity/sms/`` (``/me/``, ``/phone_number/``,
``/lead/``, ``/sms_template/``, ...), and passes the SMS requests through untouched.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["SmsOnly"]

Scope = dict[str, Any]
SMS_PREFIX = "/api/v1/activity/sms"


class SmsOnly:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == SMS_PREFIX or path.startswith(SMS_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": "Not found"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 404,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
