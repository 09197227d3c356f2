"""What a run tells while it goes: events one at a time from several threads, scrubbed of
credentials, and a ``progress`` event at most every :data:`PROGRESS_EVERY` seconds."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from conformance.events import Event
from conformance.redaction import Redactor
from conformance.run_state import RunState


def _serialised(emit: Callable[[Event], None]) -> Callable[[Event], None]:
    """``emit`` for several threads: one event at a time."""
    lock = threading.Lock()

    def one_at_a_time(event: Event) -> None:
        with lock:
            emit(event)

    return one_at_a_time


PROGRESS_EVERY = 1.0  # seconds between progress events, at least


def _progress(state: RunState, started: float) -> Callable[[], None]:
    """A hook for every request: at most every :data:`PROGRESS_EVERY` seconds, a
    ``progress`` event naming the phase, the requests sent, the rules found broken and the
    time budget left."""
    last = [time.monotonic()]
    lock = threading.Lock()

    def tick() -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY or not lock.acquire(blocking=False):
            return
        try:
            last[0] = now
            _tell_progress(state, started, now)
        finally:
            lock.release()

    return tick


def _tell_progress(state: RunState, started: float, now: float) -> None:
    """A ``progress`` event: the phase, the requests sent (by every worker), the rules found
    broken, the time budget left."""
    api = state.target.api
    sent = api.requests + api.requests_elsewhere if api.crew is None else api.crew.requests()
    line = (
        f"{state.phase}: {sent} requests, "
        f"{len(state.failures)} rule(s) found broken, {now - started:.0f} s"
    )
    left = api.budget_left()
    if left is not None:
        line += f", {left:.0f} s left of the time budget"
    state.on_event(Event("progress", line))


def _scrubbed(on_event: Callable[[Event], None], redactor: Redactor) -> Callable[[Event], None]:
    """``on_event`` fed scrubbed events; its errors are swallowed (an interrupt is not)."""

    def emit(event: Event) -> None:
        with contextlib.suppress(Exception):
            on_event(redactor.scrub_obj(event))

    return emit
