"""``sms-conformance run``: check a server (or the embedded reference server) and write
its reports."""

from __future__ import annotations

import random
import shlex
import sys
from pathlib import Path

import click

from conformance.cli._common import (
    EXIT_FAIL,
    EXIT_INCONCLUSIVE,
    EXIT_PASS,
    EXIT_USAGE,
    Say,
    api_key_option,
    check_appendable,
    check_rule_ids,
    check_writable,
    from_environment,
    oauth_token_option,
    tell_leftovers,
)
from conformance.cli._interrupts import Signals, forget_a_caught_interrupt
from conformance.cli._render import summarise, with_progress
from conformance.cli._run_options import races_and_workers_options
from conformance.profiles import PROFILES

__all__ = ["run"]


@click.command()
@click.option(
    "--base-url",
    envvar="CLOSE_API_URL",
    show_envvar=True,
    help="Target ending in /api/v1 (default: the embedded reference server). Set in the "
    "environment, CLOSE_API_URL turns every run remote.",
)
@api_key_option
@oauth_token_option
@click.option(
    "--second-api-key",
    envvar="CLOSE_SECOND_API_KEY",
    show_envvar=True,
    help="API key of a second organisation; enables the isolation rules.",
)
@click.option(
    "--allow-send",
    is_flag=True,
    help="Permit statuses that deliver an SMS (outbox, scheduled) against a non-embedded target.",
)
@click.option(
    "--profile",
    type=click.Choice(sorted(PROFILES)),
    default="ci",
    show_default=True,
    help="How hard to look: "
    + " ".join(f"{name}: {profile.describe()}." for name, profile in PROFILES.items()),
)
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
    default=90.0,
    show_default=True,
    help="Seconds a remote target may take to send an SMS once it is due (the docs give no "
    "precision: 90 s lets a sender that runs once a minute pass; the timing ledger stops "
    "waiting as soon as its SMS are sent).",
)
@click.option(
    "--lead-id",
    "lead_ids",
    multiple=True,
    help="Use this lead (with a contact) instead of creating leads (repeatable).",
)
@click.option(
    "--contact-id",
    "contact_ids",
    multiple=True,
    help="The contact of the --lead-id in the same place (repeatable), for targets without "
    "GET /lead/{id}/ (a mock of the SMS endpoints only); default: the lead's first contact.",
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
    "--user-id",
    default=None,
    help="The user the API key acts as, for targets without GET /me/ (the user_id filter "
    "is judged with it).",
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
    help="Request budget, on any target (the embedded server too) and in every phase (the "
    "schema phase included; clean-up's DELETEs are exempt): once this many requests are sent "
    "the run stops, cleans up and is inconclusive (exit 3), naming the phases it did not "
    "reach and how many rules were not run.",
)
@click.option(
    "--max-time",
    "--max-duration",
    "max_time",
    type=click.FloatRange(min=1),
    default=None,
    help="Time budget in seconds, on any target (default: 3600 on a remote one, none on "
    "the embedded server): once spent, the run stops, cleans up and is inconclusive "
    "(exit 3), naming the phases it did not reach and how many rules were not run; rules "
    "found broken before still fail it (exit 1).",
)
@click.option(
    "--exclude-rule",
    "excluded",
    multiple=True,
    metavar="RULE",
    help="Never judge this rule; it is reported not-run (repeatable).",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="REPORT",
    help="A report.json of an earlier run: the rules it found broken are known deviations, "
    "still judged and reported, but only a violation of another rule fails the run.",
)
@click.option(
    "--summary-md",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Append a Markdown summary to FILE (e.g. $GITHUB_STEP_SUMMARY).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the verdict line (and errors).")
@click.option(
    "--settle",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds a read that breaks a rule is re-tried before it fails, for targets whose "
    "reads lag behind writes (default: 60 on a remote target, 0 embedded).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="A broken SHOULD rule fails the run (default: it is reported as a warning).",
)
@click.option(
    "--fault",
    default=None,
    hidden=True,
    help="Embedded target only: switch on one of the reference server's faults.",
)
@click.option(
    "--reading",
    "readings",
    multiple=True,
    metavar="POINT=ALTERNATIVE",
    help="Embedded target only: how the reference server reads an open point of the docs "
    "(repeatable; 'random[:SEED]' draws every point).",
)
@click.option(
    "--over-http",
    is_flag=True,
    help="Embedded target only: serve the reference server on a loopback port (uvicorn) "
    "and talk to it over real HTTP; its virtual clock stays in this process.",
)
@races_and_workers_options
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
    contact_ids: tuple[str, ...],
    local_phones: tuple[str, ...],
    template_id: str | None,
    user_id: str | None,
    recipients: tuple[str, ...],
    max_requests: int | None,
    max_time: float | None,
    excluded: tuple[str, ...],
    baseline: Path | None,
    summary_md: Path | None,
    quiet: bool,
    settle: float | None,
    strict: bool,
    fault: str | None,
    readings: tuple[str, ...],
    over_http: bool,
    races: bool,
    race_histories: int,
    race_max_requests: int,
    race_max_time: float,
    workers: int,
    latency: float,
) -> None:
    """Check a server against every documented rule; write report.json, junit.xml and
    report.html to --report-dir.

    \b
    Environment (each is the option's default; an option given wins):
      CLOSE_API_URL         --base-url: a remote target instead of the embedded server
      CLOSE_API_KEY         --api-key
      CLOSE_OAUTH_TOKEN     --oauth-token
      CLOSE_SECOND_API_KEY  --second-api-key
    No other variable of the suite's own; the HTTP clients honour the usual proxy and
    CA variables (HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE, REQUESTS_CA_BUNDLE).

    \b
    Exit codes: 0 every checked rule held (known deviations of --baseline aside), 1 a
    rule was violated, 2 usage or configuration error, 3 inconclusive (target
    unreachable, credentials refused, too much noise, a budget spent: --max-time,
    --max-requests)."""
    from conformance.baseline import known_deviations
    from conformance.catalogue import CATALOGUE
    from conformance.client import Credentials
    from conformance.engine import run_target
    from conformance.model import Timing
    from conformance.reporting import write_reports
    from conformance.reporting.markdown import write_markdown
    from conformance.target import (
        DEFAULT_MAX_SECONDS,
        FICTIONAL_RECIPIENTS,
        ConfigurationError,
        GivenFixtures,
        embedded_target,
        remote_target,
    )

    say = Say([api_key, oauth_token, second_api_key])
    seed_value = random.randrange(2**32) if seed_value is None else seed_value
    try:
        check_writable(report_dir)
        if summary_md is not None:
            check_appendable(summary_md)
        check_rule_ids(excluded, CATALOGUE)
        known = known_deviations(baseline) if baseline is not None else frozenset()
        if base_url:
            if fault or readings:
                raise ConfigurationError("--fault and --reading apply to the embedded server only")
            if over_http:
                raise ConfigurationError("--over-http applies to the embedded server only")
            if latency:
                raise ConfigurationError("--latency applies to the embedded server only")
            if grace < 0:
                raise ConfigurationError(f"--grace must be 0 or more seconds, got {grace}")
            target = remote_target(
                base_url,
                Credentials(api_key, oauth_token, second_api_key),
                allow_send=allow_send,
                timing=Timing(early=2.0, grace=grace),
                max_requests=max_requests,
                max_seconds=DEFAULT_MAX_SECONDS if max_time is None else max_time,
                recipients=recipients or FICTIONAL_RECIPIENTS,
                given=GivenFixtures(
                    lead_ids, local_phones, template_id, contact_ids=contact_ids, user_id=user_id
                ),
            )
        else:
            from conformance.refserver.readings import parse_readings

            target = embedded_target(
                faults=[fault] if fault else [],
                readings=parse_readings(readings),
                max_requests=max_requests,
                max_seconds=max_time,
                over_http=over_http,
                latency=latency,
            )
    except (ConfigurationError, ValueError) as error:
        say(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    if from_environment("base_url") and not quiet:
        say("sms-conformance: the target comes from CLOSE_API_URL (unset it for the embedded one)")
    if not quiet:
        say(
            f"sms-conformance: checking {target.name} "
            f"(profile {profile}, seed {seed_value}, run id {target.run_id}"
            + (f", {workers} workers)" if workers > 1 else ")")
        )
    race_limits = None
    if races:
        from conformance.races.live import RaceLimits

        race_limits = RaceLimits(race_histories, 3, race_max_requests, race_max_time)
    signals = Signals(target, say)
    try:
        with signals.installed():
            report = with_progress(
                say,
                lambda on_event: run_target(
                    target,
                    profile=PROFILES[profile],
                    seed_value=seed_value,
                    on_event=on_event,
                    strict=strict,
                    settle=settle,
                    exclude=excluded,
                    baseline=known,
                    races=race_limits,
                    workers=workers,
                ),
                quiet=quiet,
            )
    except ConfigurationError as error:
        say(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        # Only a signal outside the run's own handling gets here: no report to write.
        say("interrupted before the run could report", err=True)
        tell_leftovers(say, target, target.leftovers + target.created, None)
        forget_a_caught_interrupt()
        sys.exit(EXIT_INCONCLUSIVE)
    report.command = say.redactor.scrub(rerun_command(seed_value))
    paths = write_reports(report, report_dir)
    if summary_md is not None:
        write_markdown(report, summary_md, secrets=say.redactor)
        paths["markdown"] = summary_md
    if quiet:
        say(f"verdict: {report.verdict} - {report.reason}")
    else:
        summarise(say, report, paths)
    tell_leftovers(say, target, report.leftovers or target.leftovers, report.cleanup_command)
    forget_a_caught_interrupt()
    sys.exit({"pass": EXIT_PASS, "fail": EXIT_FAIL}.get(report.verdict, EXIT_INCONCLUSIVE))


#: Credential options: a rerun command names the variable, never the value.
_CREDENTIAL_OPTIONS = {
    "api_key": "CLOSE_API_KEY",
    "oauth_token": "CLOSE_OAUTH_TOKEN",
    "second_api_key": "CLOSE_SECOND_API_KEY",
}


def rerun_command(seed_value: int) -> str:
    """The command that repeats this run: every option given (on the command line or from
    the environment), the seed drawn, credentials as ``"$VARIABLE"`` references."""
    context = click.get_current_context(silent=True)
    words = ["sms-conformance", "run"]
    if context is None:
        return shlex.join([*words, "--seed", str(seed_value)])
    tail: list[str] = []
    for parameter in context.command.params:
        name = parameter.name or ""
        value: object = seed_value if name == "seed_value" else context.params.get(name)
        source = context.get_parameter_source(name)
        given = source not in (None, click.core.ParameterSource.DEFAULT)
        if not isinstance(parameter, click.Option) or not (given or name == "seed_value"):
            continue
        option = max(parameter.opts, key=len)
        if name in _CREDENTIAL_OPTIONS:
            if value:
                tail.append(f'{option} "${_CREDENTIAL_OPTIONS[name]}"')
            continue
        if parameter.is_flag:
            if value:
                tail.append(option)
            continue
        items = list(value) if parameter.multiple and isinstance(value, tuple | list) else [value]
        for item in items:
            if item is not None:
                tail.append(shlex.join([option, str(item)]))
    return " ".join([shlex.join(words), *tail])
