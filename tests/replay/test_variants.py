"""Failures found by real runs of the suite on faulty variants, replayed: reproduced on the
variant, fixed on the clean server, in-process and over loopback HTTP; and the report's
pasted Python and curl replays, executed against served faulty and clean servers.

These are the variants whose replays once could not tell (the violation lies in a header, a
JSON type, a date's format, a filter the model judges) or came out fixed on their own variant
(a number of another kind, a count of SMS, a rate limit, a contact listed with another lead,
another organisation's lead or template).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conformance.replay import replay_on_embedded
from conformance.reporting.replay import curl_commands, python_script
from tests.conftest import served
from tests.replay.recorded import first_failure
from tests.replaying import needs_curl_and_jq, run_pasted

pytestmark = pytest.mark.slow

ONCE_CANNOT_TELL = [
    "has-more-as-string",
    "contact-filter-ignored",
    "tz-offset-ignored",
    "bare-date-as-utc",
    "get-served-as-html",
    "cost-as-int",
    "dates-without-t",
    "date-sent-http-date",
    "ratelimit-header-malformed",
]
ONCE_FIXED_ON_THEIR_VARIANT = [
    "external-local-phone-accepted",
    "unknown-local-phone-accepted",
    "default-limit-unbounded",
    "429-without-retry-after",
    "retry-after-off-by-one",
    "lead-filter-ignored",  # its contact listed with another lead
    "foreign-lead-accepted",  # another organisation's lead, made with the second key
    "foreign-template-accepted",  # another organisation's template
]


@pytest.mark.parametrize("over_http", [False, True], ids=["in-process", "over-http"])
@pytest.mark.parametrize("fault", ONCE_CANNOT_TELL + ONCE_FIXED_ON_THEIR_VARIANT)
def test_a_variants_first_failure_replays_reproduced_on_it_and_fixed_on_the_clean_server(
    fault, over_http
):
    failure = first_failure(fault)
    on_variant = replay_on_embedded(failure, faults=[fault], retries=0, over_http=over_http)
    clean = replay_on_embedded(failure, retries=0, over_http=over_http)
    assert on_variant.verdict == "reproduced", on_variant.detail
    assert clean.verdict == "fixed", clean.detail


# Pasted replays on a real clock: the bare-date variants are left out, their reproduction
# depends on the time of day (the SMS must fall between the two midnights).
PASTED = [
    "429-without-retry-after",  # drives the rate limit
    "retry-after-off-by-one",
    "default-limit-unbounded",  # makes the 99 SMS the probe's transcript leaves out again
    "external-local-phone-accepted",  # keeps the external number
    "contact-filter-ignored",  # two contacts on one lead
    "has-more-as-string",  # a JSON type
    "get-served-as-html",  # a header
    "dates-without-t",  # a date's format
    "ratelimit-header-malformed",  # a header's shape
    "lead-filter-ignored",  # a contact on one lead, listed with another
    "foreign-lead-accepted",  # made with CLOSE_SECOND_API_KEY
]


@pytest.mark.parametrize("language", ["python", pytest.param("bash", marks=needs_curl_and_jq)])
@pytest.mark.parametrize("fault", PASTED)
def test_the_pasted_replays_exit_1_on_the_served_variant_and_0_on_the_clean_server(
    fault, language, tmp_path: Path
):
    failure = first_failure(fault)
    if language == "python":
        script = tmp_path / "replay.py"
        script.write_text(python_script(failure, "http://recorded.invalid/api/v1"))
        command = [sys.executable, str(script)]
    else:
        script = tmp_path / "replay.sh"
        lines = curl_commands(failure.steps, "http://recorded.invalid/api/v1", rule=failure.rule)
        script.write_text("\n".join(lines) + "\n")
        command = ["bash", str(script)]
    # Rate-limited as the run's embedded server is: a rate-limit failure must be driven.
    with served(faults=[fault], rate_limit=15) as faulty, served(rate_limit=15) as clean:
        codes = {
            where: run_pasted(command, url) for where, url in (("faulty", faulty), ("clean", clean))
        }
    assert {where: code for where, (code, _) in codes.items()} == {"faulty": 1, "clean": 0}, {
        where: output for where, (_, output) in codes.items()
    }
