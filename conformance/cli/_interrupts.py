"""Ctrl-C and SIGTERM: how a run stops and cleans up, how ``serve`` stops, and why an
interrupt the run caught leaves the exit code standing."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from conformance.cli._common import Say

__all__ = ["forget_a_caught_interrupt"]


class Signals:
    """Ctrl-C and SIGTERM during a run.

    The first stops the run, which then deletes what it created; the second, during that
    clean-up, does not stop it (it says so); the third abandons the clean-up, and what is
    left is listed. Each time the client is told too, so the run stops at its next request
    even when the ``KeyboardInterrupt`` is swallowed on the way (Python drops one raised
    in a ``__del__`` or a gc callback)."""

    def __init__(self, target, say: Say) -> None:
        self.target = target
        self.say = say
        self.count = 0

    def __call__(self, signum: int, frame: object) -> None:
        self.count += 1
        self.target.api.interrupt()
        if self.count == 1 and not self.target.closing:
            raise KeyboardInterrupt  # the run stops and deletes what it created
        if self.count <= 2:
            further = "a third" if self.count == 2 else "another"
            self.count = 2
            self._tell(
                f"clean-up is finishing (deleting what the run created); {further} Ctrl-C "
                "abandons it"
            )
            return
        self._tell("clean-up abandoned; what is left on the target will be listed")
        self.target.abandon_cleanup()
        if self.target.closing:
            raise KeyboardInterrupt  # cut the DELETE under way short

    def _tell(self, text: str) -> None:
        with contextlib.suppress(RuntimeError, OSError):  # a write under way on the stream
            self.say(f"sms-conformance: {text}", err=True)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Handle SIGINT and SIGTERM inside the block; the old handlers come back after."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def forget_a_caught_interrupt() -> None:
    """Let the exit code stand after a Ctrl-C the run caught.

    CPython notes a ``KeyboardInterrupt`` that leaves code run from a string (``exec`` and
    ``eval`` of source text: dataclass and namedtuple set-up, Hypothesis's signature
    copies) as unhandled, even when a caller catches it; under ``python -m`` it then ends
    the process by SIGINT instead of with the exit code (``run_eval_code_obj`` in
    ``Python/pythonrun.c``). Each such run clears the note first, so an empty one does."""
    exec("")  # noqa: S102 - an empty string, for its side effect on that note


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM stops ``serve`` as Ctrl-C does (uvicorn catches both while it serves, shuts
    down, then raises the signal again: this makes that a ``KeyboardInterrupt``)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
