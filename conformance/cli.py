"""The ``sms-conformance`` command: a thin shell over the engine and the reference server.

Usage: sms-conformance [OPTIONS] COMMAND [ARGS]...

Commands:
  run        Check a server (or, with no --base-url, the embedded reference server).
  cleanup    Delete what earlier runs left on a target.
  self-test  Prove detection: clean server passes, every faulty variant is caught.
  serve      Serve the reference implementation of the Close SMS API over HTTP.

Exit codes of ``run``: 0 every checked rule held, 1 a rule was violated, 2 usage or
configuration error, 3 inconclusive (target unreachable, credentials rejected).
"""

from __future__ import annotations

import random
import signal
import sys
import threading
from pathlib import Path

import click

from conformance.profiles import PROFILES

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INCONCLUSIVE = 0, 1, 2, 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sms-conformance")
def main() -> None:
    """Property-based conformance suite for the Close CRM SMS activity API."""


@main.command()
@click.option(
    "--base-url",
    envvar="CLOSE_API_URL",
    help="Target ending in /api/v1 (default: the embedded reference server).",
)
@click.option("--api-key", envvar="CLOSE_API_KEY", help="API key (env CLOSE_API_KEY).")
@click.option(
    "--oauth-token", envvar="CLOSE_OAUTH_TOKEN", help="OAuth bearer token (env CLOSE_OAUTH_TOKEN)."
)
@click.option(
    "--second-api-key",
    envvar="CLOSE_SECOND_API_KEY",
    help="API key of a second organisation; enables the isolation rules.",
)
@click.option(
    "--allow-send",
    is_flag=True,
    help="Permit statuses that deliver an SMS (outbox, scheduled) against a non-embedded target.",
)
@click.option("--profile", type=click.Choice(sorted(PROFILES)), default="ci", show_default=True)
@click.option(
    "--seed",
    "seed_value",
    type=int,
    default=None,
    help="Seed (default: random, printed so the run can be repeated).",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
)
@click.option(
    "--grace",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds a remote target may take to send an SMS once it is due.",
)
@click.option(
    "--lead-id",
    "lead_ids",
    multiple=True,
    help="Use this lead (with a contact) instead of creating leads (repeatable).",
)
@click.option(
    "--local-phone",
    "local_phones",
    multiple=True,
    help="An internal number to send from, instead of listing /phone_number/.",
)
@click.option(
    "--template-id",
    default=None,
    help="Use this SMS template (text may use {{ contact.first_name }}).",
)
@click.option(
    "--recipient",
    "recipients",
    multiple=True,
    help="A sink number to address SMS to (repeatable; default: fictional 555-01xx numbers).",
)
@click.option(
    "--max-requests",
    type=click.IntRange(min=1),
    default=None,
    help="Request budget: stop (and clean up) once this many requests are sent.",
)
@click.option(
    "--fault",
    default=None,
    hidden=True,
    help="Embedded target only: switch on one of the reference server's faults.",
)
def run(
    base_url: str | None,
    api_key: str | None,
    oauth_token: str | None,
    second_api_key: str | None,
    allow_send: bool,
    profile: str,
    seed_value: int | None,
    report_dir: Path,
    grace: float,
    lead_ids: tuple[str, ...],
    local_phones: tuple[str, ...],
    template_id: str | None,
    recipients: tuple[str, ...],
    max_requests: int | None,
    fault: str | None,
) -> None:
    """Check a server against every documented rule; write report.json, junit.xml and
    report.html to --report-dir."""
    from conformance.client import Credentials
    from conformance.engine import run_target
    from conformance.model import Timing
    from conformance.reporting import write_reports
    from conformance.target import (
        FICTIONAL_RECIPIENTS,
        ConfigurationError,
        GivenFixtures,
        embedded_target,
        remote_target,
    )

    seed_value = random.randrange(2**32) if seed_value is None else seed_value
    try:
        if base_url:
            if fault:
                raise ConfigurationError("--fault applies to the embedded server only")
            if grace < 0:
                raise ConfigurationError(f"--grace must be 0 or more seconds, got {grace}")
            target = remote_target(
                base_url,
                Credentials(api_key, oauth_token, second_api_key),
                allow_send=allow_send,
                timing=Timing(early=2.0, grace=grace),
                max_requests=max_requests,
                recipients=recipients or FICTIONAL_RECIPIENTS,
                given=GivenFixtures(lead_ids, local_phones, template_id),
            )
        else:
            target = embedded_target(faults=[fault] if fault else [])
    except (ConfigurationError, ValueError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"sms-conformance: checking {target.name} (profile {profile}, seed {seed_value})")
    _signals_interrupt(target.api)
    try:
        report = _with_progress(
            lambda on_event: run_target(
                target, profile=PROFILES[profile], seed_value=seed_value, on_event=on_event
            )
        )
    except ConfigurationError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    paths = write_reports(report, report_dir)
    _summarise(report, paths)
    forget_a_caught_interrupt()
    sys.exit({"pass": EXIT_PASS, "fail": EXIT_FAIL}.get(report.verdict, EXIT_INCONCLUSIVE))


def _signals_interrupt(api) -> None:
    """Make Ctrl-C and SIGTERM stop the run, which then deletes what it created.

    The handler raises ``KeyboardInterrupt`` (to cut a wait short) and also tells the client,
    so the run stops at its next request even when that exception is swallowed on the way
    (Python drops one raised in a ``__del__`` or a gc callback)."""

    def interrupt(signum: int, frame: object) -> None:
        api.interrupt()
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, interrupt)
        signal.signal(signal.SIGTERM, interrupt)


def forget_a_caught_interrupt() -> None:
    """Let the exit code stand after a Ctrl-C the run caught.

    CPython notes a ``KeyboardInterrupt`` that leaves code run from a string (``exec`` and
    ``eval`` of source text: dataclass and namedtuple set-up, Hypothesis's signature
    copies) as unhandled, even when a caller catches it; under ``python -m`` it then ends
    the process by SIGINT instead of with the exit code (``run_eval_code_obj`` in
    ``Python/pythonrun.c``). Each such run clears the note first, so an empty one does."""
    exec("")  # noqa: S102 - an empty string, for its side effect on that note


@main.command()
@click.option("--base-url", envvar="CLOSE_API_URL", required=True, help="Target ending in /api/v1.")
@click.option("--api-key", envvar="CLOSE_API_KEY", help="API key (env CLOSE_API_KEY).")
@click.option("--oauth-token", envvar="CLOSE_OAUTH_TOKEN", help="OAuth bearer token.")
@click.option("--run-id", default=None, help="Only what this run created (default: every run).")
def cleanup(
    base_url: str, api_key: str | None, oauth_token: str | None, run_id: str | None
) -> None:
    """Delete what earlier runs left behind: leads and templates named 'sms-conformance
    <run id> ...', and the SMS on those leads."""
    from conformance.cleanup import clean_up
    from conformance.client import Credentials, RunAborted
    from conformance.target import ConfigurationError, remote_target

    try:
        target = remote_target(base_url, Credentials(api_key, oauth_token), allow_send=False)
    except ConfigurationError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    try:
        result = clean_up(target.api, run_id=run_id)
    except RunAborted as error:
        click.echo(f"inconclusive: {error}", err=True)
        sys.exit(EXIT_INCONCLUSIVE)
    click.echo(f"deleted {result.leads} lead(s), {result.sms} SMS, {result.templates} template(s)")


def _with_progress(job):
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("running", spinner="dots") as status:

        def on_event(event) -> None:
            if event.kind == "violation":
                console.print(f"[red]violated[/red] {event.detail}")
            else:
                status.update(event.detail)

        return job(on_event)


def _summarise(report, paths) -> None:
    counts = {status: 0 for status in ("pass", "fail", "informational", "not-run")}
    for rule in report.rules:
        counts[rule.status] += 1
    click.echo(
        ", ".join(f"{n} {status}" for status, n in counts.items()) + " rules; "
        f"{report.stats.requests} requests in {report.stats.duration:.1f}s"
    )
    for failure in report.failures:
        click.echo(
            f"  FAIL {failure.rule}: expected {failure.expected}; got {failure.actual}"
            f" ({len(failure.steps)} requests to reproduce)"
        )
    click.echo(f"verdict: {report.verdict} - {report.reason}")
    click.echo("reports: " + ", ".join(str(path) for path in paths.values()))


@main.command("self-test")
@click.option("--profile", type=click.Choice(sorted(PROFILES)), default="ci", show_default=True)
@click.option(
    "--seed",
    "seeds",
    type=int,
    multiple=True,
    help="Seed for the clean runs (repeatable; default 1, 2, 3). Faults use the first.",
)
@click.option("--fault", "faults", multiple=True, help="Only these faults (repeatable).")
@click.option("--jobs", type=int, default=2, show_default=True, help="Runs in parallel.")
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
)
def self_test(
    profile: str, seeds: tuple[int, ...], faults: tuple[str, ...], jobs: int, report_dir: Path
) -> None:
    """Prove detection: the clean reference server passes on every seed, and every faulty
    variant is caught. Writes selftest.json; exit 0 only if both hold."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from conformance.selftest import run_self_test

    seeds = seeds or (1, 2, 3)
    console = Console(width=None if sys.stdout.isatty() else 150)
    try:
        from conformance.refserver import FAULTS

        total = len(seeds) + len(faults or FAULTS)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("self-test", total=total)

            def advance(_outcome: object) -> None:
                progress.advance(task)

            report = run_self_test(
                profile=PROFILES[profile],
                seeds=seeds,
                faults=faults or None,
                jobs=jobs,
                on_clean=advance,
                on_kill=advance,
            )
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    table = Table(title="kill matrix")
    for column in ("variant", "caught", "rule", "steps", "minimal", "seconds", "schema phase"):
        table.add_column(column)
    for kill in report.kills:
        rule = kill.rule or "-"
        if kill.caught and not kill.right_rule:
            rule += f" (expected {kill.expected_rule})"
        table.add_row(
            kill.fault,
            "yes" if kill.caught else "[red]NO[/red]",
            rule,
            str(kill.steps or "-"),
            str(kill.minimal_steps or "-"),
            f"{kill.seconds:.1f}",
            _schema_cell(kill.schema_rules),
        )
    console.print(table)
    for run in report.clean:
        console.print(
            f"clean server, seed {run.seed}: {run.verdict}"
            + (f" ({', '.join(run.failures)})" if run.failures else "")
        )
    path = report.write(report_dir / "selftest.json")
    summary = report.summary()
    console.print(", ".join(f"{key}={value}" for key, value in summary.items()))
    console.print(f"written: {path}")
    if not report.ok:
        console.print(
            f"[red]self-test failed[/red]: missed {report.missed}, "
            f"{report.false_alarms} false alarm(s)"
        )
    sys.exit(EXIT_PASS if report.ok else EXIT_FAIL)


def _schema_cell(rules: tuple[str, ...] | None) -> str:
    """What the schema phase alone found on a variant: its rules, 'no', or '-' (not run)."""
    if rules is None:
        return "-"
    return ", ".join(rules) if rules else "no"


@main.command()
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
    rate_limit: int | None,
    transient_share: float,
    latency: float,
) -> None:
    """Serve the reference implementation of the Close SMS API over HTTP."""
    from conformance.refserver import FAULTS
    from conformance.refserver.serve import serve as serve_forever

    unknown = [name for name in faults if name not in FAULTS]
    if unknown:
        click.echo(
            f"error: unknown fault(s) {unknown}; known: {', '.join(sorted(FAULTS))}", err=True
        )
        sys.exit(EXIT_USAGE)
    serve_forever(
        host=host,
        port=port,
        db_path=db_path,
        faults=faults,
        rate_limit=rate_limit,
        transient_share=transient_share,
        latency=latency,
        out=lambda line: click.echo(line),
    )


if __name__ == "__main__":
    main()
