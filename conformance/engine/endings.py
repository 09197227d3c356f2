"""A run that ends early (an abort, a budget spent, a crash, an interrupt) and its
clean-up: the reason it gives, what was left behind and the command that removes it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.client import Interrupted, RunAborted
from conformance.run_state import RunState
from conformance.target import Target

_SHOWN_LEFTOVERS = 10  # leftovers named in the reason; the report lists them all


@dataclass
class _Ending:
    """How the run ended, when it ended early: ``reason`` for an abort or a crash,
    ``interrupted`` for Ctrl-C or SIGTERM, ``cleanup`` when clean-up itself broke."""

    reason: str | None = None
    interrupted: bool = False
    cleanup: str | None = None
    spent: bool = False  # a budget (--max-requests, the time bound) ran out


def _not_reached(state: RunState) -> str:
    """Where a run whose budget ran out stopped, and the phases it never got to."""
    phases = [
        "the state machine",
        "the coverage top-up",
        "the schema phase",
        "the default-limit probe",
    ]
    if not state.profile.schema_examples:
        phases.remove("the schema phase")
    if not state.profile.top_up_rounds:
        phases.remove("the coverage top-up")
    if state.phase in ("setting up the fixtures", "opening the timing ledger"):
        return f" while {state.phase}; not reached: " + ", ".join(phases)
    if state.phase == "the races":  # --races: the last phase
        return " during the races"
    if state.phase not in phases:  # judging the ledger, after a phase this cannot name
        return f" while {state.phase}"
    rest = phases[phases.index(state.phase) + 1 :]
    return f" during {state.phase}; not reached: " + (", ".join(rest) or "its end")


def _last_request(api: Any) -> str | None:
    """The last request the client sent (``GET lead/x/``), if any."""
    request = getattr(api, "last_request", None)
    return None if request is None else f"{request.method} {request.path}"


def _crash_reason(error: BaseException, phase: str, last_request: str | None) -> str:
    """Why the run stopped on an exception nothing expected: what, where, after what."""
    what = _one_line(str(error)) or "(no message)"
    if isinstance(error, RecursionError):
        what = f"{what} (an answer nested too deeply?)"
    after = f"last request: {last_request}" if last_request else "before any request"
    return (
        f"the run could not handle an answer: {type(error).__name__}: {what} "
        f"(during {phase}; {after})"
    )


def _close(target: Target, ending: _Ending) -> None:
    """Clean up, whatever happens: a failing or interrupted clean-up is noted, not raised."""
    try:
        target.close()
    except (KeyboardInterrupt, Interrupted):
        ending.interrupted = True
        ending.cleanup = "clean-up was interrupted"
    except (Exception, RunAborted) as error:  # noqa: BLE001 - the report must still be made
        ending.cleanup = f"clean-up stopped: {type(error).__name__}: {_one_line(str(error))}"


def _leftovers(target: Target, ending: _Ending) -> list[str]:
    """The paths clean-up could not delete (``target.leftovers``); when clean-up itself
    broke, also whatever it had not got to (``target.created``)."""
    leftovers = [str(path) for path in getattr(target, "leftovers", None) or ()]
    if ending.cleanup:
        leftovers += [str(p) for p in getattr(target, "created", ()) if str(p) not in leftovers]
    return leftovers


def _leftover_note(leftovers: list[str], command: str | None) -> str | None:
    if not leftovers:
        return None
    shown = ", ".join(leftovers[:_SHOWN_LEFTOVERS])
    if len(leftovers) > _SHOWN_LEFTOVERS:
        shown += f" and {len(leftovers) - _SHOWN_LEFTOVERS} more"
    note = f"clean-up left {len(leftovers)} item(s) behind: {shown}"
    return f"{note}; remove them with: {command}" if command else note


def _cleanup_command(target: Target, leftovers: list[str]) -> str | None:
    """The command that removes a remote run's leftovers; None when nothing is left (or the
    target is the embedded server, gone with the process)."""
    if not leftovers or target.embedded:
        return None
    return (
        f"sms-conformance cleanup --base-url {shlex.quote(_public_url(target))} "
        f"--run-id {shlex.quote(_run_id(target))}"
    )


def _run_id(target: Target) -> str:
    return str(getattr(target, "run_id", "") or "")


def _one_line(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _public_url(target: Target) -> str:
    """The target's base URL, without userinfo (which never belongs in a report)."""
    url = httpx.URL(str(target.api.http.base_url))
    if url.userinfo:
        url = url.copy_with(userinfo=b"")
    return str(url).rstrip("/")
