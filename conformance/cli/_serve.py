"""``sms-conformance serve``: the reference implementation over HTTP."""

from __future__ import annotations

import sys

import click

from conformance.cli._common import EXIT_PASS, EXIT_USAGE
from conformance.cli._interrupts import forget_a_caught_interrupt, terminate_as_interrupt

__all__ = ["serve"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port", default=8765, show_default=True, type=int, help="Port (0 picks a free one)."
)
@click.option(
    "--db",
    "db_path",
    default=":memory:",
    show_default=True,
    help="SQLite file that keeps the data across restarts.",
)
@click.option("--fault", "faults", multiple=True, help="Switch on a known bug (repeatable).")
@click.option(
    "--reading",
    "readings",
    multiple=True,
    metavar="POINT=ALTERNATIVE",
    help="How to read an open point of the docs (repeatable; see --list-readings).",
)
@click.option(
    "--readings",
    "random_readings",
    default=None,
    metavar="random[:SEED]",
    help="Draw a reading for every open point not named by --reading.",
)
@click.option(
    "--list-readings", is_flag=True, help="List the open points and their readings, then exit."
)
@click.option(
    "--settle-lag",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds a deleted SMS stays readable and listed, and a new one unlisted "
    "(the visibility=eventual reading).",
)
@click.option(
    "--rate-limit", type=click.IntRange(min=1), default=None, help="Requests per second per key."
)
@click.option(
    "--transient-share",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of SMS requests answered 503 (before) or 504 (after handling).",
)
@click.option(
    "--latency", type=click.FloatRange(min=0), default=0.0, help="Seconds added to every response."
)
def serve(
    host: str,
    port: int,
    db_path: str,
    faults: tuple[str, ...],
    readings: tuple[str, ...],
    random_readings: str | None,
    list_readings: bool,
    settle_lag: float | None,
    rate_limit: int | None,
    transient_share: float,
    latency: float,
) -> None:
    """Serve the reference implementation of the Close SMS API over HTTP, until Ctrl-C
    (or SIGTERM), which exits 0. An address that cannot be listened on (a busy port, a bad
    port or host) or a --db that cannot be opened is one line and exit 2."""
    from conformance.catalogue import CATALOGUE
    from conformance.refserver import FAULTS
    from conformance.refserver.readings import parse_readings
    from conformance.refserver.serve import ServeError
    from conformance.refserver.serve import serve as serve_forever

    if list_readings:
        for point in CATALOGUE.open_points.values():
            click.echo(f"{point.id}: {point.question}")
            for name, what in point.alternatives.items():
                mark = " (default)" if name == point.default else ""
                click.echo(f"  {point.id}={name}{mark}: {what}")
        return
    if random_readings is not None and not random_readings.startswith("random"):
        click.echo(
            f"error: --readings takes random or random:SEED, got {random_readings!r}", err=True
        )
        sys.exit(EXIT_USAGE)
    try:
        chosen = parse_readings([*([random_readings] if random_readings else []), *readings])
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)

    from conformance.refserver.race_faults import RACE_FAULTS

    unknown = [name for name in faults if name not in FAULTS and name not in RACE_FAULTS]
    if unknown:
        known = ", ".join(sorted([*FAULTS, *RACE_FAULTS]))
        click.echo(f"error: unknown fault(s) {unknown}; known: {known}", err=True)
        sys.exit(EXIT_USAGE)
    try:
        with terminate_as_interrupt():
            serve_forever(
                host=host,
                port=port,
                db_path=db_path,
                faults=faults,
                readings=chosen,
                settle_lag=settle_lag,
                rate_limit=rate_limit,
                transient_share=transient_share,
                latency=latency,
                out=lambda line: click.echo(line),
            )
    except ServeError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        pass  # Ctrl-C (or SIGTERM) is how a server is stopped: not an error
    click.echo("reference server stopped", err=True)
    forget_a_caught_interrupt()
    sys.exit(EXIT_PASS)
