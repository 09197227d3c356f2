"""How schemathesis reaches the embedded server, and how its bodies are anchored on the
target's fixtures."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from conformance.client import parse_ratelimit
from conformance.openapi import SMS_PATHS

if TYPE_CHECKING:
    from conformance.target import Target

# -- embedded transport --------------------------------------------------------------------


class _PacedApp:
    """Wrap the embedded ASGI app: a 429 advances the target's (virtual) clock by the
    advertised wait and the request is replayed, as :class:`~conformance.client.ApiClient`
    does, so the embedded rate limit never reaches schemathesis as a verdict."""

    def __init__(self, app: Any, clock: Any, *, max_waits: int = 5) -> None:
        self.app = app
        self.clock = clock
        self.max_waits = max_waits

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        for attempt in range(self.max_waits + 1):
            messages: list[dict] = []
            sent = False

            async def replay() -> dict:
                nonlocal sent
                if sent:
                    await asyncio.sleep(0)
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def collect(message: dict, _into: list[dict] = messages) -> None:
                _into.append(message)

            await self.app(scope, replay, collect)
            start = messages[0] if messages else {}
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in start.get("headers", [])
            }
            if start.get("status") == 429 and attempt < self.max_waits:
                self.clock.sleep(_wait_seconds(headers))
                continue
            parsed = parse_ratelimit(headers.get("ratelimit"))
            if parsed is not None and parsed["remaining"] <= 0:
                self.clock.sleep(min(max(parsed["reset"], 0.0), 60.0))
            for message in messages:
                await send(message)
            return


def _wait_seconds(headers: dict[str, str]) -> float:
    value = headers.get("retry-after")
    if value is not None:
        try:
            return min(max(float(value), 0.0), 60.0)
        except ValueError:
            pass
    parsed = parse_ratelimit(headers.get("ratelimit"))
    return min(parsed["reset"], 60.0) if parsed else 1.0


# -- generation help ---------------------------------------------------------------------------


def _anchor_body(target: Target) -> Callable[[Any, Any], Any]:
    """A ``flatmap_body`` hook: sometimes swap generated ids and phone numbers (strings) for
    the target's fixtures, so creates can succeed and stateful chains get going. A string
    stays a string, so a negative body stays negative."""
    fixtures = target.fixtures

    def flatmap_body(context: Any, body: Any) -> Any:
        operation = context.operation
        if (
            fixtures is None
            or operation is None
            or operation.path not in SMS_PATHS
            or operation.method.upper() not in ("POST", "PUT")
            or not isinstance(body, dict)
        ):
            return st.just(body)
        anchored = dict(body)
        lead_id, contact_id = fixtures.leads[0]
        swaps = {
            "local_phone": fixtures.internal_phones[0],
            "remote_phone": fixtures.remote_phones[0],
            "lead_id": lead_id,
            "contact_id": contact_id,
            "template_id": fixtures.template_id,
            "user_id": fixtures.user_id,
            "created_by_id": fixtures.user_id,
            "organization_id": fixtures.organization_id,
        }
        for name, value in swaps.items():
            if isinstance(anchored.get(name), str) and value is not None:
                anchored[name] = value
        if operation.method.upper() == "POST" and "local_phone" not in anchored:
            anchored["local_phone"] = fixtures.internal_phones[0]
        return st.sampled_from([anchored, body])

    return flatmap_body
