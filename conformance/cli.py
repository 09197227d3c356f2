"""The ``sms-conformance`` command: a thin shell over the engine and the reference server.

Usage: sms-conformance [OPTIONS] COMMAND [ARGS]...

Commands:
  run        Check a server (or, with no --base-url, the embedded reference server).
  cleanup    Delete what earlier runs left on a target.
  self-test  Prove detection: clean server passes, every faulty variant is caught.
  serve      Serve the reference implementation of the Close SMS API over HTTP.

Exit codes of ``run``: 0 every checked rule held, 1 a rule was violated, 2 usage or
configuration error, 3 inconclusive (target unreachable, credentials rejected).

Every line printed here that can carry text from the target goes through a
:class:`~conformance.redaction.Redactor` of the run's credentials, and through
``rich.markup.escape`` when rich prints it.
"""

from __future__ import annotations

import contextlib
import random
import re
import shlex
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import click

from conformance.profiles import PROFILES

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INCONCLUSIVE = 0, 1, 2, 3
RUN_ID_OPTION = re.compile(r"[0-9a-f]{8,32}")  # 12 today; 8 for runs of earlier versions


class Say:
    """Print lines with every form of the credentials scrubbed out."""

    def __init__(self, secrets: list[str | None]) -> None:
        from conformance.redaction import Redactor

        self.redactor = Redactor(secrets)

    def __call__(self, text: str, *, err: bool = False) -> None:
        click.echo(self.redactor.scrub(text), err=err)

    def markup(self, text: str) -> str:
        """``text`` scrubbed and escaped, to print through rich."""
        from rich.markup import escape

        return escape(self.redactor.scrub(text))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sms-conformance")
def main() -> None:
    """Property-based conformance suite for the Close CRM SMS activity API."""


@main.command()
@click.option(
    "--base-url",
    envvar="CLOSE_API_URL",
    show_envvar=True,
    help="Target ending in /api/v1 (default: the embedded reference server). Set in the "
    "environment, CLOSE_API_URL turns every run remote.",
)
@click.option("--api-key", envvar="CLOSE_API_KEY", show_envvar=True, help="API key.")
@click.option(
    "--oauth-token", envvar="CLOSE_OAUTH_TOKEN", show_envvar=True, help="OAuth bearer token."
)
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
        _check_writable(report_dir)
        if summary_md is not None:
            _check_appendable(summary_md)
        _check_rule_ids(excluded, CATALOGUE)
        known = known_deviations(baseline) if baseline is not None else frozenset()
        if base_url:
            if fault or readings:
                raise ConfigurationError("--fault and --reading apply to the embedded server only")
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
            )
    except (ConfigurationError, ValueError) as error:
        say(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    if _from_environment("base_url") and not quiet:
        say("sms-conformance: the target comes from CLOSE_API_URL (unset it for the embedded one)")
    if not quiet:
        say(
            f"sms-conformance: checking {target.name} "
            f"(profile {profile}, seed {seed_value}, run id {target.run_id})"
        )
    signals = _Signals(target, say)
    try:
        with signals.installed():
            report = _with_progress(
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
                ),
                quiet=quiet,
            )
    except ConfigurationError as error:
        say(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        # Only a signal outside the run's own handling gets here: no report to write.
        say("interrupted before the run could report", err=True)
        _tell_leftovers(say, target, target.leftovers + target.created, None)
        forget_a_caught_interrupt()
        sys.exit(EXIT_INCONCLUSIVE)
    report.command = say.redactor.scrub(_rerun_command(seed_value))
    paths = write_reports(report, report_dir)
    if summary_md is not None:
        write_markdown(report, summary_md, secrets=say.redactor)
        paths["markdown"] = summary_md
    if quiet:
        say(f"verdict: {report.verdict} - {report.reason}")
    else:
        _summarise(say, report, paths)
    _tell_leftovers(say, target, report.leftovers or target.leftovers, report.cleanup_command)
    forget_a_caught_interrupt()
    sys.exit({"pass": EXIT_PASS, "fail": EXIT_FAIL}.get(report.verdict, EXIT_INCONCLUSIVE))


#: Credential options: a rerun command names the variable, never the value.
_CREDENTIAL_OPTIONS = {
    "api_key": "CLOSE_API_KEY",
    "oauth_token": "CLOSE_OAUTH_TOKEN",
    "second_api_key": "CLOSE_SECOND_API_KEY",
}


def _rerun_command(seed_value: int) -> str:
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


def _from_environment(parameter: str) -> bool:
    """Whether the current command's ``parameter`` came from an environment variable."""
    context = click.get_current_context(silent=True)
    if context is None:
        return False
    return context.get_parameter_source(parameter) is click.core.ParameterSource.ENVIRONMENT


def _check_writable(directory: Path) -> None:
    """Refuse a --report-dir the reports could not be written to, before the run starts."""
    from conformance.target import ConfigurationError

    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise ConfigurationError(
            f"--report-dir {directory} is not a writable directory ({error.strerror or error})"
        ) from None


def _check_appendable(path: Path) -> None:
    """Refuse a --summary-md the summary could not be appended to, before the run starts."""
    from conformance.target import ConfigurationError

    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as error:
        raise ConfigurationError(
            f"--summary-md {path} cannot be written to ({error.strerror or error})"
        ) from None


def _check_rule_ids(ids: tuple[str, ...], catalogue) -> None:
    """Refuse a rule id the catalogue lacks, naming the closest ones."""
    import difflib

    from conformance.target import ConfigurationError

    for rule_id in ids:
        if rule_id not in catalogue:
            close = difflib.get_close_matches(rule_id, list(catalogue), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigurationError(f"--exclude-rule {rule_id}: no such rule{hint}")


def cleanup_command(base_url: str, run_id: str) -> str:
    """The command that removes what run ``run_id`` left at ``base_url``."""
    return f"sms-conformance cleanup --base-url {shlex.quote(base_url)} --run-id {run_id}"


def _tell_leftovers(say: Say, target, leftovers: list[str], command: str | None) -> None:
    """List what clean-up could not delete, and how to remove it."""
    if not leftovers:
        return
    say(f"left on the target ({len(leftovers)} item(s) clean-up could not delete):", err=True)
    for path in dict.fromkeys(leftovers):
        say(f"  {path}", err=True)
    if not target.embedded:
        base_url = str(target.api.http.base_url).rstrip("/")
        say(f"remove them with: {command or cleanup_command(base_url, target.run_id)}", err=True)


class _Signals:
    """Ctrl-C and SIGTERM during a run.

    The first stops the run, which then deletes what it created; the second, during that
    clean-up, does not stop it (it says so); the third abandons the clean-up, and what is
    left is listed. Each time the client is told too, so the run stops at its next request
    even when the ``KeyboardInterrupt`` is swallowed on the way (Python drops one raised
    in a ``__del__`` or a gc callback)."""

    def __init__(self, target, say: Say) -> None:
        self.target = target
        self.say = say
        self.count = 0

    def __call__(self, signum: int, frame: object) -> None:
        self.count += 1
        self.target.api.interrupt()
        if self.count == 1 and not self.target.closing:
            raise KeyboardInterrupt  # the run stops and deletes what it created
        if self.count <= 2:
            further = "a third" if self.count == 2 else "another"
            self.count = 2
            self._tell(
                f"clean-up is finishing (deleting what the run created); {further} Ctrl-C "
                "abandons it"
            )
            return
        self._tell("clean-up abandoned; what is left on the target will be listed")
        self.target.abandon_cleanup()
        if self.target.closing:
            raise KeyboardInterrupt  # cut the DELETE under way short

    def _tell(self, text: str) -> None:
        with contextlib.suppress(RuntimeError, OSError):  # a write under way on the stream
            self.say(f"sms-conformance: {text}", err=True)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Handle SIGINT and SIGTERM inside the block; the old handlers come back after."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def forget_a_caught_interrupt() -> None:
    """Let the exit code stand after a Ctrl-C the run caught.

    CPython notes a ``KeyboardInterrupt`` that leaves code run from a string (``exec`` and
    ``eval`` of source text: dataclass and namedtuple set-up, Hypothesis's signature
    copies) as unhandled, even when a caller catches it; under ``python -m`` it then ends
    the process by SIGINT instead of with the exit code (``run_eval_code_obj`` in
    ``Python/pythonrun.c``). Each such run clears the note first, so an empty one does."""
    exec("")  # noqa: S102 - an empty string, for its side effect on that note


@main.command()
@click.option(
    "--base-url",
    envvar="CLOSE_API_URL",
    show_envvar=True,
    required=True,
    help="Target ending in /api/v1.",
)
@click.option("--api-key", envvar="CLOSE_API_KEY", show_envvar=True, help="API key.")
@click.option(
    "--oauth-token", envvar="CLOSE_OAUTH_TOKEN", show_envvar=True, help="OAuth bearer token."
)
@click.option(
    "--run-id",
    default=None,
    help="Only what this run created (each run prints its id at the start; default: every run).",
)
@click.option(
    "--yes",
    "-y",
    "assume_yes",
    is_flag=True,
    help="Delete without asking (without --run-id, cleanup otherwise asks first).",
)
def cleanup(
    base_url: str,
    api_key: str | None,
    oauth_token: str | None,
    run_id: str | None,
    assume_yes: bool,
) -> None:
    """Delete what earlier runs left behind: leads and templates named exactly
    'sms-conformance <run id> <label>', and the SMS on those leads that say they are on
    them. Every SMS a run creates carries one of its leads, so nothing else is needed.
    Shows what it will delete; without --run-id it asks first (or needs --yes).

    Exit codes: 0 everything found was deleted (or nothing was found, or the answer was
    no), 2 usage error or no confirmation possible, 3 the target could not be listed (or a
    list was longer than cleanup reads), refused the credentials (every request answered
    401 or 403: it says so), something could not be deleted, or Ctrl-C came (it says
    what was deleted and what was not)."""
    from conformance.cleanup import delete_leftovers, find_leftovers
    from conformance.client import Credentials, RunAborted
    from conformance.target import ConfigurationError, TargetRejected, remote_target

    say = Say([api_key, oauth_token])
    if run_id is not None and not RUN_ID_OPTION.fullmatch(run_id):
        say("error: --run-id is the hex id a run prints at its start, like 0123456789ab", err=True)
        sys.exit(EXIT_USAGE)
    try:
        target = remote_target(base_url, Credentials(api_key, oauth_token), allow_send=False)
    except ConfigurationError as error:
        say(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    try:
        plan = find_leftovers(target.api, run_id=run_id)
        for note in plan.skipped:
            say(f"skipped: {note}")
        for note in plan.unfinished:
            say(f"not looked at: {note}", err=True)
        if not plan and plan.unfinished:
            say(
                f"inconclusive: no lead or template of {_whose(run_id)} in what was listed, "
                "but the lists were cut short; nothing was deleted",
                err=True,
            )
            sys.exit(EXIT_INCONCLUSIVE)
        if not plan:
            say(f"nothing to delete: no lead or template of {_whose(run_id)} on the target")
            return
        say(f"found {plan.describe()} of {_whose(run_id)}:")
        for item in plan.items:
            say(f"  {item.path}  {item.what}")
        if run_id is None and not assume_yes:
            if not _interactive():
                say(
                    "error: cleanup without --run-id asks before deleting, and there is no "
                    "terminal to ask on: pass --yes, or --run-id to name one run",
                    err=True,
                )
                sys.exit(EXIT_USAGE)
            if not click.confirm(f"delete these {len(plan.items)} item(s)?", default=False):
                say("nothing was deleted")
                return
        result = delete_leftovers(target.api, plan)
    except (RunAborted, TargetRejected) as error:
        say(f"inconclusive: {error}", err=True)
        sys.exit(EXIT_INCONCLUSIVE)
    except KeyboardInterrupt:  # while listing (deleting reports what it did, below)
        say("interrupted while listing; nothing was deleted", err=True)
        sys.exit(EXIT_INCONCLUSIVE)
    finally:
        target.api.http.close()
    for path in result.deleted:
        say(f"  deleted {path}")
    for path, why in result.failed.items():
        say(f"  could not delete {path}: {why}", err=True)
    answers = set(result.failed.values())
    if not result.deleted and answers in ({"answered 401"}, {"answered 403"}):
        say(
            f"inconclusive: the target refused the credentials for every DELETE "
            f"({answers.pop()}): {len(result.failed)} item(s) could not be deleted",
            err=True,
        )
        sys.exit(EXIT_INCONCLUSIVE)
    say(
        f"deleted {result.leads} lead(s), {result.sms} SMS, {result.templates} template(s)"
        + (f"; {len(result.failed)} item(s) could not be deleted" if result.failed else "")
        + ("; interrupted" if result.interrupted else "")
        + ("; the lists were cut short, more may be left" if result.unfinished else "")
    )
    sys.exit(EXIT_PASS if result.ok else EXIT_INCONCLUSIVE)


def _whose(run_id: str | None) -> str:
    return f"run {run_id}" if run_id else "any run"


def _interactive() -> bool:
    """Whether there is someone at a terminal to confirm a deletion."""
    return bool(sys.stdin is not None and sys.stdin.isatty())


PLAIN_PROGRESS_EVERY = 15.0  # seconds between progress lines when stderr is not a terminal


def _with_progress(say: Say, job, *, quiet: bool = False):
    """Run ``job(on_event)`` showing its progress on stderr: a rich status line on a
    terminal; else plain lines (each phase, each violation, progress every
    :data:`PLAIN_PROGRESS_EVERY` seconds); nothing when ``quiet``."""
    import time

    from rich.console import Console

    if quiet:
        return job(lambda event: None)
    console = Console(stderr=True)
    if not console.is_terminal:
        last = [time.monotonic()]

        def plain(event) -> None:
            if event.kind == "progress":
                if time.monotonic() - last[0] < PLAIN_PROGRESS_EVERY:
                    return
                last[0] = time.monotonic()
            label = "violated" if event.kind == "violation" else event.kind
            say(f"[{label}] {' '.join(str(event.detail).split())}", err=True)

        return job(plain)
    with console.status("running", spinner="dots") as status:

        def on_event(event) -> None:
            if event.kind == "violation":
                console.print(f"[red]violated[/red] {say.markup(str(event.detail))}")
            else:
                status.update(say.markup(str(event.detail)))

        return job(on_event)


def _summarise(say: Say, report, paths) -> None:
    counts = {status: 0 for status in ("pass", "fail", "warning", "informational", "not-run")}
    statuses = {rule.id: rule.status for rule in report.rules}
    for rule in report.rules:
        counts[rule.status] = counts.get(rule.status, 0) + 1
    say(
        ", ".join(f"{n} {status}" for status, n in counts.items()) + " rules; "
        f"{report.stats.requests} requests in {report.stats.duration:.1f}s"
    )
    from conformance.explain import explain

    for failure in report.failures:
        label = "WARN" if statuses.get(failure.rule) == "warning" else "FAIL"
        say(
            f"  {label} {failure.rule}: {explain(failure).line()}"
            f" ({len(failure.steps)} requests to reproduce)"
        )
    for reason, rules in _not_run_for_a_known_cause(report).items():
        say(f"  NOT RUN {', '.join(rules)}: {reason}")
    from conformance.records import Coverage

    say(Coverage.of(report.rules).line())
    met = [point for point in report.open_points if point.readings]
    if met:
        say("behaviour profile: " + ", ".join(f"{point.id}={point.seen}" for point in met))
    say(f"verdict: {report.verdict} - {report.reason}")
    say("reports: " + ", ".join(str(path) for path in paths.values()))


def _not_run_for_a_known_cause(report) -> dict[str, list[str]]:
    """The not-run rules the user can get run (a credential or flag to give, a target that
    never throttled), grouped by reason."""
    grouped: dict[str, list[str]] = {}
    for rule in report.rules:
        reason = rule.reason or ""
        if rule.status == "not-run" and reason.startswith(("needs ", "the target never")):
            grouped.setdefault(reason, []).append(rule.id)
    return grouped


@main.command("self-test")
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
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("self-test", total=total)

            def advance(_outcome: object) -> None:
                progress.advance(task)

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

    unknown = [name for name in faults if name not in FAULTS]
    if unknown:
        click.echo(
            f"error: unknown fault(s) {unknown}; known: {', '.join(sorted(FAULTS))}", err=True
        )
        sys.exit(EXIT_USAGE)
    try:
        with _terminate_as_interrupt():
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


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM stops ``serve`` as Ctrl-C does (uvicorn catches both while it serves, shuts
    down, then raises the signal again: this makes that a ``KeyboardInterrupt``)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@main.command("replay")
@click.argument("report", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--failure",
    "failure_number",
    type=click.IntRange(min=1),
    default=None,
    help="Replay the N-th failure of the report (1 is the first).",
)
@click.option("--rule", "rule_id", default=None, help="Replay the failures of this rule.")
@click.option(
    "--base-url",
    envvar="CLOSE_API_URL",
    help="Target ending in /api/v1 (default: the report's target).",
)
@click.option("--api-key", envvar="CLOSE_API_KEY", help="API key (env CLOSE_API_KEY).")
@click.option(
    "--oauth-token", envvar="CLOSE_OAUTH_TOKEN", help="OAuth bearer token (env CLOSE_OAUTH_TOKEN)."
)
@click.option(
    "--second-api-key", envvar="CLOSE_SECOND_API_KEY", help="API key of a second organisation."
)
@click.option(
    "--allow-send",
    is_flag=True,
    help="Permit replaying steps that deliver an SMS (outbox, scheduled) on a remote target.",
)
@click.option(
    "--local-phone",
    "local_phones",
    multiple=True,
    help="Send from this internal number instead of the recorded one (repeatable, in order).",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Times a replay that does not show the violation is tried again before it is fixed.",
)
@click.option("--embedded", is_flag=True, help="Replay against the embedded reference server.")
@click.option("--fault", "faults", multiple=True, hidden=True, help="Embedded only: a fault.")
@click.option(
    "--reading", "readings", multiple=True, hidden=True, help="Embedded only: POINT=ALTERNATIVE."
)
def replay_command(
    report: Path,
    failure_number: int | None,
    rule_id: str | None,
    base_url: str | None,
    api_key: str | None,
    oauth_token: str | None,
    second_api_key: str | None,
    allow_send: bool,
    local_phones: tuple[str, ...],
    retries: int,
    embedded: bool,
    faults: tuple[str, ...],
    readings: tuple[str, ...],
) -> None:
    """Re-run a saved counterexample from REPORT (report.json or its directory) and say
    whether the violation shows: reproduced (exit 1), fixed (exit 0, after --retries more
    tries), flaky (exit 3: not on the first try, on a later one). A failure whose last
    answer a conforming server gives too cannot be told (exit 3).

    The replay makes its own lead, contact and template, maps the recorded ids onto them,
    keeps the recorded waits between steps and deletes what it made. It judges by the
    violation's symptom (what the recorded last answer has that the clean reference
    server's does not), not by re-running the rule's checks."""
    import json
    import time
    from datetime import UTC, datetime
    from typing import NoReturn

    import httpx

    from conformance.replay import (
        EXIT_CODES,
        ReplayTarget,
        embedded_replay_target,
        failures_from_report,
        sends,
    )

    say = Say([api_key, oauth_token, second_api_key])

    def usage(message: str) -> NoReturn:
        say(f"error: {message}", err=True)
        sys.exit(EXIT_USAGE)

    path = report / "report.json" if report.is_dir() else report
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        failures = failures_from_report(document)
    except (OSError, ValueError, AttributeError, TypeError) as error:
        usage(f"cannot read {path}: {error}")
    if failure_number is not None and rule_id is not None:
        usage("give --failure or --rule, not both")
    chosen = list(enumerate(failures, start=1))
    if failure_number is not None:
        if failure_number > len(failures):
            usage(f"--failure {failure_number}: the report has {len(failures)} failure(s)")
        chosen = [chosen[failure_number - 1]]
    if rule_id is not None:
        chosen = [(n, f) for n, f in chosen if f.rule == rule_id]
        if not chosen:
            usage(f"--rule {rule_id}: no failure of that rule in the report")
    if not chosen:
        usage(f"{path} records no failure to replay")
    from conformance.refserver.server import IN_PROCESS_BASE_URL

    url = (base_url or str(document.get("target") or "")).rstrip("/")
    embedded = embedded or url == IN_PROCESS_BASE_URL
    if (faults or readings) and not embedded:
        usage("--fault and --reading apply to the embedded server only (--embedded)")
    worst = EXIT_PASS
    with contextlib.ExitStack() as stack:
        if embedded:
            try:
                target = stack.enter_context(
                    embedded_replay_target(
                        faults=faults, readings=readings, local_phones=local_phones
                    )
                )
            except ValueError as error:
                usage(str(error))
        else:
            if not url.startswith(("http://", "https://")) or not url.endswith("/api/v1"):
                usage(f"--base-url must be an http(s) URL ending in /api/v1, got {url!r}")
            if "@" in url.split("//", 1)[1].split("/", 1)[0]:
                usage("--base-url must not carry credentials; give --api-key instead")
            if not api_key:
                usage("a remote target needs --api-key (or CLOSE_API_KEY)")
            if not allow_send and any(sends(f.steps) for _, f in chosen):
                usage(
                    "the replay would send SMS (a step sets status outbox or scheduled); "
                    "pass --allow-send to let it"
                )
            target = ReplayTarget(
                http=stack.enter_context(
                    httpx.Client(base_url=url + "/", timeout=30.0, follow_redirects=False)
                ),
                credentials={
                    "basic": api_key,
                    "bearer": oauth_token,
                    "second-org": second_api_key,
                },
                sleep=time.sleep,
                now=lambda: datetime.now(UTC),
                local_phones=local_phones,
                name=url,
            )
        for number, failure in chosen:
            say(
                f"replaying failure {number} ({failure.rule}, {len(failure.steps)} step(s)) "
                f"against {target.name}"
            )
            outcome = target.replay(failure, retries=retries)
            say(f"{outcome.verdict}: {failure.rule} - {outcome.detail}")
            for leftover in outcome.leftovers:
                say(f"  not deleted: {leftover}", err=True)
            code = EXIT_CODES[outcome.verdict]
            if code == EXIT_FAIL or (code and worst == EXIT_PASS):
                worst = code  # one failure reproduced decides; else any doubt is a 3
    sys.exit(worst)


if __name__ == "__main__":
    main()
