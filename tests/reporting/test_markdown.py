"""The Markdown summary a CI system shows beside the job."""

from __future__ import annotations

from conformance.reporting.markdown import to_markdown_text


def test_markdown_summary_says_how_many_rules_were_thinly_judged_and_boundaries_not_reached(
    report,
):
    assert (
        "coverage: 2 of 3 MUST/SHOULD rules judged fewer than 20 times; "
        "1 of 2 listed boundaries not reached." in to_markdown_text(report)
    )
