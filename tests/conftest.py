"""Shared fixtures: the reference server over real HTTP, on loopback, on a thread; failures
recorded on the in-process reference server, for the replay tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from conformance.records import Failure
from conformance.refserver.serve import serve
from tests.replaying import cancel_then_read_later, edit_a_sent_sms, record

# Seconds a test marked slow may take (the longest, the self-test on every fault, takes
# about 10 minutes alone); every other test gets pyproject's 2 minutes.
SLOW_TIMEOUT = 1500


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give tests marked slow the longer limit, unless they name their own."""
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


@contextmanager
def served(**options: object) -> Iterator[str]:
    """Run ``serve(port=0, **options)`` on a thread; yield its base URL; stop it after."""
    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=serve, kwargs={"port": 0, "out": lines.append, "stop": stop, **options}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lines, "serve() printed no base URL"
    try:
        yield lines[0].split(": ", 1)[1]
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "serve() did not shut down"


@pytest.fixture
def reference_over_http() -> Callable[..., object]:
    """``with reference_over_http(faults=[...]) as base_url: ...``"""
    return served


@pytest.fixture(scope="module")
def edit_sent() -> Failure:
    """A sent SMS edited on a server that accepts it (``edit-sent-accepted``): create, PUT."""
    return record(["edit-sent-accepted"], edit_a_sent_sms, "sms/update/drafts-only")


@pytest.fixture(scope="module")
def cancelled_sent() -> Failure:
    """An SMS cancelled before its send_in and sent all the same (``cancelled-still-sent``):
    create, PUT draft, 12 s, GET."""
    return record(["cancelled-still-sent"], cancel_then_read_later, "sms/send/cancelled-never-sent")
