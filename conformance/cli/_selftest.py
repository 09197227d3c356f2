"""``sms-conformance self-test``: prove detection (every faulty variant caught) and
specificity (the clean server passes under every reading)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from conformance.cli._common import EXIT_FAIL, EXIT_PASS, EXIT_USAGE
from conformance.profiles import PROFILES

__all__ = ["self_test"]


@click.command("self-test")
@click.option("--profile", type=click.Choice(sorted(PROFILES)), default="ci", show_default=True)
@click.option(
    "--seed",
    "seeds",
    type=int,
    multiple=True,
    help="Seed for the clean runs (repeatable; default 1, 2, 3). Faults use the first, "
    "unless --kill-seed is given.",
)
@click.option(
    "--kill-seed",
    "kill_seeds",
    type=int,
    multiple=True,
    help="Run every faulty variant on this seed (repeatable; default: the first --seed).",
)
@click.option("--fault", "faults", multiple=True, help="Only these faults (repeatable).")
@click.option("--jobs", type=int, default=2, show_default=True, help="Runs in parallel.")
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
)
@click.option(
    "--combinations",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Random combinations of readings in the specificity matrix.",
)
@click.option(
    "--specificity/--no-specificity",
    default=True,
    show_default=True,
    help="Also run the clean server under every other reading of every open point "
    "(each on every seed) and under --combinations random combinations.",
)
@click.option(
    "--faults-under-readings/--no-faults-under-readings",
    default=True,
    show_default=True,
    help="Run every faulty variant a second time, under a random combination of "
    "non-default readings: it must be caught there too.",
)
@click.option(
    "--replays/--no-replays",
    default=True,
    show_default=True,
    help="Replay each variant's first failure, as `sms-conformance replay` does, against the "
    "variant (it must reproduce) and against the clean server (it must not).",
)
@click.option(
    "--races/--no-races",
    default=None,
    help="Also run the races' self-test (sms-conformance races --self-test, a few seconds): "
    "the clean server's histories must all be explained and every race variant caught. "
    "Default: on, unless --fault names the variants to run.",
)
@click.option(
    "--real-time/--no-real-time",
    default=None,
    help="Also run the timing variants (and the clean server, under each reading) on a "
    "reference server on real time, reached over loopback HTTP as a remote server is, with "
    "the timing ledger alone: it must catch each of them (a few minutes, mostly waiting). "
    "Default: on, unless --fault names the variants to run.",
)
@click.option(
    "--over-http",
    is_flag=True,
    help="Serve every reference server (clean, faulty, replayed) on a loopback port and run "
    "over real HTTP; their virtual clocks stay in this process.",
)
def self_test(
    profile: str,
    seeds: tuple[int, ...],
    kill_seeds: tuple[int, ...],
    faults: tuple[str, ...],
    jobs: int,
    report_dir: Path,
    combinations: int,
    specificity: bool,
    faults_under_readings: bool,
    replays: bool,
    races: bool | None,
    real_time: bool | None,
    over_http: bool,
) -> None:
    """Prove detection and specificity: every faulty variant is caught, and the clean
    reference server passes on every seed, under every reading of the docs' open points.
    Writes selftest.json; exit 0 only if all of it holds."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from conformance.selftest import run_self_test, specificity_readings

    seeds = seeds or (1, 2, 3)
    readings = specificity_readings(combinations) if specificity else []
    console = Console(width=None if sys.stdout.isatty() else 150)
    try:
        from conformance.refserver import FAULTS

        total = len(seeds) + len(faults or FAULTS) * (
            len(kill_seeds or (1,)) + (1 if faults_under_readings else 0)
        )
        total += sum(len(seeds) if len(chosen) == 1 else 1 for chosen in readings)
        done = 0
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("self-test", total=total)

            def advance(outcome: object) -> None:
                nonlocal done
                done += 1
                progress.advance(task)
                if not console.is_terminal:  # a log (CI): a line per run, as it ends
                    console.print(f"[{done}/{total}] {_one_line(outcome)}", highlight=False)

            report = run_self_test(
                profile=PROFILES[profile],
                seeds=seeds,
                faults=faults or None,
                jobs=jobs,
                readings=readings,
                faults_under_readings=faults_under_readings,
                replays=replays,
                kill_seeds=kill_seeds or None,
                on_clean=advance,
                on_kill=advance,
                over_http=over_http,
                races=not faults if races is None else races,
                real_time=not faults if real_time is None else real_time,
            )
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    table = Table(title="kill matrix")
    columns = ["variant", "caught", "rule", "steps", "minimal", "seconds", "schema phase"]
    several, first = len(report.kill_seeds) > 1, report.kill_seeds[0]
    if several:
        columns.insert(1, "seed")
    under = {kill.fault: kill for kill in report.kills_under_readings}
    if under:
        columns.append("under other readings")
    if replays:
        columns.append("replay: variant / clean")
    for column in columns:
        table.add_column(column)
    for kill in report.kills:
        rule = kill.rule or "-"
        if kill.caught and not kill.right_rule:
            rule += f" (expected {kill.expected_rule})"
        table.add_row(
            kill.fault,
            *([str(kill.seed)] if several else []),
            "yes" if kill.caught else "[red]NO[/red]",
            rule,
            str(kill.steps or "-"),
            str(kill.minimal_steps or "-"),
            f"{kill.seconds:.1f}",
            _schema_cell(kill.schema_rules),
            *(
                [_under_readings_cell(under[kill.fault]) if kill.seed == first else ""]
                if under
                else []
            ),
            *([_replay_cell(kill)] if replays else []),
        )
    console.print(table)
    for run in report.clean:
        if not run.readings:
            console.print(
                f"clean server, seed {run.seed}: {run.verdict}"
                + (f" ({', '.join(run.failures)})" if run.failures else "")
            )
    if report.specificity_runs:
        console.print(_specificity_matrix(report.specificity_runs))
    if report.races is not None:
        console.print(_race_table(report.races))
    if report.real_time is not None:
        console.print(_real_time_table(report.real_time))
    path = report.write(report_dir / "selftest.json")
    summary = report.summary()
    console.print(", ".join(f"{key}={value}" for key, value in summary.items()))
    console.print(f"transport: {report.transport}")
    console.print(f"written: {path}")
    if not report.ok:
        race_note = "" if report.races_ok else "; the races' rows are not all as they should be"
        if not report.real_time_ok:
            race_note += "; the real-time rows are not all as they should be"
        console.print(
            f"[red]self-test failed[/red]: missed {report.missed}, "
            f"{report.false_alarms} false alarm(s){race_note}"
        )
    sys.exit(EXIT_PASS if report.ok else EXIT_FAIL)


def _race_table(rows):
    """The races' rows: the clean server's histories (none may fail) and each race variant
    (caught, after how many histories, shrunk to how many operations, breaking which rule)."""
    from rich.table import Table

    table = Table(title="races (concurrent histories, checked for linearizability)")
    for column in ("server", "wanted", "verdict", "histories", "shrunk to", "rule"):
        table.add_column(column)
    for row in rows:
        verdict = row.verdict if row.ok else f"[red]{row.verdict}[/red]"
        table.add_row(
            row.fault or "clean server",
            "pass" if row.fault is None else "fail",
            verdict,
            str(row.histories),
            "-" if row.shrunk_size is None else f"{row.shrunk_size} operations",
            (row.rule or "-")
            + ("" if row.names_its_rule is not False else " [yellow](not its rule)[/yellow]"),
        )
    return table


def _real_time_table(rows):
    """The real-time rows: each timing variant (caught by its rule?) and the clean server
    under each reading (passed?), the timing ledger alone on a server on real time."""
    from rich.table import Table

    table = Table(title="real time (the timing ledger alone, over loopback HTTP)")
    for column in ("server", "readings", "wanted", "verdict", "rules", "seconds"):
        table.add_column(column)
    for row in rows:
        verdict = row.verdict if row.ok else f"[red]{row.verdict}[/red]"
        table.add_row(
            row.fault or "clean server",
            " ".join(row.readings) or "-",
            "pass" if row.fault is None else f"fail ({row.expected_rule})",
            verdict,
            ", ".join(row.rules) or "-",
            f"{row.seconds:.0f}",
        )
    return table


def _replay_cell(kill) -> str:
    if kill.replay is None:
        return "-"
    cell = " / ".join(kill.replay)
    return cell if kill.replays_as_it_should else f"[yellow]{cell}[/yellow]"


def _specificity_matrix(runs):
    """The clean server under other readings: one row per reading set, one cell per seed."""
    from rich.table import Table

    seeds = sorted({run.seed for run in runs})
    table = Table(title="specificity matrix (the clean server under other readings)")
    table.add_column("readings")
    for seed in seeds:
        table.add_column(f"seed {seed}")
    rows: dict[tuple[str, ...], dict[int, str]] = {}
    for run in runs:
        cell = (
            "pass"
            if run.verdict == "pass"
            else f"[red]{run.verdict}[/red] " + ", ".join(run.failures)
        )
        rows.setdefault(run.readings, {})[run.seed] = f"{cell} ({run.seconds:.0f} s)"
    for readings, cells in rows.items():
        table.add_row(" ".join(readings), *(cells.get(seed, "") for seed in seeds))
    return table


def _under_readings_cell(kill) -> str:
    """The same variant under other readings: caught (by which rule) or not, and under what."""
    outcome = f"yes ({kill.rule})" if kill.caught else "[red]NO[/red]"
    return f"{outcome}: {' '.join(kill.readings)}"


def _schema_cell(rules: tuple[str, ...] | None) -> str:
    """What the schema phase alone found on a variant: its rules, 'no', or '-' (not run)."""
    if rules is None:
        return "-"
    return ", ".join(rules) if rules else "no"


def _one_line(outcome: object) -> str:
    """A finished run of the self-test, in a line of a log."""
    from conformance.selftest.report import CleanRun, Kill

    if isinstance(outcome, Kill):
        under = f" under {' '.join(outcome.readings)}" if outcome.readings else ""
        verdict = f"caught by {outcome.rule}" if outcome.caught else "MISSED"
        return f"{outcome.fault} (seed {outcome.seed}{under}): {verdict}, {outcome.seconds:.1f} s"
    if isinstance(outcome, CleanRun):
        under = f" under {' '.join(outcome.readings)}" if outcome.readings else ""
        return (
            f"clean server (seed {outcome.seed}{under}): {outcome.verdict}, {outcome.seconds:.1f} s"
        )
    return str(outcome)
