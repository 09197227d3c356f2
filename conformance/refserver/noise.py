"""Network noise for testing the suite against live targets (``serve`` knobs).

An ASGI middleware in front of the reference app: added latency on every request, and a
share of transient failures on the SMS endpoints, half of them a ``503`` before the request
is handled (nothing happened) and half a ``504`` after it was (it happened, but the answer
was lost) — the case where a client must check what happened instead of retrying blindly.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

__all__ = ["Noise"]

Scope = dict[str, Any]
NOISY_PREFIX = "/api/v1/activity/sms"


class Noise:
    def __init__(
        self, app: Any, *, transient_share: float = 0.0, latency: float = 0.0, seed: int = 0
    ) -> None:
        if not 0.0 <= transient_share <= 1.0:
            raise ValueError(f"transient_share must be within 0..1, got {transient_share!r}")
        if latency < 0:
            raise ValueError(f"latency must be 0 or more seconds, got {latency!r}")
        self.app = app
        self.transient_share = transient_share
        self.latency = latency
        self.random = random.Random(seed)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.latency:
            await asyncio.sleep(self.latency)
        roll = self.random.random() if scope["path"].startswith(NOISY_PREFIX) else 1.0
        if roll < self.transient_share / 2:
            await _answer(send, 503)
        elif roll < self.transient_share:

            async def swallow(message: dict[str, Any]) -> None:
                return None

            await self.app(scope, receive, swallow)  # handled; the answer is lost
            await _answer(send, 504)
        else:
            await self.app(scope, receive, send)


async def _answer(send: Any, status: int) -> None:
    body = json.dumps({"error": "temporarily unavailable (injected noise)"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
