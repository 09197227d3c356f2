"""The one I/O seam towards the target: send a request, get back a recorded exchange.

:class:`ApiClient` wraps an ``httpx.Client`` (whose transport is injected: real HTTP, or
the embedded server through :class:`~conformance.transport.SyncASGITransport`). It picks
the credential by name and records every exchange without it, along with the window of
time the server answered in. It is also where a live target's noise is absorbed:

- ``429``: waits ``Retry-After`` (or the ``RateLimit`` reset) and tries again;
- ``RateLimit`` with ``remaining=0``: waits for the reset before the next request;
- ``502``/``503``/``504``, timeouts and dropped connections: a ``GET`` is retried with
  backoff; anything else is returned as it is (``response=None`` when nothing came back),
  because repeating a POST or PUT blindly could do it twice. The caller decides what
  happened; the engine counts these as noise, never as a rule violation;
- a redirect is never followed (credentials must not travel to another host): the run
  stops, inconclusive, naming the ``Location``;
- bodies are read up to ``max_body_bytes``.

Exceptions that end a run derive from :class:`RunAborted`, a ``BaseException``, so that
Hypothesis lets them through at once instead of shrinking them as if they were bugs::

    RunAborted
    ├── TargetUnreachable    no answer at all, several times in a row
    ├── TargetRedirected     a 3xx: the base URL is not the API
    ├── BudgetExhausted      --max-requests reached
    └── TooManyTransientErrors
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.clock import Clock
from conformance.model import TimeWindow
from conformance.records import Exchange, RecordedRequest, RecordedResponse

__all__ = [
    "ApiClient",
    "BudgetExhausted",
    "Credentials",
    "RunAborted",
    "TargetRedirected",
    "TargetUnreachable",
    "TooManyTransientErrors",
    "TRANSIENT_STATUSES",
]

MAX_BODY_CHARS = 4000
RECORDED_REQUEST_HEADERS = ("content-type", "x-tz-offset")
DROPPED_RESPONSE_HEADERS = ("set-cookie",)
WRONG_API_KEY = "sms-conformance-wrong-key"
TRANSIENT_STATUSES = frozenset({502, 503, 504})
GET_RETRIES = 3
MAX_CONSECUTIVE_FAILURES = 5
_RATELIMIT_PART = re.compile(r"\s*([a-z]+)\s*=\s*([0-9.]+)\s*")


class RunAborted(BaseException):  # noqa: N818 - a family of reasons to stop, not an error
    """The run cannot go on; the engine ends it as inconclusive and cleans up."""


class TargetUnreachable(RunAborted):
    """The target did not answer at all (connection refused, timeouts), repeatedly."""


class TargetRedirected(RunAborted):
    """The target answered with a redirect; the base URL is probably not the API's."""


class BudgetExhausted(RunAborted):
    """The request budget (``--max-requests``) is spent."""


class TooManyTransientErrors(RunAborted):
    """So many 502/503/504s, timeouts or resets that the verdict would mean little."""


class Interrupted(RunAborted):
    """The user stopped the run (Ctrl-C, SIGTERM); only the clean-up DELETEs still go out."""

    def __init__(self) -> None:
        super().__init__("interrupted; what the run created was deleted")


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
        if auth == "bearer" or (auth == "basic" and not self.api_key and self.oauth_token):
            if not self.oauth_token:
                raise ValueError("auth='bearer' needs an OAuth token")
            return {"authorization": f"Bearer {self.oauth_token}"}
        key = {
            "basic": self.api_key or "",
            "second-org": self.second_api_key or "",
            "wrong": WRONG_API_KEY,
        }[auth]
        return {"authorization": httpx.BasicAuth(key, "")._auth_header}


def parse_ratelimit(value: str | None) -> dict[str, float] | None:
    """Parse ``limit=100, remaining=50, reset=5`` (``,`` or ``;`` separated); None if malformed."""
    if value is None:
        return None
    parsed: dict[str, float] = {}
    for part in re.split(r"[,;]", value):
        match = _RATELIMIT_PART.fullmatch(part)
        if not match:
            return None
        parsed[match.group(1)] = float(match.group(2))
    return parsed if {"limit", "remaining", "reset"} <= parsed.keys() else None


class ApiClient:
    """Send requests to the target and record them.

    ``max_requests`` is the run's request budget (DELETEs, which clean up, are exempt);
    ``max_transient`` how many transient failures are tolerated before the run stops
    (default: 20, or 5% of the requests made, whichever is more); ``pace=False`` runs into
    429s instead of waiting when ``remaining`` reaches 0 (the embedded target does, so the
    rate-limit rules get exercised).
    """

    def __init__(
        self,
        http: httpx.Client,
        credentials: Credentials,
        clock: Clock,
        *,
        max_rate_limit_waits: int = 5,
        max_requests: int | None = None,
        max_transient: int | None = None,
        max_body_bytes: int = 1_000_000,
        pace: bool = True,
    ) -> None:
        self.http = http
        self.credentials = credentials
        self.clock = clock
        self.max_rate_limit_waits = max_rate_limit_waits
        self.max_requests = max_requests
        self.max_transient = max_transient
        self.max_body_bytes = max_body_bytes
        self.pace = pace
        self.requests = 0
        self.rate_limited = 0
        self.transient = 0
        self._failures_in_a_row = 0
        self._pause_seconds = 0.0
        self.last_throttled: list[Exchange] = []  # the 429s the last send() waited out
        self.interrupted = False

    def interrupt(self) -> None:
        """Stop the run at its next request: every later send but a DELETE raises
        :class:`Interrupted`. Called from a signal handler, so that a ``KeyboardInterrupt``
        swallowed on its way up (Python ignores one raised inside a ``__del__`` or a gc
        callback) still ends the run."""
        self.interrupted = True

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

        ``json_body`` is sent as JSON; ``content`` as raw bytes with the given headers.
        The exchange's ``response`` is None when no answer came (``error`` says why)."""
        if self.interrupted and method != "DELETE":
            raise Interrupted()
        if (
            self.max_requests is not None
            and self.requests >= self.max_requests
            and (method != "DELETE")
        ):
            raise BudgetExhausted(f"the request budget of {self.max_requests} is spent")
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
        waits = retries = 0
        while True:
            if self._pause_seconds:
                self.clock.sleep(self._pause_seconds)
                self._pause_seconds = 0.0
            start = self.clock.now()
            request = self.http.build_request(
                method, path.lstrip("/"), content=content, params=query, headers=request_headers
            )
            error, response = self._exchange(request)
            end = self.clock.now()
            self.requests += 1
            if (
                response is not None
                and response.status_code == 429
                and (waits < self.max_rate_limit_waits)
            ):
                waits += 1
                self.rate_limited += 1
                self.last_throttled.append(Exchange(recorded_request, response))
                self.clock.sleep(_retry_after(response))
                continue
            transient = error is not None or (
                response is not None and response.status_code in TRANSIENT_STATUSES
            )
            if transient:
                what = error or (response.status_code if response is not None else "no answer")
                self._note_transient(f"{method} {shown_path}: {what}")
                if method == "GET" and retries < GET_RETRIES:
                    self.clock.sleep(0.5 * 2**retries)
                    retries += 1
                    continue
            else:
                self._failures_in_a_row = 0
            break
        return Exchange(recorded_request, response, error=error), TimeWindow(start, end)

    def _exchange(self, request: httpx.Request) -> tuple[str | None, RecordedResponse | None]:
        try:
            response = self.http.send(request, stream=True)
        except httpx.TimeoutException as error:
            return f"timeout ({type(error).__name__})", None
        except httpx.TransportError as error:
            return f"no answer ({type(error).__name__})", None
        try:
            body = self._read(response)
        except httpx.HTTPError as error:
            return f"the answer broke off ({type(error).__name__})", None
        finally:
            response.close()
        if response.is_redirect:
            raise TargetRedirected(
                f"the target redirects {request.method} {request.url.path} to "
                f"{response.headers.get('location', '(no Location)')}; give the API's own URL "
                "as --base-url (redirects are never followed, so credentials stay put)"
            )
        self._pace(response.headers.get("ratelimit"))
        return None, _record(response, body)

    def _read(self, response: httpx.Response) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"".join(chunks)[: self.max_body_bytes]
        return b"".join(chunks)

    def _pace(self, header: str | None) -> None:
        """When the RateLimit header says nothing is left, wait for the reset first."""
        parsed = parse_ratelimit(header) if self.pace else None
        if parsed is not None and parsed["remaining"] <= 0:
            self._pause_seconds = min(max(parsed["reset"], 0.0), 60.0)

    def _note_transient(self, what: str) -> None:
        self.transient += 1
        self._failures_in_a_row += 1
        if self._failures_in_a_row >= MAX_CONSECUTIVE_FAILURES:
            raise TargetUnreachable(
                f"{self._failures_in_a_row} requests in a row got no usable answer (last: {what})"
            )
        limit = self.max_transient
        if limit is None:
            limit = max(20, self.requests // 20)  # more than 5% noise: no trustworthy verdict
        if self.transient > limit:
            raise TooManyTransientErrors(
                f"{self.transient} transient failures (502/503/504, timeouts, resets) in "
                f"{self.requests} requests; the verdict would mean little (last: {what})"
            )


def decode_body(content: bytes) -> Any:
    """A response body as JSON when it parses, else its text (cut to a readable length)."""
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text[:MAX_BODY_CHARS]


def _record(response: httpx.Response, content: bytes) -> RecordedResponse:
    return RecordedResponse(
        status_code=response.status_code,
        headers={
            k.lower(): v
            for k, v in response.headers.items()
            if k.lower() not in DROPPED_RESPONSE_HEADERS
        },
        body=decode_body(content),
    )


def _retry_after(response: RecordedResponse) -> float:
    value = response.headers.get("retry-after")
    if value is None:
        parsed = parse_ratelimit(response.headers.get("ratelimit"))
        return min(parsed["reset"], 60.0) if parsed else 1.0
    try:
        return min(max(float(value), 0.0), 60.0)
    except ValueError:
        return 1.0
