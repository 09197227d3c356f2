"""Targets: where a run sends its requests, and the fixtures it needs there.

:func:`embedded_target` starts the reference server in-process on a virtual clock;
:func:`remote_target` points at a base URL over real HTTP. Either way the fixtures (user,
internal numbers, leads with contacts, a template) come from the documented endpoints,
and what the run created is deleted by :meth:`Target.close`.

Nothing the target answers is trusted: every fixture answer is read field by field
(:mod:`conformance.fixture_answers`), every id goes into a path through
:func:`conformance.safety.item_path`, and a lead or template the run creates is read back
and must carry the run's own tagged name (``sms-conformance <run id> lead 0``) before the
run uses it, or deletes it. Leads named with ``--lead-id`` are read, never deleted.

The package, by concern: :mod:`.naming` (run ids, tagged names, shared constants),
:mod:`.errors`, :mod:`.discovery` (the fixtures), :mod:`.core` (:class:`Target` and its
clean-up) and :mod:`.build` (:func:`embedded_target`, :func:`remote_target`).
"""

from __future__ import annotations

from conformance.target.build import embedded_target as embedded_target
from conformance.target.build import remote_target as remote_target
from conformance.target.core import GivenFixtures as GivenFixtures
from conformance.target.core import Target as Target
from conformance.target.discovery import FixtureDiscovery as FixtureDiscovery
from conformance.target.errors import ConfigurationError as ConfigurationError
from conformance.target.errors import EndpointMissing as EndpointMissing
from conformance.target.errors import TargetRejected as TargetRejected
from conformance.target.naming import CONTACT_NAMES as CONTACT_NAMES
from conformance.target.naming import DEFAULT_MAX_SECONDS as DEFAULT_MAX_SECONDS
from conformance.target.naming import EMBEDDED_ID_SEED as EMBEDDED_ID_SEED
from conformance.target.naming import EMBEDDED_RATE_LIMIT as EMBEDDED_RATE_LIMIT
from conformance.target.naming import FICTIONAL_RECIPIENTS as FICTIONAL_RECIPIENTS
from conformance.target.naming import FIRST_NAME as FIRST_NAME
from conformance.target.naming import LABEL as LABEL
from conformance.target.naming import LEAD as LEAD
from conformance.target.naming import LEAD_ENDPOINT as LEAD_ENDPOINT
from conformance.target.naming import MISSING as MISSING
from conformance.target.naming import OK_DELETE as OK_DELETE
from conformance.target.naming import PLAIN_TEMPLATE_TEXT as PLAIN_TEMPLATE_TEXT
from conformance.target.naming import RUN_ID as RUN_ID
from conformance.target.naming import RUN_ID_LENGTH as RUN_ID_LENGTH
from conformance.target.naming import SMS as SMS
from conformance.target.naming import TAG as TAG
from conformance.target.naming import TEMPLATE as TEMPLATE
from conformance.target.naming import TEMPLATE_RULES as TEMPLATE_RULES
from conformance.target.naming import TEMPLATE_TEXT as TEMPLATE_TEXT
from conformance.target.naming import USER_RULES as USER_RULES
from conformance.target.naming import new_run_id as new_run_id
from conformance.target.naming import tagged_name as tagged_name
from conformance.target.naming import tagged_name_pattern as tagged_name_pattern

__all__ = [
    "ConfigurationError",
    "EndpointMissing",
    "GivenFixtures",
    "RUN_ID_LENGTH",
    "TAG",
    "Target",
    "TargetRejected",
    "embedded_target",
    "new_run_id",
    "remote_target",
    "tagged_name",
    "tagged_name_pattern",
]
