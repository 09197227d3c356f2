"""What the linearizability checker costs, and how it grows with branch length.

Draws random SMS histories of 3 branches x N operations (after a prefix creating two
drafts), recorded from concurrent runs of the SMS spec itself (linearizable by
construction; a tenth of the answers lost), and the same histories with one answer swapped
for another operation's (mostly not linearizable: the search must exhaust its options).
Checks each with the SMS spec, partitioned by SMS id and not, and prints the time per
history (mean, median, worst: a busy machine shows in the worst), the search steps (the
work, whatever the machine), the time per step, the verdicts, and the growth from one N to
the next. Pure CPU, no server.

    .venv/bin/python benchmarks/bench_linearizability.py [--histories 50] [--lengths 5 10 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter

from conformance.races.checker import check
from conformance.races.simulate import simulate, sms_programs, swap_answer
from conformance.races.sms_spec import SmsSpec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--histories", type=int, default=50, help="histories per length")
    parser.add_argument("--branches", type=int, default=3)
    parser.add_argument("--lengths", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--lose", type=float, default=0.1, help="chance an answer is lost")
    parser.add_argument("--timeout", type=float, default=10.0, help="budget per history, s")
    args = parser.parse_args()

    spec = SmsSpec()
    print(
        f"{args.histories} histories per length, {args.branches} branches, seed {args.seed},"
        f" {args.lose:.0%} of answers lost; times in ms per history"
    )
    header = f"{'N':>3} {'kind':<9} {'split':<5} {'mean':>8} {'median':>8} {'worst':>8}"
    print(header + f" {'steps':>8} {'us/step':>8}  verdicts")
    previous: dict[tuple[str, bool], float] = {}
    for length in args.lengths:
        rng = random.Random(f"{args.seed}-{length}")
        recorded = []
        for _ in range(args.histories):
            prefix, programs = sms_programs(rng, args.branches, length)
            recorded.append(simulate(spec, programs, rng, prefix, lose=args.lose))
        mutated = [swap_answer(rng, history) for history in recorded]
        for kind, histories in (("recorded", recorded), ("swapped", mutated)):
            for split in (True, False):
                times: list[float] = []
                steps: list[int] = []
                verdicts: Counter[str] = Counter()
                for history in histories:
                    started = time.perf_counter()
                    result = check(spec, history, partition=split, timeout=args.timeout)
                    times.append((time.perf_counter() - started) * 1000)
                    steps.append(result.steps)
                    verdicts[result.verdict] += 1
                mean = statistics.fmean(times)
                growth = ""
                if (kind, split) in previous:
                    growth = f"  x{mean / previous[kind, split]:.1f} on the previous N"
                previous[kind, split] = mean
                print(
                    f"{length:>3} {kind:<9} {'yes' if split else 'no':<5} {mean:>8.2f}"
                    f" {statistics.median(times):>8.2f} {max(times):>8.2f}"
                    f" {statistics.fmean(steps):>8.0f} {sum(times) * 1000 / sum(steps):>8.1f}"
                    f"  {dict(verdicts)}{growth}"
                )


if __name__ == "__main__":
    main()
