"""The rule catalogue: every behaviour the suite checks, traced to the sentence it comes from.

The catalogue is data, kept in ``conformance/catalogue.toml`` next to this package. It has two
kinds of entry::

    [sources.D-create]                  # one table per document cited
    title = "Create an SMS activity"
    url = "https://developer.close.com/api/resources/activities/sms/create"

    [[rule]]                            # one table per rule, in reading order
    id = "sms/create/scheduled-requires-date-scheduled"
    level = "MUST"                      # MUST | SHOULD | unspecified
    statement = "A create with status scheduled and no valid date_scheduled MUST be ..."
    section = "1.3 Create, rule 1"      # section of the research notes
    source = "D-create"                 # key of a [sources.*] table
    quote = "must be specified in the `date_scheduled` field"
    untested = "reason"                 # optional: why no check can observe the rule
    paraphrase = true                   # optional: the quote condenses the notes (default:
                                        # it is verbatim, held so by tests/test_traceability.py)
    needs = ["send"]                    # optional: what judging it takes beyond an API key
                                        # (send, second-api-key, oauth-token: see NEEDS)
    boundaries = ["send_in=59"]         # optional: named boundary cases of the rule, each
                                        # one a check recognises from a step and reports
                                        # (Finding.boundary); the report counts each

    [[open_point]]                      # one table per point the docs leave open
    id = "empty-send"                   # lowercase, hyphenated
    question = "Whether an SMS with no text, attachment or template may be sent."
    section = "6 Open questions, 1"
    source = "D-create"
    quote = "`text` | string or null | no"   # the sentence that leaves it open
    default = "accept"                  # the reading the reference server takes by default
    rules = ["sms/create/status-outbox"]     # rules whose verdict the point touches
    [open_point.alternatives]           # each documented-compatible reading, two or more
    accept = "the send is accepted and goes out"
    reject = "answered 400 with a field error on text"

Ids are stable, lowercase, path-like (``area/operation/name``) and never reused: checks,
faulty reference servers and reports all key on them. ``unspecified`` rules name what the
documentation leaves open; the suite reports what it observes for them and never fails a
target on them. An ``open_point`` names such a gap with every reading a conforming server may
take: the reference server serves each one (``serve --reading POINT=ALTERNATIVE``), and the
oracle allows each one.

Statements follow the Kubernetes behaviours style ("X MUST Y") and, as in the
JSON-Schema-Test-Suite, never say "should" in lower case nor "test that".

The package, by concern: :mod:`.entries` (what a rule, a source and an open point are, and
the :class:`Catalogue` that holds them) and :mod:`.parsing` (reading and validating the
TOML).
"""

from __future__ import annotations

from conformance.catalogue.entries import Catalogue as Catalogue
from conformance.catalogue.entries import CatalogueError as CatalogueError
from conformance.catalogue.entries import Level as Level
from conformance.catalogue.entries import OpenPoint as OpenPoint
from conformance.catalogue.entries import Rule as Rule
from conformance.catalogue.entries import Source as Source
from conformance.catalogue.entries import UnknownRule as UnknownRule
from conformance.catalogue.parsing import NEEDS as NEEDS
from conformance.catalogue.parsing import load_catalogue as load_catalogue

__all__ = [
    "CATALOGUE",
    "Catalogue",
    "CatalogueError",
    "Level",
    "NEEDS",
    "OpenPoint",
    "Rule",
    "Source",
    "UnknownRule",
    "load_catalogue",
]


CATALOGUE: Catalogue = load_catalogue()
