"""Reads after writes (section 7): how long a target takes to show a change is not
documented. A read that broke a rule and held once re-read within the run's settle window
shows the ``visibility=eventual`` reading; the machine calls these ``settled`` steps."""

from __future__ import annotations

from collections.abc import Iterator

from conformance.checks import Finding, Step, check


@check("sms/read/settle-lag", on=("settled",))
def a_read_that_settled_shows_eventual_visibility(step: Step) -> Iterator[Finding]:
    request = step.exchange.request
    yield Finding(
        "sms/read/settle-lag",
        False,
        "not documented",
        f"held when read again {step.params.get('waited', '?')} s later: the target settled",
        message=f"{request.method} {request.path}",
        reading="visibility=eventual",
    )
