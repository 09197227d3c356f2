"""Parallel workers (``run --workers N``): N independent state machines in one process.

Each worker is a thread with a target of its own (:attr:`Target.spawn`): its own client,
its own leads (it discovers its fixtures itself, or takes its share of ``--lead-id``), its
own :class:`~conformance.run_state.RunState` (seed, muted rules, tally, failures), and its
share of the profile's examples. Worker 0 works on the run's own target with the run's
seed; worker ``i`` on :func:`worker_seed`. A worker's run depends on its seed and its
target's answers only, never on how the threads interleave, so a seed still means one run.

What the workers share is their clients' :class:`~conformance.client.Crew`: one rate-limit
hold (against a remote target, one throttled worker makes every worker hold), one request
budget, one end (a worker that stops the run halts the others).

On the embedded server each worker's target is a reference server of its own, on a
virtual clock of its own: one shared virtual clock would be moved by every worker (each
example jumps it to noon of a new day, each due time is let pass at once), so one worker's
jump would send another's pending SMS in the middle of its example, and an example's
replay would meet another time of day than its first run: false alarms and flaky shrinks.
Private servers keep each worker's run as reproducible as a single run.

When every worker has finished (its rounds, or the schema phase), the coverage top-up
follows (:func:`top_up_in_workers`): what the state machines' tallies added up are short of
decides each top-up round's aims, as a single run's tally does, and the round runs on every
state machine at once, each on a seed derived from the round's (:func:`worker_seed`) with
its share of the round's examples. The tallies depend on the seed only, so the top-up does
too.

After the workers, :func:`merge` folds their findings into the run's state: tallies added
up, and per rule the failure of the lowest-numbered worker that found it (each failure's
transcript names its worker's own fixtures, and its message the worker and seed).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from conformance.client import Crew
from conformance.client.crew import Halted
from conformance.engine.rounds import _rounds_of, aiming, aiming_at, top_up_aims, top_up_seed
from conformance.events import Event
from conformance.judging import Tally
from conformance.profiles import Profile
from conformance.run_state import RunState
from conformance.target import ConfigurationError, GivenFixtures

__all__ = [
    "Worker",
    "add_tally",
    "merge",
    "run_workers",
    "spawn_workers",
    "told",
    "top_up_in_workers",
    "worker_seed",
    "worker_share",
]

_GOLDEN = 0x9E3779B97F4A7C15  # spreads the workers' seeds apart (Fibonacci hashing)
JOIN_POLL = 0.1  # seconds between the main thread's looks at an interrupt


def worker_seed(seed: int, index: int) -> int:
    """Worker ``index``'s seed: the run's own for worker 0, else one derived from it."""
    if index == 0:
        return seed
    return (seed + index * _GOLDEN) % 2**64


def worker_share(examples: int, index: int, count: int) -> int:
    """Worker ``index``'s share of ``examples`` shared out among ``count`` workers
    (together: ``examples``; each at least 1)."""
    return max(examples // count + (1 if index < examples % count else 0), 1)


def worker_profile(profile: Profile, index: int, count: int) -> Profile:
    """Worker ``index``'s share of the profile's examples per round (together: the
    profile's ``max_examples``; each at least 1)."""
    return dataclasses.replace(
        profile, max_examples=worker_share(profile.max_examples, index, count)
    )


def given_share(given: GivenFixtures, index: int, count: int) -> GivenFixtures:
    """Worker ``index``'s share of the leads the user named (every ``count``-th, with its
    ``--contact-id``); the other fixtures named are shared (they are only read)."""
    if not given.lead_ids:
        return given
    contacts = given.contact_ids
    return dataclasses.replace(
        given,
        lead_ids=given.lead_ids[index::count],
        contact_ids=tuple(contacts[i] for i in range(index, len(contacts), count)),
    )


@dataclasses.dataclass
class Worker:
    """One worker: its index, its run state (and through it its target), what stopped it."""

    index: int
    state: RunState
    error: BaseException | None = None
    # The schema worker runs the schema phase and the default-limit probe, on a target of
    # its own, while the others run the state machine (:func:`spawn_workers`).
    schema: bool = False


def spawn_workers(state: RunState, count: int, emit: Callable[[Event], None]) -> list[Worker]:
    """The run's workers: worker 0 on ``state`` (its target, its seed), the others on
    targets :attr:`Target.spawn` makes; every client joins one :class:`Crew`. Targets are
    not discovered yet (each worker does that itself).

    Unless the user named the leads (each worker takes its share of them), one more worker,
    the schema worker, runs the schema phase and the default-limit probe on a target of its
    own while the state machines run: at a distant server's latency those phases, one after
    the machine, took a quarter of a run's wall time."""
    target = state.target
    if target.spawn is None:
        raise ConfigurationError(f"--workers {count}: this target cannot be worked in parallel")
    given = target.given
    if given.lead_ids and len(given.lead_ids) < count:
        raise ConfigurationError(
            f"--workers {count} needs at least {count} --lead-id (each worker works on leads "
            f"of its own), got {len(given.lead_ids)}"
        )
    crew = Crew(target.clock, shared_rate_limit=not target.clock_can_jump)
    target.given = given_share(given, 0, count)
    crew.join(target.api)
    profile = state.profile
    state.profile = worker_profile(profile, 0, count)
    workers = [Worker(0, state)]
    for index in range(1, count + (0 if given.lead_ids else 1)):
        sibling = target.spawn(given_share(given, index, count) if index < count else given)
        crew.join(sibling.api)
        workers.append(
            Worker(
                index,
                RunState(
                    sibling,
                    worker_profile(profile, index, count) if index < count else profile,
                    worker_seed(state.seed, index) if index < count else state.seed,
                    told(emit, index),
                    state.strict,
                    excluded=state.excluded,
                    known=state.known,
                    muted=set(state.muted),
                    settle=state.settle,
                    schedule_seconds=state.schedule_seconds,
                ),
                schema=index == count,
            )
        )
    return workers


def told(emit: Callable[[Event], None], index: int) -> Callable[[Event], None]:
    """``emit`` for worker ``index``: its rounds and violations say which worker."""

    def tell(event: Event) -> None:
        if event.kind in ("round", "violation", "flaky"):
            event = dataclasses.replace(event, detail=f"worker {index}: {event.detail}")
        emit(event)

    return tell


def run_workers(workers: list[Worker], work: Callable[[RunState], None]) -> None:
    """Run ``work`` (discover the fixtures, then the state machine) for every worker, each
    on a thread of its own, and wait for them all. The first worker to stop the run halts
    the others (:meth:`Crew.halt`); an interrupt of the run's client (Ctrl-C) is passed on
    to every worker's. Then raises what stopped the run, if anything: the error of the
    lowest-numbered worker that was not merely halted by another."""
    main = workers[0].state.target.api
    crew = main.crew
    assert crew is not None

    def body(worker: Worker) -> None:
        try:
            work(worker.state)
        except BaseException as error:  # noqa: BLE001 - re-raised on the main thread
            worker.error = error
            if not isinstance(error, Halted):
                crew.halt(f"worker {worker.index} stopped: {type(error).__name__}")

    threads = [
        threading.Thread(target=body, args=(w,), name=f"sms-conformance-worker-{w.index}")
        for w in workers
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(JOIN_POLL)
                if main.interrupted:
                    for worker in workers:
                        worker.state.target.api.interrupt()
    except BaseException:
        for worker in workers:
            worker.state.target.api.interrupt()
        for thread in threads:
            thread.join()
        raise
    errors = [w.error for w in workers if w.error is not None]
    first = next((e for e in errors if not isinstance(e, Halted)), None)
    if first is not None:
        raise first
    if errors:
        raise errors[0]


def top_up_in_workers(
    state: RunState, machines: list[Worker], emit: Callable[[Event], None]
) -> None:
    """The coverage top-up (:func:`~conformance.engine.rounds.top_up`) of a run with
    workers, once every state machine (``machines``, worker 0 on ``state``) has finished
    its rounds: the same top-up rounds, each run on every state machine at once.

    What a round aims at is what the state machines' tallies added up are short of (the
    rules any of them mutes left out), fixed before the round starts; worker ``i`` runs it
    on :func:`worker_seed` of the round's seed with its share of ``top_up_examples``
    (:func:`worker_share`). The top-up stops, as a single run's does, when the state
    machines found the profile's ``max_failures`` rules broken between them, when one found
    the target flaky, when no aim reaches what is missing, or when its rounds are spent.
    Every decision depends on the workers' tallies only, each one per seed, so the run
    stays one per seed. ``emit`` tells each round's aims, once; what stops a worker stops
    the top-up (:func:`run_workers`)."""
    profile = state.profile  # worker 0's: its max_examples is a share, the rest the run's
    for worker in machines:
        worker.state.phase = "the coverage top-up"
    for number in range(1, profile.top_up_rounds + 1):
        tally = Tally()
        muted: set[str] = set()
        failed: set[str] = set()
        for worker in machines:
            add_tally(tally, worker.state.tally)
            muted |= worker.state.muted
            failed |= {failure.rule for failure in worker.state.failures}
        if len(failed) >= profile.max_failures or any(w.state.flaky for w in machines):
            return
        aims = top_up_aims(tally, muted, state.target)
        if not aims:
            return
        emit(aiming_at(number, aims))
        _top_up_round(machines, aims, top_up_seed(state.seed, number), profile.top_up_examples)


def _top_up_round(machines: list[Worker], aims: tuple[Any, ...], seed: int, examples: int) -> None:
    """One top-up round on every state machine at once, aimed at ``aims``: worker ``i`` on
    :func:`worker_seed` of ``seed``, with its share of ``examples``."""
    runs = {
        id(worker.state): (
            worker_seed(seed, worker.index),
            worker_share(examples, worker.index, len(machines)),
        )
        for worker in machines
    }

    def work(worker_state: RunState) -> None:
        base_seed, share = runs[id(worker_state)]
        with aiming(worker_state, aims):
            _rounds_of(worker_state, base_seed=base_seed, examples=share)

    run_workers(machines, work)


def merge(state: RunState, workers: list[Worker], count: int) -> None:
    """Fold the other workers' findings into ``state`` (worker 0's): tallies added up;
    failures per rule, the lowest-numbered worker's, its message naming the worker and
    its seed; notes and flakiness kept."""
    for worker in workers:
        found = worker.state.failures
        found[:] = [
            dataclasses.replace(
                f,
                message=f"{f.message} (found by "
                + ("the schema worker" if worker.schema else f"worker {worker.index} of {count}")
                + f", seed {worker.state.seed})",
            )
            for f in found
        ]
    failed = {failure.rule for failure in state.failures}
    for worker in workers[1:]:
        other = worker.state
        add_tally(state.tally, other.tally)
        for failure in other.failures:
            if failure.rule not in failed:
                failed.add(failure.rule)
                state.failures.append(failure)
        state.muted.update(other.muted)
        state.notes.extend(n for n in other.notes if n not in state.notes)
        state.flaky = state.flaky or other.flaky
        state.schema_requests += other.schema_requests


def add_tally(into: Tally, other: Tally) -> None:
    into.passed.update(other.passed)
    into.failed.update(other.failed)
    into.readings.update(other.readings)
    for rule, notes in other.observations.items():
        mine = into.observations[rule]
        mine.extend(n for n in notes if n not in mine)
    for rule, counts in other.boundaries.items():
        into.boundaries[rule].update(counts)
    into.steps += other.steps
    into.examples += other.examples
