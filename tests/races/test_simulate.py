"""The simulator of concurrent runs of a spec, and the answer swap the benchmark uses."""

from __future__ import annotations

import random

from conformance.races.simulate import simulate, sms_programs, swap_answer
from conformance.races.sms_spec import SmsSpec


def test_a_simulated_run_keeps_each_branch_sequential_and_runs_every_operation() -> None:
    rng = random.Random(3)
    prefix, programs = sms_programs(rng, branches=3, length=8)
    history = simulate(SmsSpec(), programs, rng, prefix, lose=0.2)
    assert len(history) == len(prefix) + 3 * 8
    assert any(op.indeterminate for op in history)
    for process in range(3):
        mine = [op for op in history if op.process == process]
        assert [op.request for op in mine] == programs[process]
        for first, second in zip(mine, mine[1:], strict=False):
            assert first.invoke < second.invoke
            assert first.complete is None or first.complete < second.invoke


def test_swapping_an_answer_changes_one_answer_to_another_of_the_same_kind() -> None:
    for seed in range(20):
        rng = random.Random(seed)
        prefix, programs = sms_programs(rng, branches=3, length=8)
        history = simulate(SmsSpec(), programs, rng, prefix)
        swapped = swap_answer(rng, history)
        changed = [(a, b) for a, b in zip(history, swapped, strict=True) if a != b]
        assert len(changed) == 1
        for old, new in changed:
            assert old.request == new.request
            assert (old.invoke, old.complete) == (new.invoke, new.complete)
            kind = old.request.name
            assert new.answer in [op.answer for op in history if op.request.name == kind]
