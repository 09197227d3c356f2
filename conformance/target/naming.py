"""What a run calls what it makes, and the constants targets share: run ids, tagged
names, the fictional recipients, the fixture collections, the budgets.
"""

from __future__ import annotations

import re
import uuid

TEMPLATE_TEXT = "Hi {{ contact.first_name }}, this is a conformance check."
PLAIN_TEMPLATE_TEXT = "Hi, this is a conformance check."  # when the contact's name is unknown
FIRST_NAME = re.compile(r"\{\{\s*contact\.first_name\s*\}\}")
LEAD_ENDPOINT = "GET /lead/{id}/"
# The rules a fixture the target could not give keeps from being judged.
TEMPLATE_RULES = ("sms/create/template-renders", "sms/create/template-and-text")
USER_RULES = ("sms/list/filter-user-id",)
CONTACT_NAMES = ("Ada Lovelace", "Grace Hopper")
# Numbers reserved for fiction (NANP 555-0100..0199): a sent SMS reaches nobody. With a real
# area code (201, New Jersey), not 555: a server that checks numbers with libphonenumber finds
# +1 555 555-0100 invalid and refuses every create (audit C21), while +1 201-555-0123 is
# libphonenumber's own example of a valid US number.
FICTIONAL_RECIPIENTS = ("+12015550123", "+12015550124")
TAG = "sms-conformance"  # every lead and template a run creates is named "<TAG> <run id> <label>"
RUN_ID_LENGTH = 12  # hex digits: 48 bits, so two runs (or a customer's lead) never share a tag
RUN_ID = f"[0-9a-f]{{{RUN_ID_LENGTH}}}"
LABEL = r"[a-z]+(?: [0-9]+)?"  # "lead 0", "template", "ledger", "bulk"
EMBEDDED_ID_SEED = 0
EMBEDDED_RATE_LIMIT = 15  # requests per (virtual) second and key
DEFAULT_MAX_SECONDS = 3600.0  # a remote run's time budget (--max-time): then inconclusive
OK_DELETE = frozenset({200, 202, 204, 404})  # 404: already gone, which is what was wanted
MISSING = frozenset({404, 405})  # a fixture endpoint answering these is one the target lacks
LEAD, TEMPLATE, SMS = "lead/", "sms_template/", "activity/sms/"


def new_run_id() -> str:
    """A fresh run id: ``RUN_ID_LENGTH`` lowercase hex digits."""
    return uuid.uuid4().hex[:RUN_ID_LENGTH]


def tagged_name(run_id: str, label: str) -> str:
    """The name of something the run creates: ``tagged_name("0123456789ab", "lead 0") ==
    "sms-conformance 0123456789ab lead 0"``; ``label`` must match ``LABEL``."""
    if not re.fullmatch(LABEL, label):
        raise ValueError(f"a fixture label is lowercase words and a number, got {label!r}")
    return f"{TAG} {run_id} {label}"


def tagged_name_pattern(run_id: str | None = None) -> re.Pattern[str]:
    """What a name must match *whole* (``fullmatch``) to be one a run gave: of run
    ``run_id``, or of any run (12 hex digits) when None. A customer's lead named
    ``sms-conformance customers list`` does not match."""
    run = re.escape(run_id) if run_id else RUN_ID
    return re.compile(rf"{re.escape(TAG)} (?P<run_id>{run}) (?P<label>{LABEL})")
