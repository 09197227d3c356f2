"""``sms-conformance cleanup``: delete what earlier runs left on a target."""

from __future__ import annotations

import sys

import click

from conformance.cli._common import (
    EXIT_INCONCLUSIVE,
    EXIT_PASS,
    EXIT_USAGE,
    RUN_ID_OPTION,
    Say,
    api_key_option,
    oauth_token_option,
)

__all__ = ["cleanup"]


@click.command()
@click.option(
    "--base-url",
    envvar="CLOSE_API_URL",
    show_envvar=True,
    required=True,
    help="Target ending in /api/v1.",
)
@api_key_option
@oauth_token_option
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
