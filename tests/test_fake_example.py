"""The README's worked example of testing one's own code against the fake: the snippet
between its ``fake example`` markers runs, as it is, as a user's test file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLE = re.compile(
    r"<!-- fake example: begin -->\n```python\n(.*?)```\n<!-- fake example: end -->", re.S
)
TEST_NAME = "def test_a_cancelled_reminder_is_never_sent("


def readme_example() -> str:
    found = EXAMPLE.findall(README.read_text(encoding="utf-8"))
    assert len(found) == 1, "the README has one fake example between its markers"
    return found[0]


def test_the_readme_example_passes_against_the_fake(pytester: pytest.Pytester):
    pytester.makepyfile(test_readme_example=readme_example())
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=1)


def test_the_readme_example_fails_when_the_fake_sends_cancelled_sms(pytester: pytest.Pytester):
    example = readme_example()
    assert TEST_NAME in example
    marked = example.replace(
        TEST_NAME,
        "@pytest.mark.close_sms_api(faults=['cancelled-still-sent'])\n" + TEST_NAME,
    )
    pytester.makepyfile(test_readme_example="import pytest\n" + marked)
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert fake.sent() == []*"])
