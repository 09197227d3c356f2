"""Line endings and control characters in text are not documented: a server that reads
CRLF back as LF, or leaves C0 controls out, is observed, not failed (audit O5); any other
change to the text still breaks roundtrip/text."""

from __future__ import annotations

import pytest

from conformance.checks import is_violation
from conformance.rules.objects import what_was_written_reads_back
from tests.rules.helpers import BASE, created


def text_findings(written: str, shown: str) -> list[tuple[str, bool]]:
    step = created({**BASE, "status": "draft", "text": written}, {"text": shown})
    return [
        (f.rule, is_violation(f))
        for f in what_was_written_reads_back(step)
        if f.rule.startswith("roundtrip/text")
    ]


@pytest.mark.parametrize(
    ("written", "shown"),
    [("one\r\ntwo", "one\ntwo"), ("one\rtwo", "one\ntwo"), ("a\x00b\x07c\x1bd", "abcd")],
)
def test_line_endings_or_control_characters_changed_are_only_observed(written, shown):
    assert text_findings(written, shown) == [("roundtrip/text-whitespace", False)]


@pytest.mark.parametrize(
    ("written", "shown"),
    [("one\r\ntwo", "one two"), ("a\x00b", "ab!"), ("one\ntwo", "onetwo")],
)
def test_any_other_change_to_the_text_still_breaks_the_roundtrip(written, shown):
    assert text_findings(written, shown) == [("roundtrip/text", True)]


def test_text_read_back_exactly_keeps_the_rule():
    assert text_findings("one\r\ntwo\x07", "one\r\ntwo\x07") == [("roundtrip/text", False)]
