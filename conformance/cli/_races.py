"""``sms-conformance races``: concurrent histories against the embedded reference server,
checked for linearizability against the SMS spec (:mod:`conformance.races`)."""

from __future__ import annotations

import sys

import click

from conformance.cli._common import EXIT_FAIL, EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_USAGE

__all__ = ["races"]


@click.command()
@click.option("--seed", "seed_value", type=int, default=1, show_default=True)
@click.option(
    "--histories",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Histories to run (each a sequential prefix, then branches at once).",
)
@click.option(
    "--branches", type=click.IntRange(2, 3), default=3, show_default=True, help="Branches at once."
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    help="Switch on a faulty variant of the server (race variants included; repeatable).",
)
@click.option(
    "--reading", "readings", multiple=True, metavar="POINT=ALTERNATIVE", help="A reading served."
)
@click.option(
    "--over-http",
    is_flag=True,
    help="Serve each history's embedded server on a loopback port (uvicorn) and send the "
    "branches' requests over real HTTP.",
)
@click.option(
    "--self-test",
    "self_test",
    is_flag=True,
    help="Run the clean server and every race variant: the clean one must pass, each "
    "variant must be caught.",
)
def races(
    seed_value: int,
    histories: int,
    branches: int,
    faults: tuple[str, ...],
    readings: tuple[str, ...],
    over_http: bool,
    self_test: bool,
) -> None:
    """Run concurrent histories against the embedded reference server and check each for
    linearizability; a failing history is shrunk and shown as a timeline. Embedded server
    only for now. Exit 0 every history explained, 1 one was not, 2 usage error, 3 the
    checker's budget ran out (unknown)."""
    from conformance.races.run import embedded_run_races, race_self_test
    from conformance.refserver.readings import parse_readings

    if self_test:
        if faults or readings:
            click.echo(
                "error: --self-test runs every race variant; drop --fault/--reading", err=True
            )
            sys.exit(EXIT_USAGE)
        rows = race_self_test(
            seed=seed_value, histories=histories, branches=branches, over_http=over_http
        )
        good = True
        for row in rows:
            wanted = "pass" if row.fault is None else "fail"
            good = good and row.verdict == wanted
            size = "-" if row.shrunk_size is None else str(row.shrunk_size)
            click.echo(
                f"{row.fault or 'clean server':<28} {row.verdict:<8} "
                f"(wanted {wanted}) histories {row.histories:>3}  shrunk to {size} operations"
            )
        sys.exit(EXIT_PASS if good else EXIT_FAIL)
    try:
        report = embedded_run_races(
            seed_value,
            histories,
            branches,
            faults=faults,
            readings=parse_readings(readings),
            over_http=over_http,
        )
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(report.describe())
    sys.exit({"pass": EXIT_PASS, "fail": EXIT_FAIL}.get(report.verdict, EXIT_INCONCLUSIVE))
