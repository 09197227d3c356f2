"""Run profiles: how hard to look. ``quick`` for a smoke test, ``ci`` for a gate (under a
minute against the embedded server), ``deep`` for regression hunting."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PROFILES", "Profile"]


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    max_examples: int  # state-machine examples per round
    steps: int  # at most this many steps per example
    max_failures: int  # rounds: stop after this many distinct violated rules
    schema_examples: int = 0  # schemathesis examples per operation (0: no schema phase)
    schema_phases: tuple[str, ...] = ()


PROFILES = {
    profile.name: profile
    for profile in (
        Profile("quick", 25, 20, 5, schema_examples=5, schema_phases=("examples",)),
        Profile(
            "ci", 300, 30, 10, schema_examples=15, schema_phases=("examples", "coverage", "fuzzing")
        ),
        Profile(
            "deep",
            1000,
            50,
            30,
            schema_examples=100,
            schema_phases=("examples", "coverage", "fuzzing", "stateful"),
        ),
    )
}
