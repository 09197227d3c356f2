"""``sms-conformance replay``: re-run a saved counterexample and say whether it shows."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from conformance.cli._common import (
    EXIT_FAIL,
    EXIT_PASS,
    EXIT_USAGE,
    Say,
    api_key_option,
    oauth_token_option,
)

__all__ = ["replay_command"]


@click.command("replay")
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
@api_key_option
@oauth_token_option
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
@click.option(
    "--over-http",
    is_flag=True,
    help="With --embedded: serve the reference server on a loopback port (uvicorn) "
    "and talk to it over real HTTP; its virtual clock stays in this process.",
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
    over_http: bool,
) -> None:
    """Re-run a saved counterexample from REPORT (report.json or its directory) and say
    whether the violation shows: reproduced (exit 1), fixed (exit 0, after --retries more
    tries), flaky (exit 3: not on the first try, on a later one). A failure that neither
    the rule's check on the replayed steps nor its symptom shows cannot be told (exit 3).

    The replay makes its own lead, contacts and template, maps the recorded ids onto them,
    keeps the recorded waits between steps (and the kind of each recorded number), waits
    out 429s, drives the rate limit for a failure in a throttled answer, and deletes what it
    made. It judges the replayed steps with the rule's own checks, on a model rebuilt from
    them, and by the violation's symptom (what the recorded last answer has that the clean
    reference server's does not)."""
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
    if over_http and not embedded:
        usage("--over-http applies to the embedded server only (--embedded)")
    # The recorded run's internal numbers (an older report lacks them: every recorded
    # number not the target's own is then taken for an internal one).
    numbers = document.get("numbers")
    internal = numbers.get("internal") if isinstance(numbers, dict) else None
    internal = [n for n in internal if isinstance(n, str)] if isinstance(internal, list) else None
    worst = EXIT_PASS
    with contextlib.ExitStack() as stack:
        if embedded:
            try:
                target = stack.enter_context(
                    embedded_replay_target(
                        faults=faults,
                        readings=readings,
                        local_phones=local_phones,
                        over_http=over_http,
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
            outcome = target.replay(failure, retries=retries, recorded_internal=internal)
            say(f"{outcome.verdict}: {failure.rule} - {outcome.detail}")
            for leftover in outcome.leftovers:
                say(f"  not deleted: {leftover}", err=True)
            code = EXIT_CODES[outcome.verdict]
            if code == EXIT_FAIL or (code and worst == EXIT_PASS):
                worst = code  # one failure reproduced decides; else any doubt is a 3
    sys.exit(worst)
