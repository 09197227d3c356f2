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
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx

from conformance.clock import Clock
from conformance.compat import basic_authorization, transport_of
from conformance.decoding import ACCEPT_ENCODING, DecodedBody, UndecodableBody, read_decoded
from conformance.http_semantics import (
    TRANSIENT_STATUSES,
    bounded_wait,
    parse_ratelimit,
    retry_after,
)
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
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RATE_LIMIT_WAIT_TOTAL",
    "DELETED_BY_AN_EARLIER_TRY",
    "Deadline",
    "DeadlinePassed",
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

MAX_BODY_CHARS = 4000
RECORDED_REQUEST_HEADERS = ("content-type", "x-tz-offset")
DROPPED_RESPONSE_HEADERS = ("set-cookie",)
WRONG_API_KEY = "sms-conformance-wrong-key"
RETRIED_METHODS = frozenset({"GET", "DELETE"})  # idempotent: a second try does no harm
RETRIES = 3
MAX_CONSECUTIVE_FAILURES = 5
DEFAULT_DEADLINE = 20.0  # seconds for one request over the network, body included
MAX_MISSED_DEADLINES = 3  # tries past their deadline in a run, before the run stops
MAX_DEADLINES_PER_REQUEST = 2  # a request whose deadline passed this often is not retried
DEFAULT_MAX_RATE_LIMIT_WAIT_TOTAL = 300.0  # seconds of rate-limit waiting in a run
DELETED_BY_AN_EARLIER_TRY = "deleted by an earlier try"
_T = TypeVar("_T")


class RunAborted(BaseException):  # noqa: N818 - a family of reasons to stop, not an error
    """The run cannot go on; the engine ends it as inconclusive and cleans up."""


class TargetUnreachable(RunAborted):
    """The target did not answer at all (connection refused, timeouts), repeatedly."""


class TargetRedirected(RunAborted):
    """The target answered with a redirect; the base URL is probably not the API's."""


class BudgetExhausted(RunAborted):
    """The request budget (``--max-requests``) is spent."""


class TimeBudgetExhausted(RunAborted):
    """The run's time bound (``max_seconds``) is spent."""


class RateLimitedTooLong(RunAborted):
    """The run waited ``max_rate_limit_wait_total`` seconds for the rate limit in all."""


class TargetTooSlow(RunAborted):
    """:data:`MAX_MISSED_DEADLINES` tries missed their deadline this run: the target answers
    too slowly (or drips its answers) for a run to end in reasonable time."""


class TooManyTransientErrors(RunAborted):
    """So many 429s, 502/503/504s, timeouts, resets or missed deadlines that the verdict
    would mean little."""


class Refused(RunAborted):
    """The suite refused to send a request that could modify or delete what the run did not
    create, or address a number the user did not name (:class:`conformance.safety.Guard`)."""


class MalformedAnswer(RunAborted):
    """The target answered something the run cannot work with (a fixture answer without an
    id, an id that would leave its resource in a path, ...); the message names the request."""


class AnswerTooLarge(RunAborted):
    """An answer's decoded body went on past ``max_body_bytes``: only that much was read,
    and a cut body cannot be judged; the message names the request."""


class Interrupted(RunAborted):
    """The user stopped the run (Ctrl-C, SIGTERM); only the clean-up DELETEs still go out."""

    def __init__(self) -> None:
        super().__init__("interrupted")


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
        return {"authorization": basic_authorization(key)}


# -- the deadline ----------------------------------------------------------------------------


class DeadlinePassed(Exception):
    """A request's total deadline passed before its answer was read whole."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer (deadline of {seconds:g} s passed)")
        self.seconds = seconds


class Deadline:
    """A point in (monotonic, real) time a request must be done by; ``seconds=None``: never.

    Real time on purpose: the run's clock may be virtual, a socket's wait never is."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._at = None if seconds is None else time.monotonic() + seconds

    def left(self) -> float | None:
        """Seconds left (0 when passed), or None without a deadline."""
        return None if self._at is None else max(self._at - time.monotonic(), 0.0)

    def check(self) -> None:
        """Raise :class:`DeadlinePassed` once the deadline has passed."""
        if self._at is not None and time.monotonic() >= self._at:
            raise DeadlinePassed(self.seconds or 0.0)

    def watch(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """``chunks``, checking the deadline before and after each one arrives."""
        self.check()
        for chunk in chunks:
            self.check()
            yield chunk


def run_before_deadline(
    work: Callable[[], _T], deadline: Deadline, *, abandon: Callable[[], None]
) -> _T:
    """Run ``work`` on a daemon thread and wait for it until ``deadline``; return its result
    or raise what it raised. Past the deadline (or on Ctrl-C), ``abandon`` is called, on its
    own daemon thread so that it cannot hold the caller either, and :class:`DeadlinePassed`
    raised; the abandoned thread ends when its socket does and never delays the exit."""
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except BaseException as error:  # noqa: BLE001 - handed over to the waiting thread
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, name="sms-conformance request", daemon=True).start()
    try:
        finished = done.wait(deadline.left())
    except BaseException:
        threading.Thread(target=abandon, daemon=True).start()
        raise
    if not finished:
        threading.Thread(target=abandon, daemon=True).start()
        raise DeadlinePassed(deadline.seconds or 0.0)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


class OpenAnswers:
    """The answers a request thread opened, so that whoever abandons it can close them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closables: list[Any] = []
        self.abandoned = False

    def hold(self, closable: Any) -> None:
        with self._lock:
            abandoned = self.abandoned
            self._closables.append(closable)
        if abandoned:
            _close_quietly(closable)

    def abandon(self) -> None:
        with self._lock:
            self.abandoned = True
            closables = list(self._closables)
        for closable in closables:
            _close_quietly(closable)


def _close_quietly(closable: Any) -> None:
    with contextlib.suppress(Exception):  # closing what was abandoned; nothing to tell
        closable.close()


# -- the client ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Fetched:
    """What one try brought back: an error, or a response (closed) and its decoded body
    (``cut`` when the body went on past the bound)."""

    error: str | None = None
    response: httpx.Response | None = None
    body: bytes = b""
    cut: bool = False
    missed_deadline: bool = False


@dataclass(slots=True)
class _Try:
    """One try, recorded: an error or a response; what about the answer stops a run."""

    error: str | None = None
    response: RecordedResponse | None = None
    missed_deadline: bool = False
    cut: bool = False  # the body went on past max_body_bytes
    too_deep: bool = False  # JSON nested deeper than Python parses


class ApiClient:
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

    def interrupt(self) -> None:
        """Stop the run at its next request: every later send but a DELETE raises
        :class:`Interrupted`. Called from a signal handler, so that a ``KeyboardInterrupt``
        swallowed on its way up (Python ignores one raised inside a ``__del__`` or a gc
        callback) still ends the run."""
        self.interrupted = True

    def elapsed(self) -> float:
        """Seconds on the client's clock since the run's first request."""
        if self._started is None:
            return 0.0
        return (self.clock.now() - self._started).total_seconds()

    def budget_spent(self) -> float:
        """Seconds of the run's time budget spent (on ``budget_clock``)."""
        if self._budget_started is None:
            return 0.0
        return (self.budget_clock.now() - self._budget_started).total_seconds()

    def budget_left(self) -> float | None:
        """Seconds left of the run's time budget, or ``None`` when it has none."""
        if self.max_seconds is None:
            return None
        return max(0.0, self.max_seconds - self.budget_spent())

    def _first_request(self) -> None:
        if self._started is None:
            self._started = self.clock.now()
        if self._budget_started is None:
            self._budget_started = self.budget_clock.now()
        if self.on_request is not None:
            self.on_request()

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
            request = self.http.build_request(
                method, path.lstrip("/"), content=content, params=query, headers=request_headers
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

    # -- bounds --------------------------------------------------------------------------

    def _check_bounds(self, method: str) -> None:
        """Raise when the run must not send this request (a DELETE, cleaning up, always may)."""
        self._first_request()
        if method == "DELETE":
            return
        if self.interrupted:
            raise Interrupted()
        self._check_budget()

    def spend(self, method: str) -> None:
        """Count a request another client is about to send for this run (the schema
        phase's ``requests`` sessions) against the run's budgets: raise
        :class:`BudgetExhausted` or :class:`TimeBudgetExhausted` as :meth:`send` would."""
        self._first_request()
        if method.upper() != "DELETE":
            self._check_budget()
        self.requests_elsewhere += 1

    def _check_budget(self) -> None:
        if self.max_requests is not None and self.requests + self.requests_elsewhere >= (
            self.max_requests
        ):
            raise BudgetExhausted(f"the request budget of {self.max_requests} is spent")
        if self.max_seconds is not None and self.budget_spent() >= self.max_seconds:
            raise TimeBudgetExhausted(
                f"the run's time budget of {self.max_seconds:g} s (--max-time) is spent "
                f"({self.budget_spent():.0f} s since its first request)"
            )

    def _check_deadlines(self) -> None:
        """Raise :class:`TargetTooSlow` once too many tries missed their deadline."""
        if self.missed_deadlines >= MAX_MISSED_DEADLINES:
            raise TargetTooSlow(
                f"{self.missed_deadlines} requests missed their deadline of "
                f"{self.deadline or 0:g} s this run (connect, headers and body together): the "
                f"target answers too slowly to be judged (last: {self._last_missed})"
            )

    def _unjudgeable(self, method: str, what: str, attempt: _Try, error: str | None) -> str:
        """An answer cut at the bound, or nested too deep: the run stops, naming the
        request; a DELETE (cleaning up) keeps its answer, with why it is not judged."""
        if attempt.cut:
            reason = (
                f"{what} answered more than {self.max_body_bytes:,} bytes (decoded); "
                "the bound was hit"
            )
            if method != "DELETE":
                raise AnswerTooLarge(
                    f"{reason} (max_body_bytes; only that much was read, and a cut answer "
                    "cannot be judged)"
                )
        else:
            reason = (
                f"{what} answered JSON nested deeper than the suite can parse (beyond "
                "Python's recursion limit)"
            )
            if method != "DELETE":
                raise MalformedAnswer(f"{reason}; it cannot be judged")
        return f"{error}; {reason}" if error else reason

    def _may_wait(self, wait: float, method: str, what: str) -> bool:
        """Whether ``wait`` more seconds for the rate limit stay within the run's total.
        Past it, a request stops the run; a DELETE (cleaning up) gets its answer as noise."""
        bound = self.max_rate_limit_wait_total
        if bound is None or self.rate_limit_waited + wait <= bound:
            return True
        if method == "DELETE":
            return False
        raise RateLimitedTooLong(
            f"the target kept rate limiting: {self.rate_limit_waited:.0f} s waited for it "
            f"this run, and {wait:.0f} s more would pass the bound of {bound:g} s "
            f"(max_rate_limit_wait_total; last: {what})"
        )

    def _wait_for_the_rate_limit(self, seconds: float) -> None:
        self.rate_limit_waited += seconds
        self.clock.sleep(seconds)

    def _wait_for_the_reset(self, method: str, what: str) -> None:
        """When the last answer said nothing is left (``RateLimit``), wait for the reset."""
        if self._pause_seconds:
            pause, self._pause_seconds = self._pause_seconds, 0.0
            if self._may_wait(pause, method, what):
                self._wait_for_the_rate_limit(pause)

    # -- one try ---------------------------------------------------------------------------

    def _exchange(self, request: httpx.Request) -> _Try:
        deadline = Deadline(self.deadline)
        held = OpenAnswers()
        try:
            if self.deadline is None:
                fetched = self._fetch(request, deadline, held)
            else:
                fetched = run_before_deadline(
                    lambda: self._fetch(request, deadline, held), deadline, abandon=held.abandon
                )
        except DeadlinePassed as error:
            return _Try(str(error), missed_deadline=True)
        response = fetched.response
        if response is None:
            return _Try(fetched.error, missed_deadline=fetched.missed_deadline)
        if response.is_redirect:
            location = response.headers.get("location", "(no Location)")[:300]
            raise TargetRedirected(
                f"the target redirects {request.method} {request.url.path} to "
                f"{location}; give the API's own URL "
                "as --base-url (redirects are never followed, so credentials stay put)"
            )
        self._pace(response.headers.get("ratelimit"))
        recorded, too_deep = _record(response, fetched.body)
        return _Try(None, recorded, cut=fetched.cut, too_deep=too_deep)

    def _fetch(self, request: httpx.Request, deadline: Deadline, held: OpenAnswers) -> _Fetched:
        """Send ``request`` and read its answer (on whatever thread: nothing here touches
        the client's counters)."""
        try:
            response = self.http.send(request, stream=True)
        except httpx.TimeoutException as error:
            return _Fetched(f"timeout ({type(error).__name__})")
        except httpx.TransportError as error:
            return _Fetched(f"no answer ({type(error).__name__})")
        held.hold(response)
        try:
            body = self._read(response, deadline)
        except DeadlinePassed as error:
            return _Fetched(str(error), missed_deadline=True)
        except UndecodableBody as error:
            return _Fetched(f"the answer could not be decoded ({error})")
        except httpx.HTTPError as error:
            return _Fetched(f"the answer broke off ({type(error).__name__})")
        finally:
            response.close()
        return _Fetched(None, response, body.content, cut=body.cut)

    def _read(self, response: httpx.Response, deadline: Deadline) -> DecodedBody:
        """The decoded body, at most ``max_body_bytes`` of it (read raw, decoded here).

        An answer built in memory (the in-process transport, test doubles built from
        bytes) comes already read, and decoded, by httpx: it is only cut, never decoded
        again here (whoever built it paid for its decoding). Over the network, and for
        streamed answers, nothing is decoded but by the bounded decoder."""
        if response.is_stream_consumed:
            try:
                content = response.content  # what httpx holds; reading it decodes nothing
            except httpx.ResponseNotRead:
                raise UndecodableBody("its body was consumed before the client read it") from None
            cut = len(content) > self.max_body_bytes
            return DecodedBody(content[: self.max_body_bytes], cut)
        encoding = response.headers.get("content-encoding")
        raw = deadline.watch(response.iter_raw())
        return read_decoded(raw, encoding, self.max_body_bytes)

    def _pace(self, header: str | None) -> None:
        """When the RateLimit header says nothing is left, wait for the reset first."""
        parsed = parse_ratelimit(header) if self.pace else None
        if parsed is not None and parsed["remaining"] <= 0:
            self._pause_seconds = bounded_wait(parsed["reset"])

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


class NestedTooDeep(ValueError):
    """JSON nested deeper than Python's parser goes (``json.loads`` raised RecursionError)."""


def decode_body_checked(content: bytes) -> Any:
    """As :func:`decode_body`, but JSON nested deeper than Python parses (closed or not:
    100,000 ``[``) raises :class:`NestedTooDeep` instead of being kept as text."""
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except RecursionError:
        raise NestedTooDeep("JSON nested deeper than Python's recursion limit") from None
    except ValueError:
        return text[:MAX_BODY_CHARS]


def decode_body(content: bytes) -> Any:
    """A response body as JSON when it parses, else its text (cut to a readable length).
    Never raises: JSON nested deeper than Python goes is kept as (cut) text too."""
    try:
        return decode_body_checked(content)
    except NestedTooDeep:
        return content.decode("utf-8", errors="replace")[:MAX_BODY_CHARS]


def _record(response: httpx.Response, content: bytes) -> tuple[RecordedResponse, bool]:
    """The recorded response, and whether its JSON was nested too deep to parse."""
    try:
        body, too_deep = decode_body_checked(content), False
    except NestedTooDeep:
        body, too_deep = content.decode("utf-8", errors="replace")[:MAX_BODY_CHARS], True
    recorded = RecordedResponse(
        status_code=response.status_code,
        headers={
            k.lower(): v
            for k, v in response.headers.items()
            if k.lower() not in DROPPED_RESPONSE_HEADERS
        },
        body=body,
    )
    return recorded, too_deep


def _gone_after_a_retry(method: str, retries: int, response: RecordedResponse | None) -> bool:
    """A DELETE retried after no usable answer, now answered 404: the first try deleted it."""
    return (
        method == "DELETE" and retries > 0 and response is not None and response.status_code == 404
    )


def _waited(waits: int, next_wait: float) -> str:
    return f"{waits} wait{'s' if waits != 1 else ''} (it asked for {next_wait:g} s more)"
