"""What the commands share: exit codes, the run-id pattern, a printer that scrubs the
credentials, checks of options before a run starts, and how to tell what a run left."""

from __future__ import annotations

import re
import shlex
import tempfile
from pathlib import Path

import click

__all__ = [
    "api_key_option",
    "oauth_token_option",
    "EXIT_FAIL",
    "EXIT_INCONCLUSIVE",
    "EXIT_PASS",
    "EXIT_USAGE",
    "RUN_ID_OPTION",
    "Say",
    "cleanup_command",
]

#: The credential options every command that talks to a target takes, spelt once.
api_key_option = click.option(
    "--api-key", envvar="CLOSE_API_KEY", show_envvar=True, help="API key."
)
oauth_token_option = click.option(
    "--oauth-token", envvar="CLOSE_OAUTH_TOKEN", show_envvar=True, help="OAuth bearer token."
)

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


def from_environment(parameter: str) -> bool:
    """Whether the current command's ``parameter`` came from an environment variable."""
    context = click.get_current_context(silent=True)
    if context is None:
        return False
    return context.get_parameter_source(parameter) is click.core.ParameterSource.ENVIRONMENT


def check_writable(directory: Path) -> None:
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


def check_appendable(path: Path) -> None:
    """Refuse a --summary-md the summary could not be appended to, before the run starts."""
    from conformance.target import ConfigurationError

    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as error:
        raise ConfigurationError(
            f"--summary-md {path} cannot be written to ({error.strerror or error})"
        ) from None


def check_rule_ids(ids: tuple[str, ...], catalogue) -> None:
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


def tell_leftovers(say: Say, target, leftovers: list[str], command: str | None) -> None:
    """List what clean-up could not delete, and how to remove it."""
    if not leftovers:
        return
    say(f"left on the target ({len(leftovers)} item(s) clean-up could not delete):", err=True)
    for path in dict.fromkeys(leftovers):
        say(f"  {path}", err=True)
    if not target.embedded:
        base_url = str(target.api.http.base_url).rstrip("/")
        say(f"remove them with: {command or cleanup_command(base_url, target.run_id)}", err=True)
