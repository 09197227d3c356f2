"""Histories made by running a spec itself, concurrently: what the checker must accept.

:func:`simulate` runs a sequential prefix, then branches whose operations interleave at
random; each operation takes effect atomically at one tick between its invoke and its
answer, picking one of the outcomes the spec allows, and its answer may be lost (the
operation then took effect or not). Every history it makes is linearizable by construction,
so the tests and the benchmark (benchmarks/bench_linearizability.py) can use them, and
mutate them. :func:`sms_programs` draws random SMS branches (pure: the caller's ``Random``).
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Protocol

from conformance.races import sms_spec as sms
from conformance.races.history import Operation

__all__ = ["Runnable", "simulate", "sms_programs", "swap_answer"]


class Runnable(Protocol):
    def initial(self) -> Hashable: ...

    def outcomes(
        self, state: Any, request: Any, now: float, since: float
    ) -> Iterable[tuple[Any, Hashable]]: ...


def simulate(
    spec: Runnable,
    branches: Sequence[Sequence[Any]],
    rng: random.Random,
    prefix: Sequence[Any] = (),
    lose: float = 0.0,
) -> list[Operation]:
    """Run ``prefix`` (process ``"prefix"``) one operation at a time, then ``branches``
    (processes 0, 1, ...) interleaved at random; each answer is lost with chance ``lose``."""
    clock = 0
    state = spec.initial()
    history: list[Operation] = []

    def effect(request: Any, invoke: float) -> Any:
        nonlocal state
        choices = list(spec.outcomes(state, request, clock, invoke))
        if not choices:
            raise ValueError(f"the spec cannot run {request!r} from {state!r}")
        answer, state = rng.choice(choices)
        return answer

    for request in prefix:
        invoke, clock = clock, clock + 1
        answer = effect(request, invoke)
        clock += 1
        history.append(Operation("prefix", invoke, clock, request, answer))
    # Per branch: the index of its next operation, and the phase it is in (0 to invoke, 1 to
    # take effect, 2 to answer), its invoke time and its answer.
    progress: dict[int, list[Any]] = {p: [0, 0, 0, None] for p in range(len(branches))}
    while progress:
        process = rng.choice(sorted(progress))
        entry = progress[process]
        index, phase = entry[0], entry[1]
        request = branches[process][index]
        clock += 1
        if phase == 0:
            entry[1:] = [1, clock, None]
            continue
        if phase == 1:
            if rng.random() < lose / 2:  # lost before it took effect: it never did
                history.append(Operation(process, entry[2], None, request, None))
                entry[:] = [index + 1, 0, 0, None]
            else:
                entry[1], entry[3] = 2, effect(request, entry[2])
        else:
            lost = rng.random() < lose / 2
            answer = None if lost else entry[3]
            history.append(Operation(process, entry[2], None if lost else clock, request, answer))
            entry[:] = [index + 1, 0, 0, None]
        if entry[0] == len(branches[process]):
            del progress[process]
    return history


def sms_programs(
    rng: random.Random, branches: int = 3, length: int = 5, shared: int = 2
) -> tuple[list[sms.SmsRequest], list[list[sms.SmsRequest]]]:
    """A prefix creating ``shared`` drafts, and ``branches`` random branches of ``length``
    SMS operations on them (and on SMS a branch creates). Due times fall within the run."""
    ids = [f"s{n}" for n in range(shared)]
    prefix = [sms.create(sms_id, "draft", "t0") for sms_id in ids]
    horizon = len(prefix) * 2 + branches * length * 3
    programs = []
    for branch in range(branches):
        program = []
        for k in range(length):
            sms_id = rng.choice(ids)
            kind = rng.choices(
                ["get", "edit", "schedule", "outbox", "cancel", "delete", "list", "create"],
                weights=[4, 4, 2, 2, 3, 1, 2, 1],
            )[0]
            if kind == "get":
                program.append(sms.get(sms_id))
            elif kind == "edit":
                program.append(sms.put(sms_id, text=f"t{branch}.{k}"))
            elif kind == "schedule":
                due = float(rng.randrange(horizon))
                program.append(sms.put(sms_id, status="scheduled", date_scheduled=due))
            elif kind == "outbox":
                program.append(sms.put(sms_id, status="outbox"))
            elif kind == "cancel":
                program.append(sms.put(sms_id, status="draft"))
            elif kind == "delete":
                program.append(sms.delete(sms_id))
            elif kind == "list":
                program.append(sms.list_ids(*rng.sample(ids, rng.randint(1, len(ids)))))
            else:
                new = f"c{branch}.{k}"
                status = rng.choice(["draft", "outbox", "sent"])
                program.append(sms.create(new, status, f"n{branch}.{k}"))
                ids.append(new)
        programs.append(program)
    return prefix, programs


def swap_answer(rng: random.Random, history: Sequence[Operation]) -> list[Operation]:
    """``history`` with one answer replaced by a different answer another operation of the
    same kind got (a plausible mistake: often not linearizable, sometimes still explained);
    unchanged when no operation has such an answer to take."""
    answered = [op for op in history if not op.indeterminate]

    def others(op: Operation) -> list[Any]:
        kind = getattr(op.request, "name", None)
        found = [o.answer for o in answered if getattr(o.request, "name", None) == kind]
        return [answer for answer in found if answer != op.answer]

    choices = [n for n, op in enumerate(history) if not op.indeterminate and others(op)]
    if not choices:
        return list(history)
    n = rng.choice(choices)
    old = history[n]
    changed = Operation(old.process, old.invoke, old.complete, old.request, rng.choice(others(old)))
    return [*history[:n], changed, *history[n + 1 :]]
