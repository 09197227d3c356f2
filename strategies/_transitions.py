"""Status-transition steps for draft/scheduled/outbox life cycles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from strategies._dates import format_with_offset
from strategies._payloads import SCHEDULE_MAX_AHEAD, SCHEDULE_MIN_AHEAD
from strategies._texts import texts
from strategies._validation import check_aware, check_sizes

__all__ = ["TRANSITION_KINDS", "Transition", "transition_sequences", "transitions"]

TransitionKind = Literal["edit", "schedule", "send", "cancel", "wait", "delete"]

#: In shrink order: cancelling (a no-op on a draft) is the least eventful step.
TRANSITION_KINDS: tuple[TransitionKind, ...] = (
    "cancel",
    "edit",
    "schedule",
    "send",
    "wait",
    "delete",
)


@dataclass(frozen=True, slots=True)
class Transition:
    """One step applied to an existing SMS.

    - ``edit``: PUT ``{"text": text}``;
    - ``schedule``: PUT ``status=scheduled`` with ``date_scheduled`` ``seconds`` after
      the current time;
    - ``send``: PUT ``status=outbox``, with ``send_in`` when it is not ``None``;
    - ``cancel``: PUT ``status=draft``;
    - ``wait``: advance the clock by ``seconds`` (no request);
    - ``delete``: DELETE the SMS.
    """

    kind: TransitionKind
    seconds: int | None = None
    send_in: int | None = None
    text: str | None = None

    def body(self, now: datetime) -> dict[str, Any] | None:
        """The PUT body for this step at time ``now`` (aware); ``None`` for ``wait`` and
        ``delete``, which send no body."""
        check_aware("now", now)
        if self.kind == "edit":
            return {"text": self.text}
        if self.kind == "schedule":
            assert self.seconds is not None
            when = now + timedelta(seconds=self.seconds)
            return {"status": "scheduled", "date_scheduled": format_with_offset(when, 0)}
        if self.kind == "send":
            body: dict[str, Any] = {"status": "outbox"}
            if self.send_in is not None:
                body["send_in"] = self.send_in
            return body
        if self.kind == "cancel":
            return {"status": "draft"}
        return None


_MIN_AHEAD = int(SCHEDULE_MIN_AHEAD.total_seconds())
_MAX_AHEAD = int(SCHEDULE_MAX_AHEAD.total_seconds())


@st.composite
def _transitions(draw: st.DrawFn) -> Transition:
    kind = draw(st.sampled_from(TRANSITION_KINDS))
    if kind == "edit":
        return Transition(kind, text=draw(texts()))
    if kind == "schedule":
        # Mostly close enough for a few waits to reach it.
        ahead = st.integers(_MIN_AHEAD, _MIN_AHEAD + 600) | st.integers(_MIN_AHEAD, _MAX_AHEAD)
        return Transition(kind, seconds=draw(ahead))
    if kind == "send":
        return Transition(kind, send_in=draw(st.none() | st.integers(0, 59)))
    if kind == "wait":
        return Transition(kind, seconds=draw(st.integers(0, 120)))
    return Transition(kind)


def transitions() -> SearchStrategy[Transition]:
    """Returns a strategy which generates single :class:`Transition` steps: ``edit``
    (new text from :func:`texts`), ``schedule`` (5 minutes to 30 days ahead, usually
    within 15 minutes), ``send`` (optional ``send_in`` in ``0..59``), ``cancel``,
    ``wait`` (``0..120`` seconds) and ``delete``.

    Shrinks towards ``Transition("cancel")`` (a no-op on a draft), then ``edit`` with an
    empty text; parameters shrink towards the smallest delay and no ``send_in``.
    """
    return _transitions()


def transition_sequences(
    *, min_size: int = 0, max_size: int = 6
) -> SearchStrategy[list[Transition]]:
    """Returns a strategy which generates lists of ``min_size`` to ``max_size``
    :class:`Transition` steps to apply in order to one draft (steps after a ``delete``
    are expected to fail with 404; steps on a non-draft are expected to be refused).

    Shrinks towards fewer steps, then towards simpler steps as :func:`transitions` does.
    """
    check_sizes(min_size, max_size)
    return st.lists(transitions(), min_size=min_size, max_size=max_size)
