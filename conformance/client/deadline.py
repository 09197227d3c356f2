"""A request's total deadline (connect, headers and body together), and the thread that
keeps a dripping answer from holding the run past it."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

_T = TypeVar("_T")


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
