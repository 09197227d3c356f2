"""The self-test on real time: the sending rules as a remote target meets them.

In-process, the state machine judges the sender on a virtual clock it jumps. Against a
remote server only the timing ledger (:mod:`conformance.ledger`) can: a handful of timed
SMS made at the start of a run and judged once due. Here each timing variant (a faulty
variant filed under an ``sms/send/`` rule) runs on a reference server on real time, served
on a loopback port and reached as any remote server is (``allow_send``, ``--grace``), with
the ledger alone (no state machine, no schema phase: what is proved is that the ledger
catches it, not the machine's luck); and the clean server the same way under every reading
of every open point, which must pass. The runs mostly wait for due times, so they run side
by side in threads, each with a server of its own.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from conformance.profiles import Profile

__all__ = ["LEDGER_ALONE", "RealTimeRow", "real_time_self_test", "timing_faults"]

# No state machine round, no schema phase, no probe: the timing ledger alone.
LEDGER_ALONE = Profile("timing ledger", 0, 0, 0, purpose="the timing ledger alone")
GRACE = 3.0  # seconds the loopback server's sender may lag (it runs on every request)
RUNS_AT_ONCE = 8  # threads: each run mostly sleeps until its SMS are due


@dataclass(frozen=True, slots=True)
class RealTimeRow:
    """One run on real time: a timing variant (``fault``) or the clean server (``None``)
    under ``readings``; the rules it failed."""

    fault: str | None
    expected_rule: str | None
    verdict: str
    rules: tuple[str, ...]
    seconds: float
    readings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """The clean server passed; a variant was caught by the rule it breaks."""
        if self.fault is None:
            return self.verdict == "pass"
        return self.verdict == "fail" and self.expected_rule in self.rules


def timing_faults(names: list[str] | None = None) -> list[str]:
    """The faulty variants of the sender (filed under an ``sms/send/`` rule), of ``names``
    when given."""
    from conformance.refserver import FAULTS

    return [
        name
        for name, fault in FAULTS.items()
        if fault.rule.startswith("sms/send/") and (names is None or name in names)
    ]


def _row(fault: str | None, readings: tuple[str, ...], seed: int) -> RealTimeRow:
    from conformance.engine import REMOTE_SETTLE, run_target
    from conformance.refserver import FAULTS
    from conformance.target.build import realtime_target

    began = time.monotonic()
    chosen = dict(reading.split("=", 1) for reading in readings)
    target = realtime_target(faults=[fault] if fault else [], readings=chosen, grace=GRACE)
    # A reading may lag reads behind writes (visibility): the settle window a remote run
    # has; on the defaults none, so a variant's failing read is not read again for a minute.
    settle = REMOTE_SETTLE if readings else 0.0
    result = run_target(target, profile=LEDGER_ALONE, seed_value=seed, strict=True, settle=settle)
    return RealTimeRow(
        fault,
        FAULTS[fault].rule if fault else None,
        result.verdict,
        tuple(sorted({failure.rule for failure in result.failures})),
        round(time.monotonic() - began, 2),
        readings,
    )


def real_time_self_test(
    faults: list[str], readings: list[tuple[str, ...]], seed: int = 1
) -> list[RealTimeRow]:
    """The clean server on real time on the default readings and under each set of
    ``readings``, and each of ``faults`` (timing variants) on the defaults."""
    runs = [(None, ()), *((None, chosen) for chosen in readings), *((f, ()) for f in faults)]
    with ThreadPoolExecutor(max_workers=RUNS_AT_ONCE) as pool:
        return list(pool.map(lambda run: _row(run[0], run[1], seed), runs))
