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


PROFILES = {
    profile.name: profile
    for profile in (
        Profile("quick", max_examples=25, steps=20, max_failures=5),
        Profile("ci", max_examples=120, steps=30, max_failures=10),
        Profile("deep", max_examples=1000, steps=50, max_failures=30),
    )
}
