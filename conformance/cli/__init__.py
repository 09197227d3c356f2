"""The ``sms-conformance`` command: a thin shell over the engine and the reference server.

Usage: sms-conformance [OPTIONS] COMMAND [ARGS]...

Commands:
  run        Check a server (or, with no --base-url, the embedded reference server).
  cleanup    Delete what earlier runs left on a target.
  self-test  Prove detection: clean server passes, every faulty variant is caught.
  serve      Serve the reference implementation of the Close SMS API over HTTP.
  replay     Re-run a saved counterexample.
  races      Concurrent histories against the embedded server, checked for linearizability.

Exit codes of ``run``: 0 every checked rule held, 1 a rule was violated, 2 usage or
configuration error, 3 inconclusive (target unreachable, credentials rejected).

Every line printed here that can carry text from the target goes through a
:class:`~conformance.redaction.Redactor` of the run's credentials, and through
``rich.markup.escape`` when rich prints it.

The package holds the click group (here) and one module per command: ``_run``,
``_cleanup``, ``_selftest``, ``_serve``, ``_replay``, ``_races``; what they share is in ``_common``
(exit codes, the scrubbing printer, option checks), ``_interrupts`` (Ctrl-C and SIGTERM)
and ``_render`` (rich output). ``python -m conformance.cli`` runs :func:`main`.
"""

from __future__ import annotations

import click

from conformance.cli._cleanup import cleanup
from conformance.cli._common import (
    EXIT_FAIL,
    EXIT_INCONCLUSIVE,
    EXIT_PASS,
    EXIT_USAGE,
    RUN_ID_OPTION,
    Say,
    cleanup_command,
)
from conformance.cli._interrupts import Signals, forget_a_caught_interrupt
from conformance.cli._races import races
from conformance.cli._render import PLAIN_PROGRESS_EVERY, summarise, with_progress
from conformance.cli._replay import replay_command
from conformance.cli._run import rerun_command, run
from conformance.cli._selftest import self_test
from conformance.cli._serve import serve

__all__ = [
    "EXIT_FAIL",
    "EXIT_INCONCLUSIVE",
    "EXIT_PASS",
    "EXIT_USAGE",
    "PLAIN_PROGRESS_EVERY",
    "RUN_ID_OPTION",
    "Say",
    "Signals",
    "rerun_command",
    "summarise",
    "with_progress",
    "cleanup",
    "cleanup_command",
    "forget_a_caught_interrupt",
    "main",
    "replay_command",
    "races",
    "run",
    "self_test",
    "serve",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sms-conformance")
def main() -> None:
    """Property-based conformance suite for the Close CRM SMS activity API."""


for _command in (run, cleanup, self_test, serve, replay_command, races):
    main.add_command(_command)
