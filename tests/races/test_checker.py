"""The linearizability checker on registers: the classic cases (Porcupine's and Knossos's
kind), indeterminate operations, nondeterministic specs, partitions, the budget, and
properties over histories recorded from concurrent runs of a spec itself."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.races.checker import LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN, check
from conformance.races.history import Operation, Request, precedes
from conformance.races.simulate import simulate

from .brute import brute_force, is_witness


class Register:
    """One register holding an int, 0 at first: write(v) answers "ok", read answers v."""

    def initial(self) -> int:
        return 0

    def outcomes(self, state: int, request: Request, now: float, since: float) -> Iterator:
        if request.name == "write":
            yield "ok", request.args
        else:
            yield state, state

    def step(self, state: int, op: Operation, answer: Any) -> Iterator[int]:
        for shown, new in self.outcomes(state, op.request, op.returned, op.invoke):
            if op.indeterminate or shown == answer:
                yield new


class LossyRegister(Register):
    """A nondeterministic register: a write answered "ok" may or may not have been kept."""

    def outcomes(self, state: int, request: Request, now: float, since: float) -> Iterator:
        yield from super().outcomes(state, request, now, since)
        if request.name == "write":
            yield "ok", state


class Registers:
    """Independent registers by key (args = (key, value) for a write, key for a read)."""

    def initial(self) -> tuple[tuple[str, int], ...]:
        return ()

    def keys(self, op: Operation) -> list[str]:
        args = op.request.args
        return [args[0] if op.request.name == "write" else args]

    def outcomes(self, state: tuple, request: Request, now: float, since: float) -> Iterator:
        values = dict(state)
        if request.name == "write":
            key, value = request.args
            yield "ok", tuple(sorted({**values, key: value}.items()))
        else:
            yield values.get(request.args, 0), state

    def step(self, state: tuple, op: Operation, answer: Any) -> Iterator[tuple]:
        for shown, new in self.outcomes(state, op.request, op.returned, op.invoke):
            if op.indeterminate or shown == answer:
                yield new


def write(process: Any, invoke: float, complete: float | None, value: int) -> Operation:
    return Operation(process, invoke, complete, Request("write", value), "ok")


def read(process: Any, invoke: float, complete: float | None, value: Any) -> Operation:
    return Operation(process, invoke, complete, Request("read"), value)


def test_a_read_overlapping_a_write_may_see_the_old_or_the_new_value() -> None:
    for seen in (0, 1):
        history = [write(0, 0, 10, 1), read(1, 5, 15, seen)]
        assert check(Register(), history).verdict == LINEARIZABLE


def test_a_read_answered_before_the_write_was_invoked_cannot_see_its_value() -> None:
    history = [read(1, 0, 5, 1), write(0, 10, 20, 1)]
    result = check(Register(), history)
    assert result.verdict == NOT_LINEARIZABLE
    assert result.blocked == (history[0],)
    assert result.prefix == ()


def test_once_a_read_saw_the_new_value_a_later_read_cannot_see_the_old_one() -> None:
    # Knossos's and Porcupine's classic: both reads overlap the write, but not each other.
    history = [write(0, 0, 100, 1), read(1, 10, 20, 1), read(2, 30, 40, 0)]
    result = check(Register(), history)
    assert result.verdict == NOT_LINEARIZABLE
    assert history[2] in result.blocked
    swapped = [write(0, 0, 100, 1), read(1, 10, 20, 0), read(2, 30, 40, 1)]
    assert check(Register(), swapped).verdict == LINEARIZABLE


def test_overlapping_writes_may_be_ordered_either_way() -> None:
    for last in (1, 2):
        history = [write(0, 0, 10, 1), write(1, 0, 10, 2), read(2, 11, 12, last)]
        result = check(Register(), history)
        assert result.verdict == LINEARIZABLE
        assert result.order[-1] == history[2]
    history = [write(0, 0, 10, 1), write(1, 0, 10, 2), read(2, 11, 12, 3)]
    assert check(Register(), history).verdict == NOT_LINEARIZABLE


def test_a_write_answered_before_another_was_invoked_is_ordered_first() -> None:
    history = [write(0, 0, 10, 1), write(1, 11, 20, 2), read(2, 21, 30, 1)]
    result = check(Register(), history)
    assert result.verdict == NOT_LINEARIZABLE
    assert [op.request.args for op in result.prefix] == [1, 2]
    assert result.states == frozenset({2})
    assert "none of these can go next" in result.explain()


def test_the_witness_order_keeps_real_time_precedence() -> None:
    history = [
        write(0, 0, 10, 1),
        read(1, 2, 4, 0),
        write(1, 5, 30, 2),
        read(0, 11, 12, 1),
        read(2, 31, 40, 2),
    ]
    result = check(Register(), history)
    assert result.verdict == LINEARIZABLE
    assert sorted(result.order, key=id) == sorted(history, key=id)
    position = {id(op): n for n, op in enumerate(result.order)}
    for first, second in itertools.permutations(history, 2):
        if precedes(first, second):
            assert position[id(first)] < position[id(second)]


def test_an_indeterminate_write_may_take_effect_or_not() -> None:
    lost = write(0, 0, None, 1)
    assert check(Register(), [lost, read(1, 100, 101, 1)]).verdict == LINEARIZABLE
    result = check(Register(), [lost, read(1, 100, 101, 0)])
    assert result.verdict == LINEARIZABLE
    assert result.order == (read(1, 100, 101, 0),)  # it did not take effect


def test_an_indeterminate_write_may_take_effect_at_any_time_after_its_invoke() -> None:
    lost = write(0, 0, None, 1)
    late = [lost, read(1, 100, 101, 0), read(2, 200, 201, 1)]
    assert check(Register(), late).verdict == LINEARIZABLE
    undone = [lost, read(1, 100, 101, 1), read(2, 200, 201, 0)]
    assert check(Register(), undone).verdict == NOT_LINEARIZABLE
    early = [read(1, 0, 5, 1), write(0, 10, None, 1)]
    assert check(Register(), early).verdict == NOT_LINEARIZABLE


def test_reads_whose_answers_were_lost_cost_the_search_nothing() -> None:
    # Each lost read could go anywhere; taken in, it changes nothing, so the search leaves
    # it out instead of trying every subset of them.
    lost = [read(10 + p, 0, None, None) for p in range(16)]
    stale = [write(0, 0, 10, 1), read(1, 20, 30, 0)]
    result = check(Register(), [*lost, *stale])
    assert result.verdict == NOT_LINEARIZABLE
    assert result.steps < 100
    fine = check(Register(), [*lost, write(0, 0, 10, 1), read(1, 20, 30, 1)])
    assert fine.verdict == LINEARIZABLE
    assert all(not op.indeterminate for op in fine.order)


def test_a_nondeterministic_spec_explains_what_a_deterministic_one_cannot() -> None:
    history = [write(0, 0, 10, 1), read(1, 20, 30, 0), write(0, 40, 50, 2), read(1, 60, 70, 2)]
    assert check(Register(), history).verdict == NOT_LINEARIZABLE
    assert check(LossyRegister(), history).verdict == LINEARIZABLE
    # The set of states it carries still rules out values no branch could hold.
    wrong = [*history[:3], read(1, 60, 70, 1)]
    result = check(LossyRegister(), wrong)
    assert result.verdict == NOT_LINEARIZABLE
    assert result.states == frozenset({0, 2})


def kv(process: Any, invoke: float, complete: float | None, name: str, args: Any, answer: Any):
    return Operation(process, invoke, complete, Request(name, args), answer)


def test_partitions_check_keys_apart_and_find_a_violation_in_any_of_them() -> None:
    history = [
        kv(0, 0, 10, "write", ("x", 1), "ok"),
        kv(1, 0, 10, "write", ("y", 2), "ok"),
        kv(2, 11, 12, "read", "x", 1),
        kv(2, 13, 14, "read", "y", 0),  # y was written before: a stale read
    ]
    partitioned = check(Registers(), history)
    assert partitioned.verdict == NOT_LINEARIZABLE
    assert partitioned.blocked == (history[3],)
    assert check(Registers(), history, partition=False).verdict == NOT_LINEARIZABLE
    fine = check(Registers(), history[:3])
    assert fine.verdict == LINEARIZABLE and fine.partitions == 2
    assert set(fine.order) == set(history[:3]) and fine.order[-1] == history[2]


def test_the_budget_answers_unknown_rather_than_searching_on() -> None:
    # Twelve overlapping writes of distinct values and a read of a value none wrote: the
    # search must try every order of the writes before it can say no.
    history = [write(p, 0, 100, p + 1) for p in range(12)] + [read(99, 101, 102, 0)]
    assert check(Register(), history, max_steps=200).verdict == UNKNOWN
    assert check(Register(), history, timeout=0.0, max_steps=10**9).verdict == UNKNOWN
    assert check(Register(), history[:4] + history[-1:]).verdict == NOT_LINEARIZABLE


def register_history(rng: random.Random, spec: Any, size: int, lose: float) -> list[Operation]:
    if isinstance(spec, Registers):
        branches = [
            [
                Request("write", (rng.choice("xy"), rng.randint(1, 3)))
                if rng.random() < 0.5
                else Request("read", rng.choice("xy"))
                for _ in range(size)
            ]
            for _ in range(3)
        ]
    else:
        branches = [
            [
                Request("write", rng.randint(1, 3)) if rng.random() < 0.5 else Request("read")
                for _ in range(size)
            ]
            for _ in range(3)
        ]
    return simulate(spec, branches, rng, lose=lose)


def mutated(rng: random.Random, history: list[Operation]) -> list[Operation]:
    """The history with one operation changed: a read's answer, or the value a write says
    it wrote."""
    answered = [n for n, op in enumerate(history) if not op.indeterminate]
    if not answered:
        return history
    n = rng.choice(answered)
    op = history[n]
    request, answer = op.request, op.answer
    if request.name == "read":
        answer = rng.choice([0, 1, 2, 3])
    elif isinstance(request.args, tuple):
        request = Request("write", (request.args[0], rng.randint(1, 3)))
    else:
        request = Request("write", rng.randint(1, 3))
    changed = Operation(op.process, op.invoke, op.complete, request, answer)
    return [*history[:n], changed, *history[n + 1 :]]


SPECS = st.sampled_from([Register(), LossyRegister(), Registers()])


@settings(max_examples=60, deadline=None)
@given(SPECS, st.randoms(use_true_random=False), st.integers(1, 6), st.sampled_from([0.0, 0.3]))
def test_every_history_of_a_concurrent_run_of_the_spec_is_linearizable(
    spec: Any, rng: random.Random, size: int, lose: float
) -> None:
    history = register_history(rng, spec, size, lose)
    result = check(spec, history)
    assert result.verdict == LINEARIZABLE, result.explain()
    assert is_witness(result.order, history)
    assert check(spec, history, partition=False).verdict == LINEARIZABLE


@settings(max_examples=80, deadline=None)
@given(SPECS, st.randoms(use_true_random=False), st.integers(1, 2), st.sampled_from([0.0, 0.3]))
def test_a_history_with_one_answer_changed_is_flagged_exactly_when_no_order_explains_it(
    spec: Any, rng: random.Random, size: int, lose: float
) -> None:
    history = mutated(rng, register_history(rng, spec, size, lose))
    expected = brute_force(spec, history)
    result = check(spec, history)
    assert result.linearizable == expected, result.explain()
    assert check(spec, history, partition=False).linearizable == expected
    if not expected:
        assert result.blocked, "a violation names the operations that cannot go next"


def _ends(result: Any) -> set:
    return {(frozenset(map(str, end.blocked)), end.states, frozenset(map(str, end.pending)))
            for end in result.dead_ends}  # fmt: skip


def test_every_deepest_dead_end_is_kept_whatever_order_the_search_tries_things_in():
    # Two overlapping writes, then a read of neither value: stuck after either order of the
    # writes, with the read blocked. The first dead end met depends on the order the
    # operations are given in; the set of dead ends does not.
    ops = [write(0, 0, 5, 1), write(1, 0, 5, 2), read(2, 6, 7, 3)]
    results = [check(Register(), order) for order in itertools.permutations(ops)]
    assert all(result.verdict == NOT_LINEARIZABLE for result in results)
    assert {result.states for result in results} == {frozenset({1}), frozenset({2})}
    ends = [_ends(result) for result in results]
    assert all(found == ends[0] for found in ends)
    assert {states for _, states, _ in ends[0]} == {frozenset({1}), frozenset({2})}
    assert all(blocked == {str(ops[2])} for blocked, _, _ in ends[0])
    assert all(pending == {str(ops[2])} for _, _, pending in ends[0])


def test_a_dead_end_lists_every_answered_operation_still_to_come():
    ops = [write(0, 0, 1, 1), read(1, 2, 3, 5), read(1, 4, 5, 1), write(0, 6, None, 7)]
    result = check(Register(), ops)
    (end,) = result.dead_ends
    assert end.blocked == (ops[1],) and end.pending == (ops[1], ops[2])
    assert check(Register(), ops[:1]).dead_ends == ()  # linearizable: none
