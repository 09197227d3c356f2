"""Run profiles: how hard to look. ``quick`` for a smoke test, ``ci`` for a gate (under a
minute against the embedded server), ``deep`` for regression hunting.

Each profile describes itself (:meth:`Profile.describe`); ``run --help`` and the README show
those descriptions."""

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
    purpose: str = ""  # what the profile is for, and how long it takes, in a few words
    # Coverage top-up (conformance.engine.rounds.top_up): at most this many more rounds of
    # this many examples while a documented rule is judged too rarely or a boundary missed.
    top_up_rounds: int = 0
    top_up_examples: int = 0

    def describe(self) -> str:
        """What the profile is for and what it does, in one line."""
        schema = (
            f"schema phase: {', '.join(self.schema_phases)}, {self.schema_examples} examples "
            "per operation"
            if self.schema_examples
            else "no schema phase"
        )
        top_up = (
            f"; then up to {self.top_up_rounds} coverage top-up rounds of "
            f"{self.top_up_examples} examples, while a MUST/SHOULD rule is judged fewer than "
            "20 times or a listed boundary is missed"
            if self.top_up_rounds
            else ""
        )
        what = (
            f"state machine: {self.max_examples} examples of up to {self.steps} steps per "
            f"round, a new round after each violated rule, up to {self.max_failures}{top_up}; "
            f"{schema}"
        )
        return f"{self.purpose}; {what}" if self.purpose else what


PROFILES = {
    profile.name: profile
    for profile in (
        Profile(
            "quick",
            25,
            20,
            5,
            schema_examples=5,
            schema_phases=("examples",),
            purpose="a smoke test (seconds on the embedded server)",
        ),
        Profile(
            "ci",
            300,
            30,
            10,
            schema_examples=15,
            schema_phases=("examples", "coverage", "fuzzing"),
            purpose="the default, a CI gate (under a minute on the embedded server)",
            top_up_rounds=3,
            top_up_examples=50,
        ),
        Profile(
            "deep",
            1000,
            50,
            30,
            schema_examples=100,
            schema_phases=("examples", "coverage", "fuzzing", "stateful"),
            purpose="regression hunting (a few minutes on the embedded server)",
            top_up_rounds=5,
            top_up_examples=100,
        ),
    )
}
