"""The run's hard bounds, as the client keeps them: the request and time budgets, missed
deadlines, answers too large or too deep to judge, and waiting for the rate limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from conformance.client.crew import Crew, Halted
from conformance.client.errors import (
    AnswerTooLarge,
    BudgetExhausted,
    Interrupted,
    MalformedAnswer,
    RateLimitedTooLong,
    TargetTooSlow,
    TimeBudgetExhausted,
)
from conformance.client.recording import _Try
from conformance.clock import Clock
from conformance.http_semantics import bounded_wait, parse_ratelimit

MAX_MISSED_DEADLINES = 3  # tries past their deadline in a run, before the run stops


class _Bounds:
    """The bounds part of :class:`~conformance.client.ApiClient` (which sets these)."""

    clock: Clock
    budget_clock: Clock
    on_request: Callable[[], None] | None
    interrupted: bool
    pace: bool
    deadline: float | None
    max_requests: int | None
    max_seconds: float | None
    max_body_bytes: int
    max_rate_limit_wait_total: float | None
    requests: int
    requests_elsewhere: int
    rate_limit_waited: float
    missed_deadlines: int
    _last_missed: str | None
    _pause_seconds: float
    _started: datetime | None
    _budget_started: datetime | None
    crew: Crew | None  # the run's other workers' clients, and what they share (run --workers)

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

    # -- bounds --------------------------------------------------------------------------

    def _check_bounds(self, method: str) -> None:
        """Raise when the run must not send this request (a DELETE, cleaning up, always may)."""
        self._first_request()
        if method == "DELETE":
            return
        if self.interrupted:
            raise Interrupted()
        if self.crew is not None and self.crew.halted is not None:
            raise Halted(self.crew.halted)
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
        sent = (
            self.requests + self.requests_elsewhere if self.crew is None else self.crew.requests()
        )
        if self.max_requests is not None and sent >= self.max_requests:
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
        """When the last answer said nothing is left (``RateLimit``), wait for the reset;
        and, in a crew, while another worker's client was told to wait (the shared limit)."""
        if self._pause_seconds:
            pause, self._pause_seconds = self._pause_seconds, 0.0
            if self._may_wait(pause, method, what):
                self._wait_for_the_rate_limit(pause)
        held = self.crew.held_for(self) if self.crew is not None else 0.0
        if held and self._may_wait(held, method, what):
            self._wait_for_the_rate_limit(held)

    def _told_to_wait(self, seconds: float) -> None:
        """The target asked for ``seconds`` of waiting: the whole crew holds that long."""
        if self.crew is not None:
            self.crew.hold(seconds, self)

    def _pace(self, header: str | None) -> None:
        """When the RateLimit header says nothing is left, wait for the reset first."""
        parsed = parse_ratelimit(header) if self.pace else None
        if parsed is not None and parsed["remaining"] <= 0:
            self._pause_seconds = bounded_wait(parsed["reset"])
            self._told_to_wait(self._pause_seconds)
