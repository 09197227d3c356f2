"""Turn a failure's steps into something a person can run again: a bash script of curl
commands, or a self-contained Python (httpx) script. Both run as pasted against a fresh
target:

- they create their own lead with a contact (and a template when the steps used one)
  through the documented endpoints, named ``sms-conformance <id> lead 0`` like a run's
  (so ``cleanup`` finds them if a replay is killed), and map the recorded ids onto them;
  each SMS a step creates is bound to a variable (``SMS_1`` in the shell, ``sms_1`` in
  Python) and replaces the recorded id in later paths and bodies; another organisation's
  lead or template the failing step names is made with ``CLOSE_SECOND_API_KEY``
  (``FOREIGN_LEAD``, ``foreign_template``) and deleted with it;
- they wait between steps as the run did (``sleep``), from each step's ``sent_at``;
- at the end they check the violation's symptom on the last answer
  (:func:`conformance.replay.symptom_of`: what the recorded answer has that the clean
  reference server's does not) and exit 1 when it shows, 0 when it does not, 2 when a
  fixture could not be created, 3 when the failure has no symptom to check;
- they delete everything they created, whatever happens (``trap`` / ``finally``).

Neither holds a credential: each reads it from the environment variable named after the
step's ``auth`` (``CLOSE_API_KEY``, ...); the base URL is ``CLOSE_API_URL`` or else the
recorded target, the sending number ``CLOSE_LOCAL_PHONE`` or else the recorded one.
Whatever a recorded step carries, the replay text is scrubbed last by value
(``_safety.scrub_text``): given the run's ``secrets``, no form of any of them is in it.

The package: :mod:`.common` (credential variables, fixtures, recorded ids onto variables),
:mod:`.curl` (the bash writer), :mod:`.python` (the Python writer) and :mod:`.python_text`
(the Python script's fixed text); :func:`replay` (here) gives both forms.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.records import Failure
from conformance.replay import symptom_of
from conformance.reporting._safety import Secrets
from conformance.reporting.replay.common import CREDENTIAL_VARIABLES as CREDENTIAL_VARIABLES
from conformance.reporting.replay.common import EXIT_CODES as EXIT_CODES
from conformance.reporting.replay.curl import curl_commands
from conformance.reporting.replay.python import python_script

__all__ = ["CREDENTIAL_VARIABLES", "Replay", "curl_commands", "python_script", "replay"]


@dataclass(frozen=True, slots=True)
class Replay:
    """A failure's steps as a bash script of curl commands (one line of text per item)
    and as a self-contained httpx script."""

    curl: list[str]
    python: str


def replay(failure: Failure, target: str, *, secrets: Secrets = None) -> Replay:
    """Return both replay forms of ``failure``'s steps against the base URL ``target``."""
    symptom = symptom_of(failure)
    return Replay(
        curl=curl_commands(
            failure.steps, target, rule=failure.rule, secrets=secrets, symptom=symptom
        ),
        python=python_script(failure, target, secrets=secrets, symptom=symptom),
    )
