"""Is a concurrent history linearizable against a sequential spec?

A history is linearizable when one sequential order of its operations, consistent with
real-time precedence (an operation answered before another was invoked comes first), has
the spec explain every answer. The search is Wing and Gong's, with Lowe's memoization, as
Porcupine (``checker.go``: ``checkSingle``) and Knossos (``wgl.clj``) do: depth first,
linearize any operation that no unlinearized operation precedes, step the spec, and never
enter twice a configuration (the set of operations linearized so far, the spec's state)
already explored; when nothing can go next, undo the last step and try the next candidate.

- **Nondeterminism.** ``Spec.step`` returns every state an operation may lead to (an SMS
  in ``outbox`` may or may not have been sent yet); the search carries the set of states the
  prefix may have led to (Porcupine's ``NondeterministicModel`` does the same power-set
  construction), so one branch of the search covers them all.
- **Indeterminate operations** (``complete`` None) may take effect at any point after their
  invoke, or never: they precede nothing, the spec steps them ignoring the answer, and the
  search ends once every *answered* operation is linearized (Knossos treats ``:info``
  operations this way). Where taking one in would change nothing (a lost read), the search
  leaves it out, so lost reads do not multiply the configurations.
- **Partitions** (P-compositionality, Porcupine's ``Partition``): a spec with ``keys(op)``
  says which independent keys an operation touches; operations are grouped by connected
  keys (an operation over several keys, such as a list, joins their groups) and each group
  is checked alone, from ``initial()`` (so a spec with keys must hold each key's state apart,
  every key at its initial value until an operation touches it). The history is linearizable
  iff every group is; the witness merges the groups' orders by real time.
- **Budget**: a step count and a time limit; running out answers ``unknown``, never hangs.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol, runtime_checkable

from conformance.races.history import Operation

__all__ = [
    "LINEARIZABLE",
    "MAX_DEAD_ENDS",
    "NOT_LINEARIZABLE",
    "UNKNOWN",
    "CheckResult",
    "DeadEnd",
    "Spec",
    "check",
]

Verdict = Literal["linearizable", "not linearizable", "unknown"]
LINEARIZABLE: Final = "linearizable"
NOT_LINEARIZABLE: Final = "not linearizable"
UNKNOWN: Final = "unknown"
MAX_DEAD_ENDS = 64  # deepest configurations a not-linearizable result keeps


class Spec(Protocol):
    """A sequential specification. States must be hashable (frozen dataclasses, tuples)."""

    def initial(self) -> Hashable:
        """The state before the history's first operation."""
        ...

    def step(self, state: Any, op: Operation, answer: Any) -> Iterable[Hashable]:
        """The states ``op`` may lead ``state`` to when it is answered ``answer``; none when
        that answer cannot come from that state. For an indeterminate ``op``, ``answer`` is
        None and ignored: the states the operation may lead to, whatever it answered."""
        ...


@runtime_checkable
class Partitioned(Protocol):
    """A spec whose operations on different keys are independent (P-compositional)."""

    def keys(self, op: Operation) -> Iterable[Hashable]:
        """The keys ``op`` reads or writes (none: it depends on no state)."""
        ...


@dataclass(frozen=True)
class DeadEnd:
    """One configuration the search could not leave, among the deepest it reached: the
    ``states`` the spec may be in there, and the operations that could go next by real
    time but whose answers the spec cannot explain (``blocked``), and every answered
    operation still to linearize (``pending``, in invoke order)."""

    blocked: tuple[Operation, ...]
    states: frozenset[Any]
    pending: tuple[Operation, ...] = ()  # every answered operation not linearized there


@dataclass(frozen=True)
class CheckResult:
    """The checker's answer.

    - ``linearizable``: ``order`` is one witness order (every answered operation, and the
      indeterminate ones it took to have taken effect).
    - ``not linearizable``: in the first group (partition) found not linearizable,
      ``prefix`` is the longest sequence of operations that could be linearized, ``states``
      what the spec may be in after it, and ``blocked`` the operations that could go next
      by real time but whose answers the spec cannot explain there: what a report shows.
      ``dead_ends`` holds every such configuration of the deepest the search reached (at
      most :data:`MAX_DEAD_ENDS`, in a fixed order): the same for a history whatever order
      the search tried things in (``prefix``, ``blocked`` and ``states`` are the first).
    - ``unknown``: the budget ran out (``steps`` taken, ``partitions`` checked so far).
    """

    verdict: Verdict
    order: tuple[Operation, ...] = ()
    prefix: tuple[Operation, ...] = ()
    blocked: tuple[Operation, ...] = ()
    states: frozenset[Any] = field(default_factory=frozenset)
    steps: int = 0
    partitions: int = 0
    dead_ends: tuple[DeadEnd, ...] = ()

    @property
    def linearizable(self) -> bool:
        return self.verdict == LINEARIZABLE

    def explain(self) -> str:
        """A few lines a report can print."""
        if self.verdict == LINEARIZABLE:
            return "linearizable; one order:\n" + "\n".join(f"  {op}" for op in self.order)
        if self.verdict == UNKNOWN:
            return f"unknown: budget spent after {self.steps} steps"
        lines = ["not linearizable; the longest prefix that linearizes:"]
        lines += [f"  {op}" for op in self.prefix] or ["  (none)"]
        lines.append("after which the spec may be in: " + " or ".join(map(str, self.states)))
        lines.append("and none of these can go next:")
        lines += [f"  {op}" for op in self.blocked]
        return "\n".join(lines)


class _OutOfBudget(Exception):
    pass


@dataclass
class _Budget:
    steps: int
    deadline: float
    taken: int = 0

    def spend(self) -> None:
        self.taken += 1
        if self.taken > self.steps or (self.taken % 256 == 0 and time.monotonic() > self.deadline):
            raise _OutOfBudget


def check(
    spec: Spec,
    history: Sequence[Operation],
    *,
    partition: bool = True,
    max_steps: int = 1_000_000,
    timeout: float = 10.0,
) -> CheckResult:
    """Check ``history`` against ``spec`` (see the module's docstring). ``partition``
    False checks the whole history as one group even when the spec has keys."""
    budget = _Budget(max_steps, time.monotonic() + timeout)
    # Small groups first: a violation in one is found before a large one spends the budget.
    groups = sorted(_groups(spec, history) if partition else [list(history)], key=len)
    orders: list[list[Operation]] = []
    for done, group in enumerate(groups):
        try:
            result = _check_group(spec, group, budget)
        except _OutOfBudget:
            return CheckResult(UNKNOWN, steps=budget.taken, partitions=done)
        if not result.linearizable:
            return CheckResult(
                result.verdict,
                prefix=result.prefix,
                blocked=result.blocked,
                states=result.states,
                steps=budget.taken,
                partitions=done + 1,
                dead_ends=result.dead_ends,
            )
        orders.append(list(result.order))
    return CheckResult(
        LINEARIZABLE, order=_merge(orders), steps=budget.taken, partitions=len(groups)
    )


def _groups(spec: Spec, history: Sequence[Operation]) -> list[list[Operation]]:
    """The history split into groups of operations over connected keys (union-find); one
    group when the spec has no keys. Operations keep their order within a group."""
    if not isinstance(spec, Partitioned):
        return [list(history)] if history else []
    parent: dict[Hashable, Hashable] = {}

    def find(key: Hashable) -> Hashable:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    keyed: list[tuple[Operation, Hashable | None]] = []
    for index, op in enumerate(history):
        keys = list(spec.keys(op))
        for other in keys[1:]:
            parent[find(other)] = find(keys[0])
        keyed.append((op, keys[0] if keys else ("no key", index)))
    groups: dict[Hashable, list[Operation]] = {}
    for op, key in keyed:
        groups.setdefault(find(key), []).append(op)
    return list(groups.values())


def _merge(orders: list[list[Operation]]) -> tuple[Operation, ...]:
    """One order of all groups' operations consistent with real time: each operation takes
    the latest of its invoke and its group predecessor's point (a time within its own
    window, since no predecessor was invoked after it completed), and points are sorted."""
    points = []
    for group, order in enumerate(orders):
        point = float("-inf")
        for position, op in enumerate(order):
            point = max(point, op.invoke)
            points.append((point, group, position, op))
    return tuple(op for *_, op in sorted(points, key=lambda item: item[:3]))


@dataclass
class _Frame:
    mask: int
    states: frozenset[Any]
    candidates: list[int]
    tried: int = 0


def _check_group(spec: Spec, ops: Sequence[Operation], budget: _Budget) -> CheckResult:
    order = sorted(range(len(ops)), key=lambda i: ops[i].invoke)
    answered = sum(1 << i for i, op in enumerate(ops) if not op.indeterminate)

    def candidates(mask: int) -> list[int]:
        """The unlinearized operations no unlinearized operation precedes."""
        earliest = min((ops[i].returned for i in order if not mask >> i & 1), default=0.0)
        return [i for i in order if not mask >> i & 1 and ops[i].invoke <= earliest]

    def step(states: frozenset[Any], i: int, spend: bool = True) -> frozenset[Any]:
        if spend:
            budget.spend()
        op = ops[i]
        answer = None if op.indeterminate else op.answer
        return frozenset(new for state in states for new in spec.step(state, op, answer))

    start = frozenset([spec.initial()])
    frames = [_Frame(0, start, candidates(0))]
    path: list[int] = []
    longest: list[int] = []
    seen: set[tuple[int, frozenset[Any]]] = set()
    while frames:
        frame = frames[-1]
        if frame.mask & answered == answered:
            return CheckResult(LINEARIZABLE, order=tuple(ops[i] for i in path))
        if frame.tried == len(frame.candidates):
            frames.pop()
            if path:
                path.pop()
            continue
        i = frame.candidates[frame.tried]
        frame.tried += 1
        states = step(frame.states, i)
        if not states or (ops[i].indeterminate and states == frame.states):
            # No answer to explain; or a lost operation that changes nothing here (a read):
            # leaving it out explains as much, and keeps it for later.
            continue
        mask = frame.mask | 1 << i
        if (mask, states) in seen:
            continue
        seen.add((mask, states))
        path.append(i)
        frames.append(_Frame(mask, states, candidates(mask)))
        if len(path) > len(longest):
            longest = list(path)
    # Not linearizable: replay the longest prefix along one of its state sets, and name the
    # operations that could go next there but that the spec cannot explain; then the same
    # at every configuration as deep (the search explored them all, whatever its order).
    states, mask = start, 0
    for i in longest:
        states, mask = step(states, i, spend=False), mask | 1 << i
    blocked = tuple(ops[i] for i in candidates(mask) if not step(states, i, spend=False))
    depth = len(longest)
    deepest = sorted(
        (config for config in seen if config[0].bit_count() == depth),
        key=lambda config: (config[0], sorted(map(str, config[1]))),
    )
    if not deepest:  # nothing could be linearized: the start is the one dead end
        deepest = [(0, start)]
    dead_ends = []
    for config_mask, config_states in deepest[:MAX_DEAD_ENDS]:
        stuck = tuple(
            ops[i] for i in candidates(config_mask) if not step(config_states, i, spend=False)
        )
        if stuck:
            left = tuple(ops[i] for i in order if answered >> i & 1 and not config_mask >> i & 1)
            dead_ends.append(DeadEnd(stuck, config_states, left))
    return CheckResult(
        NOT_LINEARIZABLE,
        prefix=tuple(ops[i] for i in longest),
        blocked=blocked,
        states=states,
        dead_ends=tuple(dead_ends),
    )
