"""Rule coverage of a default run on several seeds (issue 13's goal: every MUST and SHOULD
rule judged at least 20 times, every listed boundary reached, on seeds 1-5).

Runs the ``ci`` profile against the embedded reference server once per seed and prints, per
seed, the verdict, the requests sent, the documented rules judged fewer than 20 times and the
listed boundaries not reached; then the same over all seeds.

    .venv/bin/python benchmarks/bench_coverage.py [--seed 1 --seed 2 ...] [--profile ci]
"""

from __future__ import annotations

import argparse
import time

from conformance.engine import run_target
from conformance.profiles import PROFILES
from conformance.records import ENOUGH_JUDGINGS, Coverage
from conformance.target import embedded_target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, action="append")
    parser.add_argument("--profile", default="ci", choices=sorted(PROFILES))
    args = parser.parse_args()
    seeds = args.seed or [1, 2, 3, 4, 5]
    short = 0
    for seed in seeds:
        started = time.perf_counter()
        report = run_target(embedded_target(), profile=PROFILES[args.profile], seed_value=seed)
        wall = time.perf_counter() - started
        coverage = Coverage.of(report.rules)
        checked = {rule.id: rule.checked for rule in report.rules}
        rare = [f"{rule} ({checked[rule]})" for rule in coverage.thin]
        unreached = [f"{rule}: {name}" for rule, name in coverage.unreached]
        short += bool(rare or unreached)
        print(
            f"seed {seed}: {report.verdict}, {report.stats.requests} requests, {wall:.1f} s; "
            f"under {ENOUGH_JUDGINGS}: {rare or 'none'}; "
            f"boundaries not reached: {unreached or 'none'}",
            flush=True,
        )
    print(f"{len(seeds) - short} of {len(seeds)} seeds meet the coverage goal")


if __name__ == "__main__":
    main()
