"""Re-run a recorded counterexample against a target and tell whether the violation shows.

A failure's steps were recorded against fixtures (a lead, its contact, a template) the
run created and deleted again, so a replay makes its own, through the documented
endpoints, and maps the recorded ids onto them (a contact onto a contact of the lead a
body named it with); every SMS a step creates gets a new id, mapped the same way. When
the failing step names another organisation's lead, contact or template (its rule says
which: :func:`.plan.foreign_of`), the replay makes one with the second organisation's key,
names it instead and deletes it with that key. Steps are sent with the recorded waits
between them (``sent_at``), so a timing failure (``send_in: 10``, cancel, read) reproduces.

Whether the violation shows is decided as the run decided it: the replayed steps are fed to a
fresh model and judged by every registered check (:mod:`.judge`); it shows when the failing
rule's check finds it. A 429 met on the way is waited out and judged; a failure whose last
step is a 429 drives the rate limit until the target throttles. The *symptom* (what the
recorded last answer has that the clean reference server's answer to the same steps lacks: a
status, body fields, a JSON type, a date's format, ``content-type``, ``Retry-After``, the
shape of ``RateLimit``) counts too, and is all the curl and Python replays in a report can
check (:mod:`conformance.reporting.replay`). A failure neither shows is one a replay cannot
tell.

The package, by concern: :mod:`.plan` (what the steps need: fixtures, ids, dates, waits, the
SMS a list saw), :mod:`.symptom` (what shows the violation in the last answer), :mod:`.steps`
(sending them again), :mod:`.judge` (the rule's own check on the replayed steps) and
:mod:`.outcome` (the verdict of a replay, and what it runs against).
"""

from __future__ import annotations

from conformance.replay.judge import RuleJudgement as RuleJudgement
from conformance.replay.judge import judge_by_rule as judge_by_rule
from conformance.replay.outcome import EXIT_CODES as EXIT_CODES
from conformance.replay.outcome import Outcome as Outcome
from conformance.replay.outcome import ReplayTarget as ReplayTarget
from conformance.replay.outcome import embedded_replay_target as embedded_replay_target
from conformance.replay.outcome import failures_from_report as failures_from_report
from conformance.replay.outcome import replay_failure as replay_failure
from conformance.replay.outcome import replay_on_embedded as replay_on_embedded
from conformance.replay.plan import CONTACT_NAME as CONTACT_NAME
from conformance.replay.plan import CONTACT_PHONE as CONTACT_PHONE
from conformance.replay.plan import DRIVE_NOTE as DRIVE_NOTE
from conformance.replay.plan import FILL_NOTE as FILL_NOTE
from conformance.replay.plan import FIXTURE_KEYS as FIXTURE_KEYS
from conformance.replay.plan import FOREIGN_CONTACTS as FOREIGN_CONTACTS
from conformance.replay.plan import MIN_WAIT as MIN_WAIT
from conformance.replay.plan import SENDING_STATUSES as SENDING_STATUSES
from conformance.replay.plan import SMS as SMS
from conformance.replay.plan import TEMPLATE_TEXT as TEMPLATE_TEXT
from conformance.replay.plan import THROTTLED_NOTE as THROTTLED_NOTE
from conformance.replay.plan import Plan as Plan
from conformance.replay.plan import contact_name as contact_name
from conformance.replay.plan import fill_body as fill_body
from conformance.replay.plan import foreign_of as foreign_of
from conformance.replay.plan import lead_contacts as lead_contacts
from conformance.replay.plan import plan_for as plan_for
from conformance.replay.plan import sends as sends
from conformance.replay.plan import shifted as shifted
from conformance.replay.plan import substitute as substitute
from conformance.replay.plan import throttled as throttled
from conformance.replay.steps import Replayed as Replayed
from conformance.replay.steps import SetupFailed as SetupFailed
from conformance.replay.steps import raw_content_type as raw_content_type
from conformance.replay.steps import reanchored as reanchored
from conformance.replay.steps import replay_steps as replay_steps
from conformance.replay.symptom import MAX_DEPTH as MAX_DEPTH
from conformance.replay.symptom import Predicate as Predicate
from conformance.replay.symptom import Symptom as Symptom
from conformance.replay.symptom import derive_symptom as derive_symptom
from conformance.replay.symptom import key_path as key_path
from conformance.replay.symptom import shows as shows
from conformance.replay.symptom import symptom_of as symptom_of

__all__ = [
    "EXIT_CODES",
    "FIXTURE_KEYS",
    "FOREIGN_CONTACTS",
    "Outcome",
    "Plan",
    "Predicate",
    "ReplayTarget",
    "Replayed",
    "RuleJudgement",
    "SetupFailed",
    "Symptom",
    "derive_symptom",
    "contact_name",
    "embedded_replay_target",
    "fill_body",
    "foreign_of",
    "judge_by_rule",
    "lead_contacts",
    "failures_from_report",
    "plan_for",
    "replay_failure",
    "replay_on_embedded",
    "replay_steps",
    "sends",
    "shows",
    "substitute",
    "symptom_of",
]
