"""The self-test's report: the kill matrix (one :class:`Kill` per faulty variant), the
clean runs, the races' rows, and the summary that says whether the suite caught every bug
without false alarms.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Kill:
    """One faulty variant's row of the kill matrix."""

    fault: str
    expected_rule: str
    caught: bool
    rule: str | None
    steps: int | None
    minimal_steps: int | None
    seconds: float
    schema_rules: tuple[str, ...] | None = None  # None: the profile has no schema phase
    readings: tuple[str, ...] = ()  # POINT=ALT: the run was under these non-default readings
    # Its first failure replayed (sms-conformance replay): the verdict on the variant, then
    # on the clean server ("reproduced", "fixed"); None when not replayed.
    replay: tuple[str, str] | None = None
    seed: int = 1  # the run's seed

    @property
    def replays_as_it_should(self) -> bool:
        """Reproduced on its variant and fixed on the clean server (a failure without a
        symptom to look for, "cannot-tell" on both, is not counted against it)."""
        return self.replay in (("reproduced", "fixed"), ("cannot-tell", "cannot-tell"))

    @property
    def caught_by_schema_phase(self) -> bool:
        return bool(self.schema_rules)

    @property
    def right_rule(self) -> bool:
        return self.rule == self.expected_rule

    @property
    def extra_steps(self) -> int | None:
        if self.steps is None or self.minimal_steps is None:
            return None
        return self.steps - self.minimal_steps


@dataclass(frozen=True, slots=True)
class CleanRun:
    """A run against the clean server: on the default readings, or (the specificity matrix)
    under ``readings``, non-default readings of the docs' open points (``POINT=ALT``)."""

    seed: int
    verdict: str
    failures: tuple[str, ...]
    seconds: float
    readings: tuple[str, ...] = ()


@dataclass
class SelfTestReport:
    seeds: tuple[int, ...]
    profile: str
    clean: list[CleanRun] = field(default_factory=list)
    kills: list[Kill] = field(default_factory=list)
    kills_under_readings: list[Kill] = field(default_factory=list)
    seconds: float = 0.0
    kill_seeds: tuple[int, ...] = ()  # the seeds every variant ran on (default: the first)
    # How the runs and replays reached the embedded server: its ASGI app in-process, or
    # the same server on its virtual clock served by uvicorn on a loopback port.
    transport: str = "in-process"
    # The races' rows (conformance.races.run.SelfTestRow): the clean server's histories and
    # each race variant's; None when the self-test ran without them (--no-races).
    races: list[Any] | None = None
    # The timing variants and the clean server on real time, the ledger alone
    # (conformance.selftest.realtime.RealTimeRow); None when not run (--no-real-time).
    real_time: list[Any] | None = None

    @property
    def false_alarms(self) -> int:
        return sum(run.verdict != "pass" for run in self.clean)

    @property
    def specificity_runs(self) -> list[CleanRun]:
        return [run for run in self.clean if run.readings]

    @property
    def missed(self) -> list[str]:
        several = len(self.kill_seeds) > 1
        missed = [
            f"{kill.fault} (seed {kill.seed})" if several else kill.fault
            for kill in self.kills
            if not kill.caught
        ]
        return missed + [
            f"{kill.fault} (under {' '.join(kill.readings)})"
            for kill in self.kills_under_readings
            if not kill.caught
        ]

    @property
    def races_ok(self) -> bool:
        """Every race row as it should be: the clean server passes, each variant is caught."""
        return all(row.ok for row in self.races or ())

    @property
    def real_time_ok(self) -> bool:
        """Every real-time row as it should be: the clean server passes, each timing
        variant is caught by the rule it breaks."""
        return all(row.ok for row in self.real_time or ())

    @property
    def ok(self) -> bool:
        return not self.false_alarms and not self.missed and self.races_ok and self.real_time_ok

    def summary(self) -> dict[str, object]:
        caught = [kill for kill in self.kills if kill.caught]
        times = [kill.seconds for kill in caught]
        extra = [kill.extra_steps for kill in caught if kill.extra_steps is not None]
        return {
            "variants": len({kill.fault for kill in self.kills}),
            "kill_seeds": list(self.kill_seeds),
            "kill_runs": len(self.kills),
            "caught": len(caught),
            "kill_rate": round(len(caught) / len(self.kills), 4) if self.kills else None,
            "named_expected_rule": sum(kill.right_rule for kill in caught),
            "false_alarms": self.false_alarms,
            "clean_seeds": list(self.seeds),
            "caught_under_other_readings": (
                sum(kill.caught for kill in self.kills_under_readings)
                if self.kills_under_readings
                else None
            ),
            "runs_under_other_readings": len(self.specificity_runs),
            "false_alarms_under_other_readings": sum(
                run.verdict != "pass" for run in self.specificity_runs
            ),
            "median_seconds_to_catch": round(statistics.median(times), 2) if times else None,
            "worst_seconds_to_catch": round(max(times), 2) if times else None,
            "caught_by_schema_phase_alone": (
                sum(kill.caught_by_schema_phase for kill in self.kills)
                if any(kill.schema_rules is not None for kill in self.kills)
                else None
            ),
            "replayed": sum(kill.replay is not None for kill in caught),
            "replays_reproduced_and_fixed": sum(
                kill.replay == ("reproduced", "fixed") for kill in caught
            ),
            "replays_without_a_symptom": sum(
                kill.replay == ("cannot-tell", "cannot-tell") for kill in caught
            ),
            "median_extra_steps": statistics.median(extra) if extra else None,
            "worst_extra_steps": max(extra) if extra else None,
            "seconds": round(self.seconds, 1),
            **self._race_summary(),
            **self._real_time_summary(),
        }

    def _real_time_summary(self) -> dict[str, object]:
        if self.real_time is None:
            return {}
        variants = [row for row in self.real_time if row.fault is not None]
        clean = [row for row in self.real_time if row.fault is None]
        return {
            "real_time_variants": len(variants),
            "real_time_caught": sum(row.ok for row in variants),
            "real_time_clean_runs": len(clean),
            "real_time_false_alarms": sum(not row.ok for row in clean),
        }

    def _race_summary(self) -> dict[str, object]:
        if self.races is None:
            return {}
        variants = [row for row in self.races if row.fault is not None]
        sizes = [row.shrunk_size for row in variants if row.shrunk_size is not None]
        return {
            "race_variants": len(variants),
            "race_variants_caught": sum(row.ok for row in variants),
            "race_named_expected_rule": sum(bool(row.names_its_rule) for row in variants),
            "race_false_alarms": sum(not row.ok for row in self.races if row.fault is None),
            "race_clean_histories": sum(row.histories for row in self.races if row.fault is None),
            "race_worst_shrunk_size": max(sizes) if sizes else None,
        }

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "transport": self.transport,
            "summary": self.summary(),
            "clean": [asdict(run) for run in self.clean],
            "kills": [
                {
                    **asdict(kill),
                    "right_rule": kill.right_rule,
                    "extra_steps": kill.extra_steps,
                    "caught_by_schema_phase": kill.caught_by_schema_phase,
                    "replays_as_it_should": kill.replays_as_it_should,
                }
                for kill in self.kills
            ],
            "kills_under_readings": [asdict(kill) for kill in self.kills_under_readings],
            **({} if self.races is None else {"races": [asdict(row) for row in self.races]}),
            **(
                {}
                if self.real_time is None
                else {"real_time": [{**asdict(row), "ok": row.ok} for row in self.real_time]}
            ),
        }

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        return path
