"""The one I/O seam towards the target: send a request, get back a recorded exchange.

:class:`ApiClient` wraps an ``httpx.Client`` (whose transport is injected: real HTTP, or
the embedded server through :class:`~conformance.transport.SyncASGITransport`). It picks
the credential by name and records every exchange without it, along with the window of
time the server answered in. It is also where a live target's noise is absorbed, and where
the run's hard bounds hold:

- ``429``: waits ``Retry-After`` (or the ``RateLimit`` reset; at most 60 s a time) and tries
  again, up to ``max_rate_limit_waits`` times; a request still rate limited after that gets
  no answer (``response=None``, ``error`` "still rate limited after ..."), never the 429 as if
  it were the real answer. The 429s waited out are in :attr:`ApiClient.last_throttled`;
- ``RateLimit`` with ``remaining=0``: waits for the reset before the next request;
- all waiting for the rate limit (429s and resets) adds up to at most
  ``max_rate_limit_wait_total`` seconds a run: past it the run stops
  (:class:`RateLimitedTooLong`), except for a DELETE, which cleans up: it gets no more
  waits, and a 429 is then its (noisy) answer as above;
- ``502``/``503``/``504``, timeouts, dropped connections and missed deadlines: a ``GET`` or
  a ``DELETE`` (both idempotent) is retried with backoff (but not after its deadline passed
  twice: a target that slow gives nothing by being asked again); anything else is returned
  as it is
  (``response=None`` when nothing came back), because repeating a POST or PUT blindly could
  do it twice. A retried DELETE answered ``404`` was deleted by an earlier try: its exchange
  carries the 404 and says so in ``error`` (:data:`DELETED_BY_AN_EARLIER_TRY`). The caller
  decides what happened; the engine counts these as noise, never as a rule violation, and so
  are 429s when the client paces itself (a paced client should meet none);
- a redirect is never followed (credentials must not travel to another host): the run
  stops, inconclusive, naming the ``Location``;
- bodies are read raw and decoded here (:mod:`conformance.decoding`: ``gzip``, ``deflate``,
  stacked or not), never beyond ``max_body_bytes`` of decoded data; a body in another
  coding, or one that does not decode, is no answer ("the answer could not be decoded").
  An answer cut at the bound cannot be judged: the run stops (:class:`AnswerTooLarge`), and
  so it does on JSON nested deeper than Python parses (:class:`MalformedAnswer`); a DELETE,
  which cleans up, gets such an answer with ``error`` saying so (noise, never judged);
- every request over the network has a total ``deadline`` (connect, headers and body
  together; httpx's own timeouts are per read, so a body dripped a byte at a time would
  never time out): past it the request is abandoned as "no answer (deadline of N s
  passed)". The in-process transport has none: it answers on the calling thread, at once.
  After :data:`MAX_MISSED_DEADLINES` tries missed their deadline in a run, the next request
  but a DELETE stops the run (:class:`TargetTooSlow`): a target dripping its answers would
  otherwise hold the run for hours, deadline after deadline;
- the run as a whole may take ``max_seconds`` on the client's clock: past it, the next
  request but a DELETE stops the run (:class:`TimeBudgetExhausted`).

No answer crashes the client: malformed ``RateLimit`` or ``Retry-After`` values and
undecodable bodies give a usable record; JSON nested beyond Python's recursion limit and
answers cut at the bound end the run with a reason naming the request.

Exceptions that end a run derive from :class:`RunAborted`, a ``BaseException``, so that
Hypothesis lets them through at once instead of shrinking them as if they were bugs::

    RunAborted
    ├── TargetUnreachable    no answer at all, several times in a row
    ├── TargetRedirected     a 3xx: the base URL is not the API
    ├── BudgetExhausted      --max-requests reached
    ├── TimeBudgetExhausted  the run's max_seconds are spent
    ├── RateLimitedTooLong   max_rate_limit_wait_total seconds waited for the rate limit
    ├── TargetTooSlow        MAX_MISSED_DEADLINES tries missed their deadline
    ├── TooManyTransientErrors
    ├── Refused              the suite would have touched what it must not (safety.Guard)
    ├── MalformedAnswer      an answer the run cannot work with, naming the request
    ├── AnswerTooLarge       an answer longer than max_body_bytes (decoded): cut, not judged
    └── Interrupted          Ctrl-C or SIGTERM

The package, one concern a module: :mod:`.errors` (that family), :mod:`.credentials`,
:mod:`.deadline` (a request's total deadline and the thread that keeps it), :mod:`.recording`
(what an exchange records of an answer), :mod:`.bounds` (the budgets, missed deadlines and
rate-limit waits), :mod:`.tries` (one try: sent, read, recorded); :class:`ApiClient` (here)
sends with retries and throttling. Every name is importable from ``conformance.client``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import httpx

from conformance.client.bounds import MAX_MISSED_DEADLINES as MAX_MISSED_DEADLINES
from conformance.client.building import build_request
from conformance.client.credentials import WRONG_API_KEY as WRONG_API_KEY
from conformance.client.credentials import Credentials as Credentials
from conformance.client.crew import Crew as Crew
from conformance.client.crew import Halted as Halted
from conformance.client.deadline import Deadline as Deadline
from conformance.client.deadline import DeadlinePassed as DeadlinePassed
from conformance.client.deadline import OpenAnswers as OpenAnswers
from conformance.client.deadline import run_before_deadline as run_before_deadline
from conformance.client.errors import AnswerTooLarge as AnswerTooLarge
from conformance.client.errors import BudgetExhausted as BudgetExhausted
from conformance.client.errors import Interrupted as Interrupted
from conformance.client.errors import MalformedAnswer as MalformedAnswer
from conformance.client.errors import RateLimitedTooLong as RateLimitedTooLong
from conformance.client.errors import Refused as Refused
from conformance.client.errors import RunAborted as RunAborted
from conformance.client.errors import TargetRedirected as TargetRedirected
from conformance.client.errors import TargetTooSlow as TargetTooSlow
from conformance.client.errors import TargetUnreachable, TooManyTransientErrors
from conformance.client.errors import TimeBudgetExhausted as TimeBudgetExhausted
from conformance.client.recording import MAX_BODY_CHARS as MAX_BODY_CHARS
from conformance.client.recording import RECORDED_REQUEST_HEADERS
from conformance.client.recording import NestedTooDeep as NestedTooDeep
from conformance.client.recording import decode_body as decode_body
from conformance.client.recording import decode_body_checked as decode_body_checked
from conformance.client.tries import _Tries
from conformance.clock import Clock
from conformance.compat import transport_of
from conformance.decoding import ACCEPT_ENCODING
from conformance.http_semantics import TRANSIENT_STATUSES as TRANSIENT_STATUSES
from conformance.http_semantics import parse_ratelimit as parse_ratelimit
from conformance.http_semantics import retry_after
from conformance.model import TimeWindow
from conformance.records import Exchange, RecordedRequest, RecordedResponse
from conformance.transport import SyncASGITransport

if TYPE_CHECKING:
    from conformance.safety import Guard

__all__ = [
    "AnswerTooLarge",
    "ApiClient",
    "BudgetExhausted",
    "Credentials",
    "Crew",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RATE_LIMIT_WAIT_TOTAL",
    "DELETED_BY_AN_EARLIER_TRY",
    "Deadline",
    "DeadlinePassed",
    "Halted",
    "Interrupted",
    "MAX_MISSED_DEADLINES",
    "MalformedAnswer",
    "NestedTooDeep",
    "OpenAnswers",
    "RateLimitedTooLong",
    "Refused",
    "RunAborted",
    "TargetRedirected",
    "TargetTooSlow",
    "TargetUnreachable",
    "TimeBudgetExhausted",
    "TooManyTransientErrors",
    "TRANSIENT_STATUSES",
    "decode_body",
    "decode_body_checked",
    "parse_ratelimit",
    "run_before_deadline",
]

RETRIED_METHODS = frozenset({"GET", "DELETE"})  # idempotent: a second try does no harm
RETRIES = 3
MAX_CONSECUTIVE_FAILURES = 5
DEFAULT_DEADLINE = 20.0  # seconds for one request over the network, body included
MAX_DEADLINES_PER_REQUEST = 2  # a request whose deadline passed this often is not retried
DEFAULT_MAX_RATE_LIMIT_WAIT_TOTAL = 300.0  # seconds of rate-limit waiting in a run
DELETED_BY_AN_EARLIER_TRY = "deleted by an earlier try"


class ApiClient(_Tries):
    """Send requests to the target and record them.

    ``max_requests`` is the run's request budget (DELETEs, which clean up, are exempt);
    ``max_transient`` how many transient failures are tolerated before the run stops
    (default: 20, or 5% of the requests made, whichever is more); ``pace=False`` runs into
    429s instead of waiting when ``remaining`` reaches 0 (the embedded target does, so the
    rate-limit rules get exercised; its 429s are then not noise).

    The hard bounds: ``max_body_bytes`` of decoded body per answer; ``deadline`` seconds per
    request, body included (default :data:`DEFAULT_DEADLINE` over the network, none for the
    in-process transport; ``None``: none); ``max_rate_limit_wait_total`` seconds of waiting
    for the rate limit in a run (default :data:`DEFAULT_MAX_RATE_LIMIT_WAIT_TOTAL` over the
    network, unbounded in-process, where the clock is virtual and waits are free;
    ``None``: unbounded); ``max_seconds`` for the whole run on ``budget_clock`` (by default
    ``clock``; the embedded server's clock is virtual, so its budget runs on the wall
    clock), counted from the first request (``None``: unbounded). ``on_request`` is called
    before every request the run sends or spends (progress displays; its errors are the
    caller's).
    """

    def __init__(
        self,
        http: httpx.Client,
        credentials: Credentials,
        clock: Clock,
        *,
        max_rate_limit_waits: int = 5,
        max_rate_limit_wait_total: float | None | Literal["auto"] = "auto",
        max_requests: int | None = None,
        max_transient: int | None = None,
        max_body_bytes: int = 1_000_000,
        max_seconds: float | None = None,
        deadline: float | None | Literal["auto"] = "auto",
        pace: bool = True,
        guard: Guard | None = None,
        budget_clock: Clock | None = None,
    ) -> None:
        in_process = isinstance(transport_of(http), SyncASGITransport)
        self.http = http
        self.guard = guard
        self.credentials = credentials
        self.clock = clock
        self.max_rate_limit_waits = max_rate_limit_waits
        self.max_rate_limit_wait_total: float | None = (
            (None if in_process else DEFAULT_MAX_RATE_LIMIT_WAIT_TOTAL)
            if max_rate_limit_wait_total == "auto"
            else max_rate_limit_wait_total
        )
        self.max_requests = max_requests
        self.max_transient = max_transient
        self.max_body_bytes = max_body_bytes
        self.max_seconds = max_seconds
        self.deadline: float | None = (
            (None if in_process else DEFAULT_DEADLINE) if deadline == "auto" else deadline
        )
        self.pace = pace
        self.requests = 0
        self.requests_elsewhere = 0  # sent by another client, counted by spend()
        self.rate_limited = 0
        self.rate_limit_waited = 0.0  # seconds waited for the rate limit, this run
        self.transient = 0
        self.missed_deadlines = 0  # tries that missed their deadline, this run
        self._last_missed: str | None = None
        self._failures_in_a_row = 0
        self._pause_seconds = 0.0
        self._started: datetime | None = None  # on ``clock``, at the first request
        self.budget_clock: Clock = budget_clock or clock
        self._budget_started: datetime | None = None  # on ``budget_clock``
        self.on_request: Callable[[], None] | None = None
        self.last_throttled: list[Exchange] = []  # the 429s the last send() waited out
        self.last_request: RecordedRequest | None = None  # named when a run stops on it
        self.interrupted = False
        self.crew: Crew | None = None  # set by Crew.join (run --workers)

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
        The exchange's ``response`` is None when no answer came (``error`` says why).

        Raises :class:`AnswerTooLarge` for an answer longer than ``max_body_bytes`` and
        :class:`MalformedAnswer` for JSON nested deeper than Python parses, except to a
        DELETE (cleaning up), whose exchange then carries the answer and the reason in
        ``error``."""
        self._check_bounds(method)
        if self.guard is not None:
            self.guard.check(method, path, json_body)
        request_headers = dict(headers or {})
        request_headers.update(self.credentials.headers_for(auth))
        if not any(name.lower() == "accept-encoding" for name in request_headers):
            request_headers["accept-encoding"] = ACCEPT_ENCODING  # what read() can decode
        recorded_body = json_body if content is None else content.decode(errors="replace")
        if json_body is not None:
            content = json.dumps(json_body).encode()
            request_headers["content-type"] = "application/json"
        query = httpx.QueryParams(params or {})
        shown_path = f"{path}?{query}" if params else path
        what = f"{method} {shown_path}"
        recorded_request = RecordedRequest(
            method=method,
            path=shown_path,
            headers={k: v for k, v in request_headers.items() if k in RECORDED_REQUEST_HEADERS},
            body=recorded_body,
            auth=auth,
        )
        self.last_request = recorded_request
        self.last_throttled = []
        waits = retries = missed = 0
        first_error: str | None = None
        while True:
            if method != "DELETE":
                self._check_deadlines()
            self._wait_for_the_reset(method, what)
            start = self.clock.now()
            request = build_request(
                self.http, method, path, content=content, query=query, headers=request_headers
            )
            wall = time.perf_counter()  # real time: the run's clock may be virtual
            attempt = self._exchange(request)
            took = time.perf_counter() - wall
            error, response = attempt.error, attempt.response
            end = self.clock.now()
            self.requests += 1
            if attempt.missed_deadline:
                missed += 1
                self.missed_deadlines += 1
                self._last_missed = what
            if response is not None and response.status_code == 429:
                self.rate_limited += 1
                self.last_throttled.append(
                    Exchange(recorded_request, response, elapsed=took, sent_at=start.isoformat())
                )
                wait = retry_after(response.headers, self.clock.now())
                if waits < self.max_rate_limit_waits and self._may_wait(wait, method, what):
                    if self.pace:
                        self._note_transient(f"{what}: 429", in_a_row=False)
                    waits += 1
                    self._told_to_wait(wait)
                    self._wait_for_the_rate_limit(wait)
                    continue
                error, response = f"still rate limited after {_waited(waits, wait)}", None
                self._note_transient(f"{what}: {error}")
                break
            if _gone_after_a_retry(method, retries, response):
                error = f"{DELETED_BY_AN_EARLIER_TRY}: the retry answered 404 ({first_error})"
                self._failures_in_a_row = 0
                break
            transient = error is not None or (
                response is not None and response.status_code in TRANSIENT_STATUSES
            )
            if transient:
                problem = error or (response.status_code if response is not None else "?")
                first_error = first_error or f"first try: {problem}"
                self._note_transient(f"{what}: {problem}")
                retry = retries < RETRIES and missed < MAX_DEADLINES_PER_REQUEST
                if method in RETRIED_METHODS and retry:
                    self.clock.sleep(0.5 * 2**retries)
                    retries += 1
                    continue
            else:
                self._failures_in_a_row = 0
            break
        if response is not None and (attempt.cut or attempt.too_deep):
            error = self._unjudgeable(method, what, attempt, error)
        if self.guard is not None and response is not None:
            self.guard.observe(method, path, response.status_code, response.body)
        exchange = Exchange(
            recorded_request,
            response,
            # The measured time of the try that was recorded (not the retries' waits), in
            # real seconds whatever the run's clock: in-process on a virtual clock too.
            elapsed=took,
            error=error,
            sent_at=start.isoformat(),
        )
        return exchange, TimeWindow(start, end)

    def _note_transient(self, what: str, *, in_a_row: bool = True) -> None:
        self.transient += 1
        if in_a_row:
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
                f"{self.transient} transient failures (429s, 502/503/504, timeouts, resets, "
                f"missed deadlines) in {self.requests} requests; the verdict would mean little "
                f"(last: {what})"
            )


def _gone_after_a_retry(method: str, retries: int, response: RecordedResponse | None) -> bool:
    """A DELETE retried after no usable answer, now answered 404: the first try deleted it."""
    return (
        method == "DELETE" and retries > 0 and response is not None and response.status_code == 404
    )


def _waited(waits: int, next_wait: float) -> str:
    return f"{waits} wait{'s' if waits != 1 else ''} (it asked for {next_wait:g} s more)"
