"""``sms-conformance races``: concurrent histories against the embedded reference server,
checked for linearizability against the SMS spec (:mod:`conformance.races`)."""

from __future__ import annotations

import sys

import click

from conformance.cli._common import (
    EXIT_FAIL,
    EXIT_INCONCLUSIVE,
    EXIT_PASS,
    EXIT_USAGE,
    api_key_option,
    oauth_token_option,
)

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
    "--base-url",
    default=None,
    help="A live target ending in /api/v1 (never read from CLOSE_API_URL: racing a live "
    "target is asked for by name). The histories go through the run's client, guard and "
    "clean-up; without --allow-send they are drafts only.",
)
@api_key_option
@oauth_token_option
@click.option(
    "--allow-send",
    is_flag=True,
    help="With --base-url: histories may schedule and send SMS (to --recipient only).",
)
@click.option(
    "--recipient",
    "recipients",
    multiple=True,
    help="With --base-url: a sink number to address SMS to (default: fictional 555-01xx).",
)
@click.option(
    "--max-requests",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="With --base-url: requests the races may send (clean-up's DELETEs apart).",
)
@click.option(
    "--max-time",
    type=click.FloatRange(min=1),
    default=120.0,
    show_default=True,
    help="With --base-url: seconds of wall time the races may take.",
)
@click.option(
    "--settle",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="With --base-url: anything above 0 lets reads lag behind deletes and creates "
    "for the whole history (visibility=eventual, as Close's lists were seen to); 0 holds "
    "the target to reads that see every write at once.",
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
    base_url: str | None,
    api_key: str | None,
    oauth_token: str | None,
    allow_send: bool,
    recipients: tuple[str, ...],
    max_requests: int,
    max_time: float,
    settle: float,
    over_http: bool,
    self_test: bool,
) -> None:
    """Run concurrent histories against the embedded reference server (or, with
    --base-url, a live target) and check each for linearizability; a failing history is
    shrunk and shown as a timeline. Exit 0 every history explained, 1 one was not (on a
    live target: one broke a documented rule), 2 usage error, 3 the checker's budget ran
    out (unknown), or the live target could not be raced (unreachable, a budget spent,
    interrupted)."""
    from conformance.races.run import embedded_run_races, race_self_test
    from conformance.refserver.readings import parse_readings

    if base_url:
        if self_test or faults or readings or over_http:
            click.echo(
                "error: --self-test, --fault, --reading and --over-http are for the embedded "
                "server; drop them with --base-url",
                err=True,
            )
            sys.exit(EXIT_USAGE)
        sys.exit(
            _live(
                base_url,
                api_key,
                oauth_token,
                allow_send,
                recipients,
                seed_value,
                histories,
                branches,
                max_requests,
                max_time,
                settle,
            )
        )
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
                + (f"  breaks {row.rule}" if row.rule else "")
                + _its_rule(row.names_its_rule)
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


def _its_rule(names_its_rule: bool | None) -> str:
    """Whether a race variant's row named one of its registered rules."""
    if names_its_rule is None:
        return ""
    return " (its rule)" if names_its_rule else " (not its rule)"


def _live(
    base_url: str,
    api_key: str | None,
    oauth_token: str | None,
    allow_send: bool,
    recipients: tuple[str, ...],
    seed_value: int,
    histories: int,
    branches: int,
    max_requests: int,
    max_time: float,
    settle: float,
) -> int:
    """The races against a live target: its fixtures made (and deleted) as ``run`` makes
    them, the histories run within the budgets, everything created deleted, also when
    interrupted. The exit code: 0 every history explained (or only informational
    failures), 1 a documented rule broken, 2 configuration, 3 nothing could be judged (the
    run stopped, the checker's budget ran out)."""
    from conformance.cli._common import Say, tell_leftovers
    from conformance.cli._interrupts import Signals, forget_a_caught_interrupt
    from conformance.client import Credentials, RunAborted
    from conformance.races.live import RaceLimits, races_on_target
    from conformance.target import (
        FICTIONAL_RECIPIENTS,
        ConfigurationError,
        TargetRejected,
        remote_target,
    )

    say = Say([api_key, oauth_token])
    try:
        target = remote_target(
            base_url,
            Credentials(api_key, oauth_token, None),
            allow_send=allow_send,
            max_seconds=max_time * 2 + 60,  # fixtures and clean-up on top of the races
            recipients=recipients or FICTIONAL_RECIPIENTS,
        )
    except ConfigurationError as error:
        say(f"error: {error}", err=True)
        return EXIT_USAGE
    say(f"races on {base_url} (seed {seed_value}, run id {target.run_id})", err=True)
    limits = RaceLimits(histories, branches, max_requests, max_time)
    outcome, stopped, code = None, None, EXIT_INCONCLUSIVE
    signals = Signals(target, say)
    with signals.installed():
        try:
            target.discover()
            outcome = races_on_target(target, seed_value, limits, settle=settle)
        except ConfigurationError as error:
            stopped, code = f"error: {error}", EXIT_USAGE
        except (KeyboardInterrupt, RunAborted, TargetRejected) as error:
            stopped = "interrupted" if isinstance(error, KeyboardInterrupt) else str(error)
        finally:
            target.close()
    if outcome is not None:
        say(outcome.report.describe())
        say(outcome.note())
        if outcome.attribution is not None:
            code = EXIT_FAIL
        elif outcome.report.histories and outcome.report.verdict != "unknown":
            code = EXIT_PASS
    else:
        say(f"races: inconclusive - {stopped}" if code != EXIT_USAGE else str(stopped))
    tell_leftovers(say, target, target.leftovers, None)
    forget_a_caught_interrupt()
    return code
