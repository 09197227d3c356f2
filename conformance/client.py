"""The one I/O seam towards the target: send a request, get back a recorded exchange.

:class:`ApiClient` wraps an ``httpx.Client`` (whose transport is injected: real HTTP, or
the embedded server through :class:`~conformance.transport.SyncASGITransport`). It picks
the credential by name, honours ``429`` with ``Retry-After``, and records every exchange
without its credential, along with the window of time the server answered in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.clock import Clock
from conformance.model import TimeWindow
from conformance.records import Exchange, RecordedRequest, RecordedResponse

__all__ = ["ApiClient", "Credentials", "TargetUnreachable"]

MAX_BODY_CHARS = 4000
RECORDED_REQUEST_HEADERS = ("content-type", "x-tz-offset")
DROPPED_RESPONSE_HEADERS = ("set-cookie",)
WRONG_API_KEY = "sms-conformance-wrong-key"


class TargetUnreachable(Exception):
    """The target did not answer at all (connection refused, timeout, ...)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """Secrets for the target; ``repr`` never shows them."""

    api_key: str | None = None
    oauth_token: str | None = None
    second_api_key: str | None = None

    def __repr__(self) -> str:
        given = [
            name for name in ("api_key", "oauth_token", "second_api_key") if getattr(self, name)
        ]
        return f"Credentials(given={given})"

    def secrets(self) -> list[str]:
        return [value for value in (self.api_key, self.oauth_token, self.second_api_key) if value]

    def headers_for(self, auth: str) -> dict[str, str]:
        """Return the Authorization header for the credential named ``auth``."""
        if auth == "none":
            return {}
        if auth == "bearer":
            if not self.oauth_token:
                raise ValueError("auth='bearer' needs an OAuth token")
            return {"authorization": f"Bearer {self.oauth_token}"}
        key = {
            "basic": self.api_key or "",
            "second-org": self.second_api_key or "",
            "wrong": WRONG_API_KEY,
        }[auth]
        return {"authorization": httpx.BasicAuth(key, "")._auth_header}


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:MAX_BODY_CHARS]


class ApiClient:
    """Send requests to the target and record them.

    ``max_rate_limit_waits`` bounds how often one request waits out a 429.
    """

    def __init__(
        self,
        http: httpx.Client,
        credentials: Credentials,
        clock: Clock,
        *,
        max_rate_limit_waits: int = 5,
    ) -> None:
        self.http = http
        self.credentials = credentials
        self.clock = clock
        self.max_rate_limit_waits = max_rate_limit_waits
        self.requests = 0
        self.rate_limited = 0
        self.last_throttled: list[Exchange] = []  # the 429s the last send() waited out

    def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: str = "basic",
    ) -> tuple[Exchange, TimeWindow]:
        """Send one request; return its recorded exchange and the server's time window.

        ``json_body`` is sent as JSON; ``content`` as raw bytes with the given headers."""
        request_headers = dict(headers or {})
        request_headers.update(self.credentials.headers_for(auth))
        recorded_body = json_body if content is None else content.decode(errors="replace")
        if json_body is not None:
            content = json.dumps(json_body).encode()
            request_headers["content-type"] = "application/json"
        query = httpx.QueryParams(params or {})
        shown_path = f"{path}?{query}" if params else path
        recorded_request = RecordedRequest(
            method=method,
            path=shown_path,
            headers={k: v for k, v in request_headers.items() if k in RECORDED_REQUEST_HEADERS},
            body=recorded_body,
            auth=auth,
        )
        self.last_throttled = []
        for _attempt in range(self.max_rate_limit_waits + 1):
            start = self.clock.now()
            try:
                response = self.http.request(
                    method,
                    path.lstrip("/"),
                    content=content,
                    params=query,
                    headers=request_headers,
                )
            except httpx.TransportError as error:
                raise TargetUnreachable(f"{method} {shown_path}: {type(error).__name__}") from error
            end = self.clock.now()
            self.requests += 1
            if response.status_code != 429 or _attempt == self.max_rate_limit_waits:
                break
            self.rate_limited += 1
            self.last_throttled.append(Exchange(recorded_request, _record(response)))
            self.clock.sleep(_retry_after(response))
        elapsed = response.elapsed.total_seconds() if hasattr(response, "_elapsed") else 0.0
        return Exchange(recorded_request, _record(response), elapsed), TimeWindow(start, end)


def _record(response: httpx.Response) -> RecordedResponse:
    return RecordedResponse(
        status_code=response.status_code,
        headers={
            k.lower(): v
            for k, v in response.headers.items()
            if k.lower() not in DROPPED_RESPONSE_HEADERS
        },
        body=_decode(response),
    )


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "1")
    try:
        return min(max(float(value), 0.0), 60.0)
    except ValueError:
        return 1.0
